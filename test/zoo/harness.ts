import { expect, it } from 'vitest';
import { builtinArchitectures, loadForMerge, type MergeInputs } from '@zipit/cli';
import { inlineParameters, permuteModel, randomPointPermutations, SeededRandom, tensor, type FeatureStats, type Graph, type Tensor } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { computeStatistics, inspectGraph, mergeModels, type ModelInput } from '@zipit/pipeline';
import { ModelSession, ortExecutor } from '@zipit/runtime-ort';

/**
 * Issue 9's conformance matrix over torchvision models as PyTorch users export them
 * (test/zoo/fixtures, made by make_zoo.py; see fixtures/PROVENANCE.md). `zooCase` states, for
 * one export: recognised by a plugin or derived with its merge points; a self-merge reproduces
 * the model for average, permute and zipit; a copy with permuted hidden units is recovered;
 * every stop point that `inspect` lists merges and runs in onnxruntime; three models merge.
 * The suites are split over several files (zoo-*.test.ts) so they run in parallel.
 */
export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** Relative logit tolerance of every "equals A" check: max |merged − A| / max |A|. */
export const TOLERANCE = 1e-4;
const IMAGES = Number(process.env.ZOO_IMAGES ?? 8);

/**
 * A self-merge with default options must be exact too (issue 9 item 6): BatchNorm-kept exports
 * get the reference's BatchNorm reset, skipped when the zip reproduces its inputs (every point
 * merges exact twins); folded ones get REPAIR, which measures the sources and the merged model
 * alike.
 */
const DEFAULTS_EXACT = true;

export interface ZooCase {
  file: string;
  /** Plugin that recognises it, or null when the merge graph is derived. */
  plugin: string | null;
  size: number;
  /**
   * Methods whose permuted-copy recovery is not yet exact on 8 images, with the issue item that
   * owns the fix: their figures are printed, not asserted. Self-merges are asserted for every method.
   */
  knownInexact?: Partial<Record<'permute' | 'zipit', string>>;
}

export function images(size: number, seed = 3): Tensor<'float32'> {
  return new SeededRandom(seed).normalTensor([IMAGES, 3, size, size]);
}

/** The graph's outputs on `x`; a graph that fixes its batch size (vit.fixed) runs on `x` in batches of that size. */
export async function run(graph: Graph, x: Tensor): Promise<Record<string, Float32Array>> {
  const session = await ModelSession.create(graph, { threads: 1 });
  try {
    const input = graph.inputs.find((i) => !graph.initializers.has(i.name))!;
    const b = typeof input.shape?.[0] === 'number' ? input.shape[0] : x.shape[0];
    const per = x.data.length / x.shape[0];
    const parts: Record<string, Float32Array>[] = [];
    for (let at = 0; at < x.shape[0]; at += b) {
      const out = await session.run({ [input.name]: tensor('float32', [b, ...x.shape.slice(1)], (x.data as Float32Array).slice(at * per, (at + b) * per)) });
      parts.push(Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array])));
    }
    return Object.fromEntries(Object.keys(parts[0]).map((k) => [k, concat(parts.map((p) => p[k]))]));
  } finally {
    await session.release();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function relativeError(got: Float32Array, want: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Worst relative error of every model's output of `merged` against the reference logits. */
export async function worstError(merged: Graph, models: readonly ModelInput[], want: Float32Array, x: Tensor): Promise<number> {
  const out = await run(merged, x);
  return Math.max(...models.map((m) => relativeError(out[`${m.name}:logits`], want)));
}

interface MergeOptions {
  stopAt?: number | 'all';
  stats?: FeatureStats;
  /** BatchNorm reset / REPAIR (default false: the zip alone, whose structure must be exact). */
  defaults?: boolean;
}

export async function merge(inputs: MergeInputs, models: readonly ModelInput[], x: Tensor<'float32'>, method: string, opts: MergeOptions = {}) {
  return mergeModels(models, {
    executor: ortExecutor,
    method,
    stopAt: opts.stopAt ?? 'all',
    data: () => [{ x }],
    mergeGraph: inputs.mergeGraph,
    threads: 1,
    resetBatchNorm: opts.defaults ?? false,
    stats: opts.stats,
  });
}

function statistics(inputs: MergeInputs, models: readonly ModelInput[], x: Tensor<'float32'>): Promise<FeatureStats> {
  return computeStatistics(models, inputs.mergeGraph, [{ x }], { executor: ortExecutor, threads: 1 });
}

/** Registers the matrix for one export. */
export function zooCase(c: ZooCase): void {
  it(`${c.file}: recognised or derived, self-merges, recovers a permuted copy, merges at every stop point and with three models`, async () => {
    const figures: string[] = [];
    const file = `${FIXTURES}${c.file}`;
    const inputs = await loadForMerge([file, file]);
    const mg = inputs.mergeGraph;
    expect(inputs.architecture === null ? null : c.plugin, 'recognising plugin').toBe(c.plugin);
    expect(mg.points.length).toBeGreaterThan(0);
    expect(mg.points.some((p) => p.stopPoint)).toBe(true);
    // One behaviour (issue 9 item 4): `zipit inspect` lists exactly the points and stop points merging uses.
    const inspected = inspectGraph(inlineParameters(await readOnnxFile(file)), file, builtinArchitectures()).mergeGraph;
    expect(inspected.points.map((p) => [p.name, p.stopPoint])).toEqual(mg.points.map((p) => [p.name, p.stopPoint]));
    const x = images(c.size);
    const a = inputs.models[0].graph;
    const want = (await run(a, x)).logits;

    const selfStats = await statistics(inputs, inputs.models, x);
    for (const method of ['average', 'permute', 'zipit'] as const) {
      const zipErr = await worstError((await merge(inputs, inputs.models, x, method, { stats: selfStats })).graph, inputs.models, want, x);
      // Default options: the BatchNorm reset or REPAIR after the zip.
      const err = await worstError((await merge(inputs, inputs.models, x, method, { stats: selfStats, defaults: true })).graph, inputs.models, want, x);
      figures.push(`${c.file} ${method}: self-merge relative error ${zipErr.toExponential(2)} zipped, ${err.toExponential(2)} with defaults`);
      expect(zipErr, `${method} self-merge`).toBeLessThan(TOLERANCE);
      if (DEFAULTS_EXACT) expect(err, `${method} self-merge with defaults`).toBeLessThan(TOLERANCE);
    }

    const permuted: ModelInput = { ...inputs.models[1], graph: permuteModel(a, mg, randomPointPermutations(mg, new SeededRandom(9))) };
    expect(relativeError((await run(permuted.graph, x)).logits, want), 'the permuted copy computes the same').toBeLessThan(TOLERANCE);
    const pair = [inputs.models[0], permuted];
    const pairStats = await statistics(inputs, pair, x);
    for (const method of ['permute', 'zipit'] as const) {
      const err = await worstError((await merge(inputs, pair, x, method, { stats: pairStats })).graph, pair, want, x);
      figures.push(`${c.file} ${method}: permuted copy recovered to ${err.toExponential(2)}`);
      if (!c.knownInexact?.[method]) expect(err, `${method} recovers the permuted copy`).toBeLessThan(TOLERANCE);
    }

    // Every stop point merges (zipit, the default method) and the merged model runs.
    for (const p of mg.points.filter((q) => q.stopPoint)) {
      const out = await run((await merge(inputs, pair, x, 'zipit', { stopAt: p.index, stats: pairStats })).graph, x);
      for (const m of pair) expect(out[`${m.name}:logits`].every(Number.isFinite), p.name).toBe(true);
    }

    // Three models: A, its permuted copy and a copy with perturbed weights.
    const rng = new SeededRandom(21);
    const noisy = new Map(a.initializers);
    for (const [name, t] of a.initializers) {
      if (t.dtype !== 'float32' || t.data.length < 2 || name.includes('running_var')) continue;
      noisy.set(
        name,
        tensor(
          'float32',
          t.shape,
          Float32Array.from(t.data as Float32Array, (v) => v * (1 + 0.05 * (rng.next() * 2 - 1))),
        ),
      );
    }
    const three: ModelInput[] = [...pair, { name: 'noisy', file, graph: { ...a, initializers: noisy } }];
    const out3 = await run((await merge(inputs, three, x, 'zipit')).graph, x);
    for (const m of three) expect(out3[`${m.name}:logits`].every(Number.isFinite)).toBe(true);
    if (process.env.ZOO_TABLE) console.log(figures.join('\n'));
  });
}
