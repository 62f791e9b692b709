import { describe, expect, it } from 'vitest';
import { zipitBudget, zipitMatch } from './zipit-matcher.js';
import { zipitMatchReferencePort } from './zipit-reference.js';

/** A seeded covariance of N·C features that share a few latent factors (positive semi-definite). */
function covariance(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const r = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const samples = 48;
  const x = Array.from({ length: n }, () => new Float64Array(samples));
  const load = Array.from({ length: n }, () => [r() - 0.5, r() - 0.5, r() - 0.5]);
  for (let t = 0; t < samples; t++) {
    const f = [r() - 0.5, r() - 0.5, r() - 0.5];
    for (let i = 0; i < n; i++) x[i][t] = load[i][0] * f[0] + load[i][1] * f[1] + load[i][2] * f[2] + 0.2 * (r() - 0.5);
  }
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let t = 0; t < samples; t++) v += x[i][t] * x[j][t];
      cov[i * n + j] = v / samples;
    }
  return cov;
}

const groups = (r: ReturnType<typeof zipitMatch>) =>
  Array.from({ length: r.numModels * r.channels }, (_, row) => r.unmerge.subarray(row * r.channels, (row + 1) * r.channels).indexOf(1));

describe('zipit budget (β)', () => {
  it('is the reference formula, clamped to [0, toRemove + 1]', () => {
    expect(zipitBudget(32, 2, 1)).toBe(16);
    expect(zipitBudget(32, 2, 0.125)).toBe(2);
    expect(zipitBudget(32, 2, 0)).toBe(0);
    expect(zipitBudget(32, 2, 1e9)).toBe(33); // 16e9 would wrap around 2³² in an Int32Array
    expect(zipitBudget(32, 2, Number.MAX_VALUE)).toBe(33);
    expect(zipitBudget(0, 2, Infinity)).toBe(0);
  });

  it('a huge β acts like an unlimited budget (as in the reference), never like β = 0', () => {
    for (const seed of [1, 2, 3]) {
      const cov = covariance(2 * 16, seed);
      const huge = groups(zipitMatch(cov, 2, 0.5, 1e9));
      expect(huge).toEqual(groups(zipitMatch(cov, 2, 0.5, 1e3)));
      expect(huge).toEqual(Array.from(zipitMatchReferencePort(cov, 2, 0.5, 1e9)));
    }
    // Somewhere β = 0 (no within-model merges) decides differently from an unlimited budget.
    const differs = [1, 2, 3, 4, 5].some((seed) => {
      const cov = covariance(2 * 16, seed);
      return JSON.stringify(groups(zipitMatch(cov, 2, 0.5, 1e9))) !== JSON.stringify(groups(zipitMatch(cov, 2, 0.5, 0)));
    });
    expect(differs).toBe(true);
  });
});
