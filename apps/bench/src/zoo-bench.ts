/**
 * Zoo-scale merge benchmark (issue 9): two torchvision-shaped ResNet-50 at 224×224 (built with
 * arch-resnet's builder at full width, seeded random weights: ~100 MB each, built here, never
 * stored), zipit fully zipped over the same images, and four VGG-11-BN with a 4096-wide
 * classifier merged at once. Prints seconds per stage of `mergeModels`, peak RSS, and the
 * ratio to plain forward passes of the input models over the same images, measured in this run
 * (goal for ResNet-50: whole merge ≤ 1.5× those passes; the statistics pass at their floor).
 *
 *   pnpm --filter @zipit/bench bench:zoo [--images N] [--batch B] [--folded] [--skip-vgg] [--skip-resnet] [--profile]
 *
 * Images are seeded normal noise in the model's input layout (the statistics cost does not
 * depend on content). `--folded` merges the BatchNorm-folded export (REPAIR instead of a
 * BatchNorm reset). `--profile` prints the statistics pass's slowest operators (onnxruntime's
 * profile) and how the statistics graph's time splits between model and statistics nodes.
 */
import { buildResNet50 } from '@zipit/arch-resnet';
import { GraphBuilder, SeededRandom, type Graph } from '@zipit/core';
import { mergeModels, runModel, type Batch, type ModelInput } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function images(count: number, batch: number, shape: number[], seed: number): Batch[] {
  const r = new SeededRandom(seed);
  const out: Batch[] = [];
  for (let done = 0; done < count; done += batch) out.push({ x: r.normalTensor([Math.min(batch, count - done), ...shape]) });
  return out;
}

/**
 * torchvision's VGG-11-BN (`cfg A` with BatchNorm, `classifier`: Linear 512·s² → 4096 → 4096 →
 * classes with ReLUs; Dropout is the identity in eval mode), at `size` px: 32 px leaves 1×1
 * after the five max-pools, so the flatten is channel-only.
 */
export function buildVgg11Bn(seed: number, size = 32, classes = 10): Graph {
  const b = new GraphBuilder({ seed });
  let x = b.input('input', ['batch', 3, size, size]);
  let i = 0;
  for (const c of [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] as const) {
    if (c === 'M') {
      x = b.maxPool(x, { kernel: 2, stride: 2, name: `features.${i++}` });
      continue;
    }
    x = b.conv(x, c, { kernel: 3, pad: 1, name: `features.${i++}` });
    x = b.batchNorm(x, { name: `features.${i++}` });
    x = b.relu(x, { name: `features.${i++}` });
  }
  x = b.flatten(x);
  x = b.relu(b.gemm(x, 4096, { name: 'classifier.0' }));
  x = b.relu(b.gemm(x, 4096, { name: 'classifier.3' }));
  b.output(b.gemm(x, classes, { name: 'classifier.6' }), 'logits');
  return b.build();
}

class PeakRss {
  peak = process.memoryUsage().rss;
  private readonly timer = setInterval(() => this.sample(), 20);
  sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  reset(): void {
    this.peak = process.memoryUsage().rss;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const sec = (s: number | undefined) => (s ?? 0).toFixed(2).padStart(8);

async function forwardSeconds(models: readonly ModelInput[], batches: readonly Batch[]): Promise<number> {
  const t = performance.now();
  for (const m of models) for await (const _ of runModel(m.graph, batches, { executor })) void _;
  return (performance.now() - t) / 1000;
}

async function bench(label: string, models: ModelInput[], batches: Batch[], rss: PeakRss): Promise<void> {
  const count = batches.reduce((n, b) => n + b.x.shape[0], 0);
  console.log(`\n${label}: ${models.length} models, ${count} merge images in batches of ${batches[0].x.shape[0]}`);
  // Warm-up: load onnxruntime and JIT the JavaScript paths once.
  for await (const _ of runModel(models[0].graph, batches.slice(0, 1), { executor })) void _;
  const forward = await forwardSeconds(models, batches);
  rss.reset();
  const before = rss.peak;
  const t = performance.now();
  const r = await mergeModels(models, { method: 'zipit', executor, data: () => batches });
  const whole = (performance.now() - t) / 1000;
  rss.sample();
  const peak = rss.peak;
  const mergedPass = await forwardSeconds([{ name: 'merged', graph: r.graph, file: '' }], batches);
  console.log(
    `zipped ${r.points.length} merge points; ${r.batchNorm.reset.length} BatchNorm layers reset, ${r.batchNorm.repaired?.length ?? 0} layers repaired`,
  );
  console.log('stage                                  seconds');
  console.log(`statistics pass                       ${sec(r.seconds.statistics)}`);
  console.log(`matching                              ${sec(r.seconds.matching)}`);
  console.log(`zip                                   ${sec(r.seconds.zip)}`);
  console.log(`BatchNorm reset / REPAIR passes       ${sec(r.seconds.batchnorm)}`);
  console.log(`whole merge                           ${sec(whole)}`);
  console.log(`baseline: forward passes of the ${models.length} inputs ${sec(forward)}`);
  console.log(`one pass of the merged model          ${sec(mergedPass)}`);
  console.log(`ratio whole merge / input forward passes: ${(whole / forward).toFixed(2)}× (goal ≤ 1.5×)`);
  console.log(`ratio statistics pass / input forward passes: ${((r.seconds.statistics ?? 0) / forward).toFixed(2)}×`);
  console.log(`peak RSS during the merge: ${mib(peak)} (before: ${mib(before)})`);
}

async function profileStatistics(models: ModelInput[], batches: Batch[]): Promise<void> {
  const { collectStatistics, prepareModels } = await import('@zipit/pipeline');
  const { observationGraph } = await import('@zipit/core');
  const { mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'zoo-profile-'));
  try {
    const mg = prepareModels(models);
    const observed = models.map((m) => observationGraph(m.graph, mg));
    const spaces = mg.points.map((p, i) => ({ name: p.name, values: observed.map((o) => o.values[i]), axis: p.observe.axis }));
    const t = performance.now();
    await collectStatistics(
      observed.map((o) => o.graph),
      spaces,
      batches,
      { executor, profilePrefix: join(dir, 'stats') },
    );
    console.log(`\nprofiled statistics pass: ${((performance.now() - t) / 1000).toFixed(2)} s`);
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) {
      console.log('(no onnxruntime profile written: this executor does not take profilePrefix)');
      return;
    }
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { cat: string; name: string; dur: number; args?: { op_name?: string } }[];
    const byOp = new Map<string, number>();
    let model = 0;
    let stats = 0;
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
      const op = e.args?.op_name ?? '?';
      byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
      if (e.name.startsWith('model')) model += e.dur;
      else stats += e.dur;
    }
    console.log(`kernel time: model nodes ${(model / 1e6).toFixed(2)} s, statistics nodes ${(stats / 1e6).toFixed(2)} s`);
    for (const [op, d] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${op.padEnd(24)} ${(d / 1e6).toFixed(2)} s`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const count = option('images', 1000);
const batch = option('batch', 16);
const rss = new PeakRss();
try {
  if (!flag('skip-resnet')) {
    const folded = flag('folded');
    const models = [1, 2].map((seed) => ({
      name: `resnet50_s${seed}`,
      graph: buildResNet50({ seed, width: 1, imageSize: 224, classes: 1000, foldedBatchNorm: folded }),
      file: `resnet50-seed${seed}${folded ? '-folded' : ''}`,
    }));
    const batches = images(count, batch, [3, 224, 224], 11);
    await bench(`torchvision ResNet-50 at 224×224${folded ? ' (BatchNorm folded)' : ''}`, models, batches, rss);
    if (flag('profile')) await profileStatistics(models, batches);
  }
  if (!flag('skip-vgg')) {
    const models = [1, 2, 3, 4].map((seed) => ({ name: `vgg11_bn_s${seed}`, graph: buildVgg11Bn(seed), file: `vgg11_bn-seed${seed}` }));
    await bench('VGG-11-BN, 4096-wide classifier, at 32×32', models, images(option('vgg-images', count), batch * 4, [3, 32, 32], 12), rss);
  }
} finally {
  rss.stop();
}
