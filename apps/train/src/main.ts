import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '@zipit/core';
import { openDataset, parseDatasetSpec, type BuiltinSpec } from '@zipit/data';
import { argmaxRows, evaluateModel, runModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { writeOnnxFile } from '@zipit/io-onnx/node';
import { useWasmBackend } from './backend.js';
import { exportGraph } from './export-onnx.js';
import { FIXTURES } from './fixtures.js';
import { renderProvenance, type FixtureEntry, type Manifest } from './provenance.js';
import { forward } from './models.js';
import { TfOps, toOnnxParameters } from './tf-ops.js';
import { testAccuracy, train, type TrainResult } from './train.js';

/**
 * `pnpm train`: trains the fixture models of {@link FIXTURES} on tfjs' wasm backend, exports each
 * to ONNX, checks the export against tfjs in onnxruntime, measures test accuracy in onnxruntime
 * and writes `fixtures/models/<name>.onnx`, `manifest.json` and `PROVENANCE.md`.
 *
 *   pnpm train [--only NAME …] [--out DIR] [--epochs N]
 *
 * `--epochs` overrides every model's epoch count (quick checks of the pipeline into another `--out`).
 */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', multiple: true },
      out: { type: 'string', default: join(REPO, 'fixtures/models') },
      epochs: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: pnpm train [--only NAME …] [--out DIR] [--epochs N]\nfixtures: ${FIXTURES.map((f) => f.name).join(', ')}`);
    return;
  }
  const only = values.only ?? [];
  const unknown = only.filter((n) => !FIXTURES.some((f) => f.name === n));
  if (unknown.length) throw new Error(`unknown fixture ${unknown.join(', ')}; known: ${FIXTURES.map((f) => f.name).join(', ')}`);
  const epochs = values.epochs === undefined ? undefined : Number(values.epochs);
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs > 0)) throw new Error(`--epochs must be a positive integer, got ${values.epochs}`);
  const selected = (only.length ? FIXTURES.filter((f) => only.includes(f.name)) : FIXTURES).map((f) => (epochs ? { ...f, epochs } : f));
  const out = resolve(values.out!);
  await mkdir(out, { recursive: true });

  await useWasmBackend();
  const manifestPath = join(out, 'manifest.json');
  const manifest: Manifest = only.length ? await readManifest(manifestPath) : { generator: '', environment: '', models: [] };
  manifest.generator = `pnpm train${only.map((n) => ` --only ${n}`).join('')}${epochs ? ` --epochs ${epochs}` : ''}`;
  manifest.environment = `Node ${process.version}, @tensorflow/tfjs ${tf.version.tfjs} on the wasm backend (SIMD, 1 thread), ${process.platform}/${process.arch}`;
  const started = performance.now();
  for (const config of selected) {
    const result = await train(config, (line) => console.log(line));
    const entry = await exportAndCheck(result, out);
    manifest.models = [...manifest.models.filter((m) => m.name !== entry.name), entry].sort(
      (a, b) => FIXTURES.findIndex((f) => f.name === a.name) - FIXTURES.findIndex((f) => f.name === b.name),
    );
    result.params.dispose();
    await writeAtomically(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    await writeAtomically(join(out, 'PROVENANCE.md'), renderProvenance(manifest));
    console.log(
      `${entry.name}: test accuracy ${(100 * entry.testAccuracy).toFixed(2)}% (onnxruntime, ${entry.testSamples} images), ` +
        `export max |Δlogit| ${entry.exportMaxAbsDiff.toExponential(2)}, trained in ${entry.trainSeconds.toFixed(0)} s → ${entry.file}`,
    );
  }
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

async function exportAndCheck(result: TrainResult, out: string): Promise<FixtureEntry> {
  const { config } = result;
  const spec = parseDatasetSpec(config.data) as BuiltinSpec;
  const graph = exportGraph(result.modelConfig, toOnnxParameters(result.params), {
    metadata: {
      'zipit.task': config.data,
      'zipit.classes': result.classes.join(','),
      'zipit.preprocess': JSON.stringify({
        size: result.preprocessing.size,
        channels: result.preprocessing.channels,
        mean: result.preprocessing.mean[0],
        std: result.preprocessing.std[0],
      }),
      'zipit.seed': String(config.seed),
    },
  });
  const test = await openDataset({ ...spec, split: 'test' }, { defaultSplit: 'test', input: graph.inputs[0] });

  // The export must reproduce the tfjs model: compare logits on the first 64 test images.
  let exportMaxAbsDiff = 0;
  for await (const { batch, values } of runModel(graph, test.batches({ batchSize: 64, limit: 64 }), { executor })) {
    const x = batch.x;
    const expected = tf.tidy(() => {
      const nhwc = tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]);
      return forward(new TfOps(result.params, false), nhwc, result.modelConfig).dataSync() as Float32Array;
    });
    const actual = values.logits.data as Float32Array;
    for (let i = 0; i < actual.length; i++) exportMaxAbsDiff = Math.max(exportMaxAbsDiff, Math.abs(actual[i] - expected[i]));
  }
  if (!(exportMaxAbsDiff < 1e-3)) throw new Error(`${config.name}: onnxruntime and tfjs disagree by ${exportMaxAbsDiff} on the test images`);

  let correct = 0;
  const evaluation = await evaluateModel(graph, test.batches({ batchSize: 256 }), {
    executor,
    keepLogits: false,
    onBatch: ({ logits, labels }) => {
      const predicted = argmaxRows(logits[0]);
      predicted.forEach((p, i) => {
        if (BigInt(p) === labels![i]) correct++;
      });
    },
  });
  const tfjs = await testAccuracy(result);

  const file = join(out, `${config.name}.onnx`);
  await writeOnnxFile(graph, file);
  const bytes = await readFile(file);
  const parameters = [...graph.initializers.values()].reduce((n, t) => n + sizeOf(t.shape), 0);
  return {
    name: config.name,
    file: `${config.name}.onnx`,
    arch: result.modelConfig.arch,
    width: result.modelConfig.width,
    classes: [...result.classes],
    data: config.data,
    seed: config.seed,
    epochs: config.epochs,
    batchSize: config.batchSize,
    lr: config.lr,
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    warmup: config.warmup,
    augment: config.augment,
    preprocessing: { ...result.preprocessing },
    trainSamples: result.trainSamples,
    testSamples: evaluation.samples,
    testAccuracy: correct / evaluation.samples,
    tfjsTestAccuracy: tfjs.accuracy,
    exportMaxAbsDiff,
    trainSeconds: result.seconds,
    history: result.history,
    parameters,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

async function readManifest(path: string): Promise<Manifest> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch {
    return { generator: '', environment: '', models: [] };
  }
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
