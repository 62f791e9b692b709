import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import type { MergeGraph, MergePoint } from '../merge/merge-graph.js';
import { matchMergeGraph } from '../merge/match-points.js';
import { alignBlocks, identityBlockOrder, matchBlockwise } from './block-match.js';
import { permuteMatch } from './permute-matcher.js';
import { zipitMatch } from './zipit-matcher.js';
import { permuteMatcher } from './permute-matcher.js';

/** Covariance of the stacked features [A; B] over `samples` samples, float64 [2C, 2C]. */
function covarianceOf(a: Float64Array, b: Float64Array, c: number, samples: number): Float64Array {
  const n = 2 * c;
  const x = new Float64Array(n * samples);
  x.set(a, 0);
  x.set(b, c * samples);
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let s = 0; s < samples; s++) mean[i] += x[i * samples + s] / samples;
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let s = 0; s < samples; s++) acc += (x[i * samples + s] - mean[i]) * (x[j * samples + s] - mean[j]);
      cov[i * n + j] = acc / samples;
    }
  }
  return cov;
}

function randomFeatures(c: number, samples: number, rng: SeededRandom): Float64Array {
  const x = new Float64Array(c * samples);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return x;
}

/** Model B's feature c = model A's feature perm[c] (+ noise). */
function permuted(a: Float64Array, perm: Int32Array, samples: number, noise: number, rng: SeededRandom): Float64Array {
  const b = new Float64Array(a.length);
  perm.forEach((src, dst) => {
    for (let s = 0; s < samples; s++) b[dst * samples + s] = a[src * samples + s] + noise * rng.normal();
  });
  return b;
}

/** A block-structured permutation: heads in `headOrder`, a fixed rotation inside each head. */
function headPermutation(headOrder: number[], size: number): Int32Array {
  const perm = new Int32Array(headOrder.length * size);
  headOrder.forEach((h, j) => {
    for (let i = 0; i < size; i++) perm[j * size + i] = h * size + ((i + j + 1) % size);
  });
  return perm;
}

/** For each merged feature, the stacked features it merges (from the 0/1 unmerge [2C, C]). */
function members(unmerge: Float32Array, c: number): number[][] {
  const out: number[][] = Array.from({ length: c }, () => []);
  for (let r = 0; r < 2 * c; r++) for (let f = 0; f < c; f++) if (unmerge[r * c + f] === 1) out[f].push(r);
  return out;
}

describe('block matching (attention heads)', () => {
  const rng = new SeededRandom(3);
  const heads = 4;
  const size = 3;
  const c = heads * size;
  const samples = 400;
  const a = randomFeatures(c, samples, rng);
  const headOrder = [2, 0, 3, 1];
  const perm = headPermutation(headOrder, size);
  const b = permuted(a, perm, samples, 0.05, rng);
  const cov = covarianceOf(a, b, c, samples);

  it('aligns heads by their best within-head matching', () => {
    const order = alignBlocks([cov], 2, { count: heads, size });
    expect(Array.from(order[0])).toEqual([0, 1, 2, 3]);
    // B's block j holds A's block headOrder[j]: A's block a goes with B's block headOrder⁻¹[a].
    expect(Array.from(order[1])).toEqual([1, 3, 0, 2]);
  });

  it('recovers the permutation within aligned heads, keeping every merged head within one head per model', () => {
    const order = alignBlocks([cov], 2, { count: heads, size });
    for (const match of [(s: Float64Array, n: number) => permuteMatch(s, n), (s: Float64Array, n: number) => zipitMatch(s, n, 0.01, 0)]) {
      const res = matchBlockwise(cov, 2, { count: heads, size }, order, match);
      const groups = members(res.unmerge, c);
      groups.forEach((g, f) => {
        expect(g).toHaveLength(2);
        const [ra, rb] = g;
        expect(ra).toBeLessThan(c);
        expect(perm[rb - c]).toBe(ra);
        expect(Math.floor(ra / size)).toBe(Math.floor(f / size));
      });
    }
  });

  it('keeps blocks whole even where flat matching would mix heads', () => {
    // Random correlations: the best flat pairing crosses heads, the block-wise one cannot.
    const noise = randomFeatures(c, samples, rng);
    const mixed = covarianceOf(a, noise, c, samples);
    const res = matchBlockwise(mixed, 2, { count: heads, size }, identityBlockOrder(2, heads), (s, n) => zipitMatch(s, n, 0.5, 1));
    members(res.unmerge, c).forEach((g, f) => {
      for (const r of g) expect(Math.floor((r % c) / size)).toBe(Math.floor(f / size));
    });
    const merge = res.merge;
    for (let f = 0; f < c; f++) {
      let sum = 0;
      for (let r = 0; r < 2 * c; r++) sum += merge[f * 2 * c + r];
      expect(sum).toBeCloseTo(1, 4);
    }
  });

  it('aligns the points of one group alike, from all of their statistics', () => {
    // QK shows the head order clearly; V alone is pure noise (its own alignment would be arbitrary).
    const vNoise = covarianceOf(randomFeatures(c, samples, rng), randomFeatures(c, samples, rng), c, samples);
    const point = (index: number, name: string): MergePoint => ({
      index,
      name,
      channels: c,
      observe: { value: name, axis: 2 },
      values: [],
      producers: [],
      consumers: [],
      ties: [],
      blocks: { count: heads, size, group: 'blocks.0.attn' },
      stopPoint: false,
      producerNodes: [],
      consumerNodes: [],
    });
    const mg: MergeGraph = { points: [point(0, 'qk'), point(1, 'v')], heads: [], barriers: [] };
    const covs = [cov, vNoise];
    const res = matchMergeGraph(mg, (i) => covs[i], 2, permuteMatcher);
    const headOf = (unmerge: Float32Array) => members(unmerge, c).map((g) => Math.floor((g[1] - c) / size));
    expect(headOf(res[1]!.unmerge)).toEqual(headOf(res[0]!.unmerge));
    const byIndex = matchMergeGraph(mg, (i) => covs[i], 2, permuteMatcher, undefined, { alignBlocks: false });
    expect(headOf(byIndex[0]!.unmerge)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('matches points that share a transform once, from their averaged correlations', () => {
    const plainPoint = (index: number): MergePoint => ({
      index,
      name: `seg${index}`,
      channels: c,
      observe: { value: 'x', axis: 2 },
      values: [],
      producers: [],
      consumers: [],
      ties: [],
      shareTransform: 'stream',
      stopPoint: true,
      producerNodes: [],
      consumerNodes: [],
    });
    // Segment 0 shows the permutation, segment 1 is noise: together they still point to it.
    const noise = covarianceOf(randomFeatures(c, samples, rng), randomFeatures(c, samples, rng), c, samples);
    const mg: MergeGraph = { points: [plainPoint(0), plainPoint(1)], heads: [], barriers: [] };
    const covs = [cov, noise];
    const res = matchMergeGraph(mg, (i) => covs[i], 2, permuteMatcher);
    expect(res[1]).toBe(res[0]);
    members(res[0]!.unmerge, c).forEach(([ra, rb]) => expect(perm[rb - c]).toBe(ra));
  });
});
