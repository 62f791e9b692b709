import { describe, expect, it } from 'vitest';
import { flat32, goldenFile, goldenIndex, type GoldenMatch } from '../testing/golden.js';
import { defaultMatcherRegistry } from './builtin.js';
import { getPointMatcher } from './graph-matcher.js';
import { zipitMatch } from './zipit-matcher.js';
import { zipitMatchReferencePort } from './zipit-reference.js';
import { permuteMatch } from './permute-matcher.js';
import { averageMatch } from './average-matcher.js';
import { linearSumAssignment } from './lap.js';
import type { MatchResult } from './matcher.js';
import { NumericError, ShapeError } from '../errors.js';
import { SeededRandom } from '../graph/builder.js';

const registry = defaultMatcherRegistry();
const METHOD: Record<string, string> = {
  match_tensors_zipit: 'zipit',
  match_tensors_permute: 'permute',
  match_tensors_identity: 'average',
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Seeded uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}

/** Covariance of random features X [n, samples] with shared latent factors, so that correlations are structured. */
function randomCovariance(n: number, seed: number, samples = 64): Float64Array {
  const r = rng(seed);
  const factors = Math.max(2, n >> 2);
  const x = new Float64Array(n * samples);
  const load = new Float64Array(n * factors).map(() => (r() < 0.3 ? r() * 2 - 1 : 0));
  for (let t = 0; t < samples; t++) {
    const f = Array.from({ length: factors }, () => r() * 2 - 1);
    for (let i = 0; i < n; i++) {
      let v = 0.3 * (r() * 2 - 1);
      for (let k = 0; k < factors; k++) v += load[i * factors + k] * f[k];
      x[i * samples + t] = Math.max(0, v);
    }
  }
  const cov = new Float64Array(n * n);
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let t = 0; t < samples; t++) mean[i] += x[i * samples + t] / samples;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < samples; t++) s += (x[i * samples + t] - mean[i]) * (x[j * samples + t] - mean[j]);
      cov[i * n + j] = s / samples;
    }
  return cov;
}

function groupsOf(res: MatchResult): number[][] {
  const o = res.channels * res.numModels;
  const groups: number[][] = Array.from({ length: res.channels }, () => []);
  for (let r = 0; r < o; r++) for (let g = 0; g < res.channels; g++) if (res.unmerge[r * res.channels + g] === 1) groups[g].push(r);
  return groups;
}

function expectWellFormed(res: MatchResult): void {
  const c = res.channels;
  const o = c * res.numModels;
  expect(res.merge.length).toBe(c * o);
  expect(res.unmerge.length).toBe(o * c);
  for (let r = 0; r < o; r++) {
    let ones = 0;
    for (let g = 0; g < c; g++) {
      const u = res.unmerge[r * c + g];
      expect(u === 0 || u === 1).toBe(true);
      ones += u;
    }
    expect(ones).toBe(1); // every original feature is assigned exactly once
  }
  for (let g = 0; g < c; g++) {
    let k = 0;
    for (let r = 0; r < o; r++) k += res.unmerge[r * c + g];
    expect(k).toBeGreaterThan(0);
    let rowSum = 0;
    for (let r = 0; r < o; r++) {
      const m = res.merge[g * o + r];
      expect(m).toBeCloseTo(res.unmerge[r * c + g] / k, 4); // merge rows average their members
      rowSum += m;
    }
    expect(rowSum).toBeCloseTo(1, 4);
  }
}

describe('golden parity with the reference ZipIt! implementation', () => {
  for (const gc of goldenIndex()) {
    it(`${gc.case}`, () => {
      const g = goldenFile<GoldenMatch>(gc.file);
      const cov = flat32(g.covariance);
      const params: Record<string, number> = g.params ? { alpha: g.params.a, beta: g.params.b } : {};
      const res = getPointMatcher(registry, METHOD[gc.function]).match(cov, gc.num_models, params);
      expect(Array.from(res.unmerge)).toEqual(g.unmerge.flat());
      expect(maxAbsDiff(res.merge, g.merge.flat())).toBeLessThanOrEqual(1e-6);
      if (g.groups) expect(groupsOf(res)).toEqual(g.groups);
    });
  }
});

describe('zipit matcher', () => {
  it('agrees with a straightforward port of the reference loop on random inputs', () => {
    const cases: [number, number, number, number][] = [
      [2, 24, 0.3, 0.125],
      [2, 24, 0.0001, 0.075],
      [2, 24, 0.5, 1],
      [2, 24, 0, 1],
      [2, 24, 0, 0.5],
      [3, 16, 0.3, 0.125],
      [3, 16, 0, 1],
      [4, 10, 0.5, 0.25],
      [2, 40, 0.9, 0],
      [3, 20, 1, 0.3],
    ];
    let seed = 1;
    for (const [m, c, a, b] of cases) {
      for (let rep = 0; rep < 3; rep++) {
        const cov = randomCovariance(m * c, seed++);
        const expected = zipitMatchReferencePort(cov, m, a, b);
        const res = zipitMatch(cov, m, a, b);
        const groupOf = new Int32Array(m * c);
        groupsOf(res).forEach((g, i) => g.forEach((r) => (groupOf[r] = i)));
        expect(Array.from(groupOf), `m=${m} c=${c} a=${a} b=${b} seed=${seed - 1}`).toEqual(Array.from(expected));
        expectWellFormed(res);
      }
    }
  });

  it('agrees with the port on ties, dead channels, negative correlations and α > 1', () => {
    let seed = 1000;
    for (const [m, c, a, b] of [
      [2, 32, 0.3, 0.125],
      [2, 32, 1.5, 0.5],
      [3, 12, 0, 0.25],
      [2, 48, 0.01, 1],
    ] as const) {
      for (let rep = 0; rep < 3; rep++) {
        const n = m * c;
        const cov = randomCovariance(n, seed++);
        const r = rng(seed);
        // Quantise to create exact ties; kill one channel; flip some signs for negative correlations.
        const sign = Array.from({ length: n }, () => (r() < 0.3 ? -1 : 1));
        const dead = Math.floor(r() * n);
        for (let i = 0; i < n; i++)
          for (let j = 0; j < n; j++) {
            const v = Math.round(cov[i * n + j] * 16) / 16;
            cov[i * n + j] = i === dead || j === dead ? 0 : v * sign[i] * sign[j];
          }
        const expected = zipitMatchReferencePort(cov, m, a, b);
        const res = zipitMatch(cov, m, a, b);
        const groupOf = new Int32Array(n);
        groupsOf(res).forEach((g, i) => g.forEach((x) => (groupOf[x] = i)));
        expect(Array.from(groupOf), `m=${m} c=${c} a=${a} b=${b}`).toEqual(Array.from(expected));
      }
    }
  });

  it('recovers perfectly correlated pairs across models', () => {
    const c = 12;
    const base = randomCovariance(c, 99);
    // Model 1 holds the features of model 0 under a permutation π: corr(x_r, y_π(r)) = 1.
    const pi = [5, 2, 9, 0, 11, 7, 1, 3, 10, 4, 8, 6];
    const n = 2 * c;
    const cov = new Float64Array(n * n);
    const src = (i: number) => (i < c ? i : pi.indexOf(i - c));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cov[i * n + j] = base[src(i) * c + src(j)];
    const res = zipitMatch(cov, 2, 0.0001, 0);
    expectWellFormed(res);
    const groups = groupsOf(res);
    for (let r = 0; r < c; r++) expect(groups).toContainEqual([r, c + pi[r]].sort((x, y) => x - y));
  });

  it('reduces 3C features of 3 models to C', () => {
    const res = zipitMatch(randomCovariance(3 * 10, 5), 3, 0.3, 0.125);
    expect(res.channels).toBe(10);
    expectWellFormed(res);
  });

  it('keeps every feature assigned when α ≤ 0 and the budget forbid all remaining pairs', () => {
    // Where the reference degenerates (argmax of an all −∞ matrix merges a feature with itself and
    // drops it), the first remaining pair is merged instead.
    for (let seed = 0; seed < 20; seed++) expectWellFormed(zipitMatch(randomCovariance(3 * 4, 500 + seed), 3, 0, 0));
    expectWellFormed(zipitMatch(randomCovariance(3 * 10, 5), 3, 0.3, 0.125));
  });

  it('rejects malformed covariance matrices', () => {
    expect(() => zipitMatch(new Float32Array(6), 2, 0.3, 0.1)).toThrow(ShapeError);
    expect(() => zipitMatch(new Float32Array(9), 2, 0.3, 0.1)).toThrow(/not divisible by the model count 2/);
    const nan = new Float32Array(16);
    nan[5] = Number.NaN;
    expect(() => zipitMatch(nan, 2, 0.3, 0.1)).toThrow(NumericError);
  });
});

describe('permute and average matchers', () => {
  it('permute on two identical models is the identity', () => {
    const c = 16;
    const base = randomCovariance(c, 7);
    const cov = new Float64Array(4 * c * c);
    for (let i = 0; i < 2 * c; i++) for (let j = 0; j < 2 * c; j++) cov[i * 2 * c + j] = base[(i % c) * c + (j % c)];
    const res = permuteMatch(cov, 2);
    expectWellFormed(res);
    const avg = averageMatch(cov, 2);
    expect(Array.from(res.unmerge)).toEqual(Array.from(avg.unmerge));
  });

  it('permute pairs one feature of each model per merged feature (3 models)', () => {
    const res = permuteMatch(randomCovariance(3 * 8, 11), 3);
    expectWellFormed(res);
    for (const g of groupsOf(res)) expect(g.map((r) => Math.floor(r / 8))).toEqual([0, 1, 2]);
  });
});

describe('linear sum assignment', () => {
  it('finds the optimum (checked by brute force on small matrices)', () => {
    const r = rng(3);
    const perms = (n: number): number[][] =>
      n === 1 ? [[0]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
    for (let n = 1; n <= 6; n++) {
      for (let rep = 0; rep < 5; rep++) {
        const cost = Float64Array.from({ length: n * n }, () => Math.round(r() * 10) / 2);
        const sol = linearSumAssignment(cost, n);
        const value = (p: ArrayLike<number>) => Array.from(p).reduce((s: number, j, i) => s + cost[i * n + j], 0);
        const best = Math.min(...perms(n).map(value));
        expect(value(sol)).toBe(best);
        expect(new Set(sol).size).toBe(n);
      }
    }
  });
});
