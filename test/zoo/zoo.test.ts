import { describe, expect, it } from 'vitest';
import { loadForMerge, type MergeInputs } from '@zipit/cli';
import { permuteModel, randomPointPermutations, SeededRandom, tensor, type Graph, type Tensor } from '@zipit/core';
import { mergeModels, type ModelInput } from '@zipit/pipeline';
import { ModelSession, ortExecutor } from '@zipit/runtime-ort';

/**
 * Issue 9's conformance matrix: torchvision models as PyTorch users export them (test/zoo/fixtures,
 * made by make_zoo.py; see PROVENANCE.md). For each: recognised by a plugin or derived with its
 * merge points; a self-merge reproduces the model for average, permute and zipit with default
 * options; a copy with permuted hidden units is recovered; every stop point that `inspect`
 * lists merges and runs in onnxruntime; three models merge.
 */
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** Relative logit tolerance of every "equals A" check: max |merged − A| / max |A|. */
const TOLERANCE = 1e-4;
const IMAGES = Number(process.env.ZOO_IMAGES ?? 8);
/**
 * Whether a self-merge with default options (BatchNorm reset, REPAIR) must be exact too. Not yet:
 * issue 9 items 6/7 (numerics helper) — REPAIR and the BatchNorm reset re-estimate statistics
 * that differ from the exported ones; the figures are printed instead.
 */
const DEFAULTS_EXACT = false;

interface ZooCase {
  file: string;
  /** Plugin that recognises it, or null when the merge graph is derived. */
  plugin: string | null;
  size: number;
  /**
   * Methods whose self-merge / permuted-copy recovery is not yet exact on 8 images, with the
   * issue item that owns the fix: their figures are printed, not asserted.
   */
  knownInexact?: Partial<Record<string, string>>;
}

const TIES = 'issue 9 items 6/7 (numerics helper): ties among channels that are dead or saturated on 8 images at 1×1 resolution';

const ZOO: ZooCase[] = [
  // issue 9 items 6/7 (numerics helper): exact with 64 images (3.3e-5), not with 8.
  { file: 'resnet18.folded.onnx', plugin: 'resnet', size: 32, knownInexact: { permute: TIES, zipit: TIES } },
  { file: 'resnet18.bn.onnx', plugin: 'resnet', size: 32, knownInexact: { permute: TIES, zipit: TIES } },
  { file: 'resnet50.folded.onnx', plugin: 'resnet', size: 32, knownInexact: { permute: TIES, zipit: TIES } },
  { file: 'vgg11_bn.folded.onnx', plugin: null, size: 224 },
  { file: 'densenet121.bn.onnx', plugin: null, size: 32 },
  // issue 9 items 6/7 (numerics helper): ReLU6/SiLU channels dead at the observed value but alive
  // before the depthwise convolution tie; a non-identity match moves the outputs (0.27 with 64 images).
  { file: 'mobilenet_v2.folded.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } },
  { file: 'efficientnet_b0.bn.onnx', plugin: null, size: 32, knownInexact: { permute: TIES, zipit: TIES } },
  { file: 'vit.dyn.onnx', plugin: 'vit', size: 32 },
  { file: 'convnext.fixed.onnx', plugin: null, size: 32 },
];

function images(size: number, seed = 3): Tensor<'float32'> {
  return new SeededRandom(seed).normalTensor([IMAGES, 3, size, size]);
}

async function run(graph: Graph, x: Tensor): Promise<Record<string, Float32Array>> {
  const session = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await session.run({ [graph.inputs.find((i) => !graph.initializers.has(i.name))!.name]: x });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function relativeError(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Worst relative error of every model's output of `merged` against the reference logits. */
async function worstError(merged: Graph, models: readonly ModelInput[], want: Float32Array, x: Tensor): Promise<number> {
  const out = await run(merged, x);
  return Math.max(...models.map((m) => relativeError(out[`${m.name}:logits`], want)));
}

/** Figures per case, printed at the end (`ZOO_TABLE=1`) for the README and the issue. */
const figures: string[] = [];

async function merge(inputs: MergeInputs, x: Tensor, method: string, stopAt: number | 'all' = 'all', models = inputs.models, resetBatchNorm = true) {
  return mergeModels(models, { executor: ortExecutor, method, stopAt, data: () => [{ x }], mergeGraph: inputs.mergeGraph, threads: 1, resetBatchNorm });
}

describe.each(ZOO)('torchvision zoo: $file', (c) => {
  it('is recognised or derived, self-merges, recovers a permuted copy, merges at every stop point and with three models', async () => {
    const file = `${FIXTURES}${c.file}`;
    const inputs = await loadForMerge([file, file]);
    const mg = inputs.mergeGraph;
    expect(inputs.architecture === null ? null : c.plugin, 'recognising plugin').toBe(c.plugin);
    expect(mg.points.length).toBeGreaterThan(0);
    expect(mg.points.some((p) => p.stopPoint)).toBe(true);
    const x = images(c.size);
    const a = inputs.models[0].graph;
    const want = (await run(a, x)).logits;

    for (const method of ['average', 'permute', 'zipit']) {
      // The zip alone (no BatchNorm reset / REPAIR): structure must be exact.
      const zipped = await merge(inputs, x, method, 'all', inputs.models, false);
      const zipErr = await worstError(zipped.graph, inputs.models, want, x);
      // Default options, BatchNorm reset or REPAIR included (zipit only: the passes are slow).
      const err = method === 'zipit' ? await worstError((await merge(inputs, x, method)).graph, inputs.models, want, x) : NaN;
      figures.push(`${c.file} ${method}: self-merge relative error ${zipErr.toExponential(2)} zipped, ${err.toExponential(2)} with defaults`);
      const known = c.knownInexact?.[method];
      if (!known) expect(zipErr, `${method} self-merge, zip alone`).toBeLessThan(TOLERANCE);
      // issue 9 items 6/7 (numerics helper): with defaults, BatchNorm reset and REPAIR still move a self-merge.
      if (DEFAULTS_EXACT) expect(err, `${method} self-merge with defaults`).toBeLessThan(TOLERANCE);
    }

    const perms = randomPointPermutations(mg, new SeededRandom(9));
    const permuted: ModelInput = { ...inputs.models[1], graph: permuteModel(a, mg, perms) };
    expect(relativeError((await run(permuted.graph, x)).logits, want), 'the permuted copy computes the same').toBeLessThan(TOLERANCE);
    const pair = [inputs.models[0], permuted];
    for (const method of ['permute', 'zipit']) {
      const r = await merge(inputs, x, method, 'all', pair, false);
      const known = c.knownInexact?.[method];
      const err = await worstError(r.graph, pair, want, x);
      figures.push(`${c.file} ${method}: permuted copy recovered to ${err.toExponential(2)}`);
      if (!known) expect(err, `${method} recovers the permuted copy`).toBeLessThan(TOLERANCE);
    }

    // Every stop point merges (zipit, the default) and the merged model runs; statistics computed once.
    const first = await merge(inputs, x, 'zipit', 'all', pair, false);
    for (const p of mg.points.filter((q) => q.stopPoint)) {
      const r = await mergeModels(pair, { executor: ortExecutor, method: 'zipit', stopAt: p.index, data: () => [{ x }], mergeGraph: mg, stats: first.stats, threads: 1, resetBatchNorm: false });
      const out = await run(r.graph, x);
      for (const m of pair) expect(out[`${m.name}:logits`].every(Number.isFinite), `${p.name}`).toBe(true);
    }

    // Three models: A, its permuted copy and a copy with perturbed weights.
    const rng = new SeededRandom(21);
    const noisy = new Map(a.initializers);
    for (const [name, t] of a.initializers) {
      if (t.dtype !== 'float32' || t.data.length < 2 || name.includes('running_var')) continue;
      const d = Float32Array.from(t.data as Float32Array, (v) => v * (1 + 0.05 * (rng.next() * 2 - 1)));
      noisy.set(name, tensor('float32', t.shape, d));
    }
    const three: ModelInput[] = [...pair, { name: 'noisy', file, graph: { ...a, initializers: noisy } }];
    const r3 = await merge(inputs, x, 'zipit', 'all', three, false);
    const out3 = await run(r3.graph, x);
    for (const m of three) expect(out3[`${m.name}:logits`].every(Number.isFinite)).toBe(true);
  });
});

describe('torchvision zoo: fixed and dynamic batch', () => {
  it('are one architecture: a fixed-batch and a dynamic-batch export of ResNet-18 merge, and the merged model keeps the fixed batch', async () => {
    const fixed = `${FIXTURES}resnet18.folded.onnx`;
    const dynamic = `${FIXTURES}resnet18.dyn.onnx`;
    const mixed = await loadForMerge([fixed, dynamic]);
    expect(mixed.batch).toBeNull();
    expect(mixed.models.map((m) => m.graph.inputs[0].shape?.[0])).toEqual(['batch', 'batch']);
    const both = await loadForMerge([fixed, fixed]);
    expect(both.batch).toBe(1);
    const x = images(32);
    const r = await merge(mixed, x, 'average', 'all', mixed.models, false);
    expect(await worstError(r.graph, mixed.models, (await run(mixed.models[0].graph, x)).logits, x)).toBeLessThan(TOLERANCE);
  });

  it('refuses a fixed-batch export whose graph bakes the batch in (torchvision ViT), naming the node', async () => {
    await expect(loadForMerge([`${FIXTURES}vit.fixed.onnx`, `${FIXTURES}vit.fixed.onnx`])).rejects.toThrow(/fixed batch of 1 that its computation depends on .*Reshape/);
  });
});

describe('torchvision zoo: figures', () => {
  it('prints them with ZOO_TABLE=1', () => {
    if (process.env.ZOO_TABLE) console.log(figures.join('\n'));
    expect(figures.length).toBeGreaterThan(0);
  });
});
