import { beforeAll, expect, it } from 'vitest';
import {
  defaultMatcherRegistry, matchMergeGraph, permuteModel, randomPointPermutations, SeededRandom, zipGraphs,
  type Graph, type MatcherParams, type MergeGraph, type PointTransform, type StopAt, type Tensor,
} from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { computeStatistics, type Batch, type ModelInput } from '@zipit/pipeline';
import { prepareVit } from './prepare.js';
import { vitArch } from './vit-arch.js';

/**
 * Test machinery shared by the ViT conformance tests (not exported from the package): run
 * graphs in onnxruntime, statistics → block-aware matching → zip, hidden-unit permutations.
 */

export const TOLERANCE = 1e-4;

/** Seeded standard-normal images [count, C, S, S] as one batch. */
export function images(shape: readonly number[], count: number, seed: number): Batch {
  return { x: new SeededRandom(seed).normalTensor([count, ...shape.slice(1)]) };
}

export async function run(graph: Graph, x: Tensor<'float32'>): Promise<Record<string, Float32Array>> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await s.run({ [graph.inputs.find((i) => !graph.initializers.has(i.name))!.name]: x });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A copy of `graph` whose points are permuted at random (heads whole, one head order per attention layer). */
export function permuted(graph: Graph, mg: MergeGraph, seed: number): { graph: Graph; perms: Int32Array[] } {
  const perms = randomPointPermutations(mg, new SeededRandom(seed));
  return { graph: permuteModel(graph, mg, perms), perms };
}

/** Statistics on `batch`, then block-aware matching of every point with `method`. */
export async function transforms(
  graphs: readonly Graph[], mg: MergeGraph, batch: Batch, method: string, params?: MatcherParams, alignBlocks = true,
): Promise<PointTransform[]> {
  const models: ModelInput[] = graphs.map((graph, k) => ({ name: `model${k}`, graph, file: `model${k}.onnx` }));
  const stats = await computeStatistics(models, mg, [batch], { executor, threads: 1 });
  const matcher = defaultMatcherRegistry().get(method);
  return matchMergeGraph(mg, (i) => stats.covariance(i), graphs.length, matcher, params, { alignBlocks }).map((r) => ({ merge: r!.merge, unmerge: r!.unmerge }));
}

/** Zips, exports to ONNX bytes, reads them back and runs the result. */
export async function zipAndRun(
  graphs: readonly Graph[], mg: MergeGraph, ts: readonly PointTransform[], stopAt: StopAt, x: Tensor<'float32'>,
): Promise<Record<string, Float32Array>> {
  const { graph } = zipGraphs(graphs, { mergeGraph: mg, transforms: ts, stopAt });
  return run(readOnnx(writeOnnx(graph)), x);
}

/** For each merged feature, the stacked feature of model k it takes (null when a feature does not take exactly one). */
export function pairing(unmerge: Float32Array, numModels: number, channels: number, k: number): Int32Array | null {
  const out = new Int32Array(channels).fill(-1);
  for (let r = 0; r < channels; r++) {
    for (let f = 0; f < channels; f++) {
      if (unmerge[(k * channels + r) * channels + f] !== 1) continue;
      if (out[f] !== -1) return null;
      out[f] = r;
    }
  }
  return out.every((v) => v >= 0) ? out : null;
}

/**
 * The conformance invariants for one ViT family member (call inside a `describe`): the declared
 * merge graph is complete (a random permutation of every point, heads whole, leaves the function
 * unchanged), plain and prepared with stream junctions; zip(A, A) = A for every matcher;
 * zip(A, P(A)) = A at every stop point with `permute` and `zipit` (α = 0.01, β = 0), which
 * find P exactly, heads included; stop-before-first is the ensemble; every stop point exports and runs; three models.
 * A, B and C are models of the same structure (C only for the three-model merge).
 */
export function defineConformance(makeA: () => Promise<Graph>, makeB: () => Promise<Graph>, makeC: () => Promise<Graph>): void {
  let a: Graph;
  let b: Graph;
  let prepared: Graph;
  let mg: MergeGraph;
  let pmg: MergeGraph;
  let batch: Batch;
  let ra: Float32Array;
  beforeAll(async () => {
    a = await makeA();
    b = await makeB();
    prepared = prepareVit(a);
    mg = vitArch.mergeGraph(a);
    pmg = vitArch.mergeGraph(prepared);
    batch = images(a.inputs[0].shape as number[], 24, 7);
    ra = (await run(a, batch.x)).logits;
  });

  it('declares a complete merge graph: a random permutation of every point (heads whole) keeps the function', async () => {
    for (const [g, m] of [[a, mg], [prepared, pmg]] as const) {
      const pa = permuted(g, m, 3).graph;
      expect(maxAbsDiff((await run(pa, batch.x)).logits, ra)).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(maxAbsDiff((await run(prepared, batch.x)).logits, ra)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('zip(A, A) equals A for every matcher', async () => {
    for (const method of ['zipit', 'permute', 'average']) {
      const ts = await transforms([a, a], mg, batch, method);
      const out = await zipAndRun([a, a], mg, ts, 'all', batch.x);
      for (const k of [0, 1]) expect(maxAbsDiff(out[`model${k}:logits`], ra), method).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it.each([
    ['permute', undefined],
    ['zipit', { alpha: 0.01, beta: 0 }],
  ] as const)('%s recovers a permuted copy exactly, heads included, and zip(A, P(A)) equals A at every stop point', async (method, params) => {
    for (const [g, m] of [[a, mg], [prepared, pmg]] as const) {
      const { graph: pa, perms } = permuted(g, m, 11);
      const ts = await transforms([g, pa], m, batch, method, params);
      m.points.forEach((p, i) => {
        const mine = pairing(ts[i].unmerge as Float32Array, 2, p.channels, 0);
        const theirs = pairing(ts[i].unmerge as Float32Array, 2, p.channels, 1);
        expect(mine && theirs, p.name).toBeTruthy();
        for (let f = 0; f < p.channels; f++) expect(perms[i][theirs![f]], `${p.name} feature ${f}`).toBe(mine![f]);
      });
      for (const stop of m.points.filter((p) => p.stopPoint).map((p) => p.name)) {
        const out = await zipAndRun([g, pa], m, ts, stop, batch.x);
        for (const k of [0, 1]) expect(maxAbsDiff(out[`model${k}:logits`], ra), `${stop}, model ${k}`).toBeLessThanOrEqual(TOLERANCE);
      }
    }
  });

  it('stopping before the first point reproduces the ensemble exactly', async () => {
    const out = await zipAndRun([a, b], mg, [], 'none', batch.x);
    expect(out['model0:logits']).toEqual(ra);
    expect(out['model1:logits']).toEqual((await run(b, batch.x)).logits);
  });

  it('every stop point of the prepared model exports an ONNX file that runs, one output per model', async () => {
    const pb = prepareVit(b);
    const stops = pmg.points.filter((p) => p.stopPoint).map((p) => p.name);
    const depth = pmg.points.filter((p) => p.name.endsWith(':qk')).length;
    expect(stops).toEqual(['embed:stream', ...Array.from({ length: depth }, (_, i) => `blocks.${i}:stream`)]);
    expect(mg.points.filter((p) => p.stopPoint).map((p) => p.name)).toEqual(['blocks:stream']);
    const ts = await transforms([prepared, pb], pmg, batch, 'zipit');
    for (const stop of stops) {
      const out = await zipAndRun([prepared, pb], pmg, ts, stop, batch.x);
      expect(Object.keys(out).sort(), stop).toEqual(['model0:logits', 'model1:logits']);
      for (const v of Object.values(out)) {
        expect(v.length).toBe(ra.length);
        expect(v.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it('merges three models, and zip(A, A, A) equals A for every matcher', async () => {
    // zipit with α = 1: after two copies of a feature merge, α scales the merged feature's
    // similarity, so with α < 1 the third copy may lose to another pair (a legitimate merge, not the identity).
    for (const [method, params] of [['zipit', { alpha: 1, beta: 0 }], ['permute', undefined], ['average', undefined]] as const) {
      const ts = await transforms([a, a, a], mg, batch, method, params);
      const out = await zipAndRun([a, a, a], mg, ts, 'all', batch.x);
      for (const k of [0, 1, 2]) expect(maxAbsDiff(out[`model${k}:logits`], ra), method).toBeLessThanOrEqual(TOLERANCE);
    }
    const c = await makeC();
    const t3 = await transforms([a, b, c], mg, batch, 'zipit');
    const out3 = await zipAndRun([a, b, c], mg, t3, 'all', batch.x);
    expect(Object.keys(out3)).toHaveLength(3);
  });
}
