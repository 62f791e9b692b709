import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import { permuteMatch } from './permute-matcher.js';
import { zipitMatch } from './zipit-matcher.js';
import { zipitMatchReferencePort } from './zipit-reference.js';

/**
 * Post-ReLU features of C channels on few samples, as late layers see them: a third dead (zero
 * on every sample), a third active on a single sample (perfectly correlated with each other),
 * the rest dense. Returns features [C, samples].
 */
function lateLayerFeatures(c: number, samples: number, seed: number): Float64Array[] {
  const r = new SeededRandom(seed);
  return Array.from({ length: c }, (_, i) => {
    const x = new Float64Array(samples);
    if (i % 3 === 0) return x;
    if (i % 3 === 1) {
      x[i % 2] = 0.1 + r.next();
      return x;
    }
    for (let t = 0; t < samples; t++) x[t] = Math.max(0, r.next() - 0.4);
    return x;
  });
}

/** Population covariance of stacked features (model-major). */
function covarianceOf(features: Float64Array[]): Float64Array {
  const n = features.length;
  const s = features[0].length;
  const mean = features.map((x) => x.reduce((a, b) => a + b, 0) / s);
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let t = 0; t < s; t++) v += (features[i][t] - mean[i]) * (features[j][t] - mean[j]);
      cov[i * n + j] = v / s;
    }
  return cov;
}

function groupOf(res: ReturnType<typeof zipitMatch>): number[] {
  const c = res.channels;
  return Array.from({ length: res.numModels * c }, (_, r) => res.unmerge.subarray(r * c, (r + 1) * c).indexOf(1));
}

describe('zipit ties (twins across models win)', () => {
  const c = 24;
  const base = lateLayerFeatures(c, 8, 1);

  it('pairs every feature with its twin in a self-merge (dead and perfectly correlated features included)', () => {
    const cov = covarianceOf([...base, ...base]);
    const g = groupOf(zipitMatch(cov, 2, 0.5, 1));
    for (let i = 0; i < c; i++) expect(g[c + i], `feature ${i}`).toBe(g[i]);
    expect(Array.from(zipitMatchReferencePort(cov, 2, 0.5, 1))).toEqual(g);
  });

  it('recovers a permuted copy: every feature that varies on the data pairs with its twin', () => {
    const r = new SeededRandom(2);
    const perm = Array.from({ length: c }, (_, i) => i);
    for (let i = c - 1; i > 0; i--) {
      const j = Math.floor(r.next() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const cov = covarianceOf([...base, ...perm.map((p) => base[p])]);
    const g = groupOf(zipitMatch(cov, 2, 0.5, 1));
    for (let j = 0; j < c; j++) if (perm[j] % 3 !== 0) expect(g[c + j], `feature ${j} = ${perm[j]}`).toBe(g[perm[j]]);
    // Dead features pair with dead features: exact on the data.
    for (let j = 0; j < c; j++) if (perm[j] % 3 === 0) expect(g.indexOf(g[c + j]) % 3).toBe(0);
    expect(Array.from(zipitMatchReferencePort(cov, 2, 0.5, 1))).toEqual(g);
  });

  it('a twin one float32 ulp below 1 still beats a within-model pair rounded to 1', () => {
    // Features 0 and 1 of model A are perfectly correlated (1 = 2 × 0) on the samples; B is A.
    const a = [Float64Array.of(1, 0, 3, 0, 2), Float64Array.of(2, 0, 6, 0, 4), Float64Array.of(0, 1, 0, 2, 1)];
    const cov = covarianceOf([...a, ...a]);
    expect(groupOf(zipitMatch(cov, 2, 0.5, 1))).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('with the means, pairs constant features by value (without, by rank)', () => {
    // Dead channels through a bias and ReLU6: constants 0.5, 6 and 2, then two varying features.
    const a = [
      Float64Array.of(0.5, 0.5, 0.5, 0.5),
      Float64Array.of(6, 6, 6, 6),
      Float64Array.of(2, 2, 2, 2),
      Float64Array.of(1, 0, 3, 2),
      Float64Array.of(0, 4, 1, 1),
    ];
    const perm = [2, 0, 4, 1, 3];
    const stacked = [...a, ...perm.map((p) => a[p])];
    const cov = covarianceOf(stacked);
    const means = Float64Array.from(stacked, (x) => x.reduce((u, v) => u + v, 0) / x.length);
    const c = a.length;
    for (const g of [groupOf(zipitMatch(cov, 2, 0.5, 1, { means })), groupOf(permuteMatch(cov, 2, { means }))]) {
      for (let j = 0; j < c; j++) expect(g[c + j], `feature ${j} = ${perm[j]}`).toBe(g[perm[j]]);
    }
    // Without means the k-th constant of B joins the k-th of A: 2 with 0.5, 0.5 with 6, 6 with 2.
    const byRank = groupOf(permuteMatch(cov, 2));
    expect([byRank[c + 0], byRank[c + 1], byRank[c + 3]]).toEqual([byRank[0], byRank[1], byRank[2]]);
    expect(() => zipitMatch(cov, 2, 0.5, 1, { means: means.subarray(1) })).toThrow(/means have 9 entries/);
  });

  it('with the means, features that differ by a constant are not twins (δ ignores the mean)', () => {
    // One spread shared by every feature (as a float32 quantum is, on near-constant features),
    // around different means: δ = 0 between any two, across and within models.
    const s = [1, -1, 1, 1, -1, -1, 1, -1];
    const a = [0.5, 2, 3.25, 7].map((mu) => Float64Array.from(s, (v) => mu + 1e-3 * v));
    const perm = [3, 0, 2, 1];
    const stacked = [...a, ...perm.map((p) => a[p])];
    const cov = covarianceOf(stacked);
    const means = Float64Array.from(stacked, (x) => x.reduce((u, v) => u + v, 0) / x.length);
    const c = a.length;
    for (const g of [groupOf(zipitMatch(cov, 2, 0.5, 1, { means })), groupOf(permuteMatch(cov, 2, { means }))]) {
      for (let j = 0; j < c; j++) expect(g[c + j], `feature ${j} = ${perm[j]}`).toBe(g[perm[j]]);
    }
    // Without them every cross pair is a twin at δ = 0, and index order decides: not the twins.
    for (const blind of [groupOf(zipitMatch(cov, 2, 0.5, 1)), groupOf(permuteMatch(cov, 2))]) {
      expect(perm.some((p, j) => blind[c + j] !== blind[p])).toBe(true);
    }
  });
});
