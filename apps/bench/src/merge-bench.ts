/**
 * Whole-merge benchmark (issue: end to end). On a pair of models (the shipped ResNet-20 fixtures
 * when present, else two seeded random ResNet-20s) and 512 merge images (MNIST 0–4 and 5–9,
 * decoded into memory first so that both sides read the same batches): seconds per stage of
 * `mergeModels` (statistics pass, matching, zip, BatchNorm reset), evaluation separately, peak
 * RSS, and the ratio of the whole merge (without evaluation) to plain onnxruntime forward passes
 * of the input models over the same data, measured in this run. Target: ≤ 2×.
 * Run: pnpm bench merge [A.onnx B.onnx]
 */
import { existsSync } from 'node:fs';
import { buildResNet20 } from '@zipit/arch-resnet';
import { inlineParameters } from '@zipit/core';
import { openDataset } from '@zipit/data';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { evaluateTasks, mergeModels, runModel, type Batch, type ModelInput } from '@zipit/pipeline';

const DEFAULT_PAIR = ['fixtures/models/resnet20_mnist_0-4.onnx', 'fixtures/models/resnet20_mnist_5-9.onnx'];

async function collect(spec: string, limit: number, input: ModelInput['graph']['inputs'][number], split: 'train' | 'test'): Promise<Batch[]> {
  const d = await openDataset(spec, { defaultSplit: split, input });
  const out: Batch[] = [];
  for await (const b of d.batches({ batchSize: 64, limit })) out.push(b);
  return out;
}

export async function run(args: string[]): Promise<void> {
  const files = args.length >= 2 ? args.slice(0, 2) : DEFAULT_PAIR.every((f) => existsSync(f)) ? DEFAULT_PAIR : null;
  const models: ModelInput[] = files
    ? await Promise.all(files.map(async (file, k) => ({ name: `m${k}`, graph: inlineParameters(await readOnnxFile(file)), file })))
    : [1, 2].map((seed) => ({ name: `m${seed}`, graph: buildResNet20({ seed, classes: 5 }), file: `resnet20-seed${seed}` }));
  console.log(`models: ${models.map((m) => m.file).join(', ')}${files ? '' : ' (random init; no fixtures found)'}`);
  const input = models[0].graph.inputs[0];
  const [a, b] = await Promise.all([collect('mnist:0-4', 256, input, 'train'), collect('mnist:5-9', 256, input, 'train')]);
  const batches: Batch[] = a.flatMap((x, i) => (b[i] ? [{ x: x.x }, { x: b[i].x }] : [{ x: x.x }]));
  const images = batches.reduce((t, x) => t + x.x.shape[0], 0);

  // Warm-up: load onnxruntime and JIT the JS paths once.
  for await (const _ of runModel(models[0].graph, batches.slice(0, 1), { executor })) void _;

  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);

  const tForward = performance.now();
  for (const m of models) for await (const _ of runModel(m.graph, batches, { executor })) void _;
  const forward = (performance.now() - tForward) / 1000;

  const rssBefore = process.memoryUsage().rss;
  peak = rssBefore;
  const tMerge = performance.now();
  const r = await mergeModels(models, { method: 'zipit', data: () => batches, executor });
  const merge = (performance.now() - tMerge) / 1000;
  const mergePeak = peak;

  const tMergedPass = performance.now();
  for await (const _ of runModel(r.graph, batches, { executor })) void _;
  const mergedPass = (performance.now() - tMergedPass) / 1000;

  const [ta, tb] = await Promise.all([collect('mnist:0-4', Infinity, input, 'test'), collect('mnist:5-9', Infinity, input, 'test')]);
  const tEval = performance.now();
  const acc = await evaluateTasks(
    r.graph,
    [
      { name: 'A', output: r.outputs[0].value, data: () => ta },
      { name: 'B', output: r.outputs[1].value, data: () => tb },
    ],
    { executor },
  );
  const evaluation = (performance.now() - tEval) / 1000;
  clearInterval(sampler);

  const s = (x: number | undefined) => (x ?? 0).toFixed(3).padStart(8);
  console.log(`merge data: ${images} images; ${r.points.length} merge points zipped; ${r.batchNorm.reset.length} BatchNorm layers reset`);
  console.log(`stage                         seconds`);
  console.log(`statistics pass              ${s(r.seconds.statistics)}`);
  console.log(`matching                     ${s(r.seconds.matching)}`);
  console.log(`zip                          ${s(r.seconds.zip)}`);
  console.log(`BatchNorm reset pass         ${s(r.seconds.batchnorm)}`);
  console.log(`whole merge (no evaluation)  ${s(merge)}`);
  console.log(`evaluation (${ta.length + tb.length} test batches)  ${s(evaluation)}   joint ${(100 * acc.joint).toFixed(2)} %`);
  console.log(`baseline: plain forward passes of the ${models.length} input models over the same data ${s(forward)}`);
  console.log(`floor: those passes + one pass of the merged model ${s(forward + mergedPass)}`);
  console.log(
    `ratio whole merge / input forward passes: ${(merge / forward).toFixed(2)}×   (/ floor: ${(merge / (forward + mergedPass)).toFixed(2)}×; target ≤ 2×)`,
  );
  console.log(`peak RSS during the merge: ${(mergePeak / 2 ** 20).toFixed(0)} MiB (before: ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`);
}
