import { describe, expect, it } from 'vitest';
import { mergesOnlyTwins } from './twin-merge.js';

/** Covariance and means of features given as sample columns ([samples][n]). */
function moments(samples: number[][]): { cov: (i: number, j: number) => number; mean: Float64Array } {
  const n = samples[0].length;
  const mean = new Float64Array(n);
  for (const s of samples) s.forEach((v, k) => (mean[k] += v / samples.length));
  const cov = new Float64Array(n * n);
  for (const s of samples) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cov[i * n + j] += ((s[i] - mean[i]) * (s[j] - mean[j])) / samples.length;
  return { cov: (i, j) => cov[i * n + j], mean };
}

// Model A has features (u, v, c); model B the same features permuted: (v, c, u); c is constant.
const rows = Array.from({ length: 50 }, (_, t) => [Math.sin(t), Math.cos(3 * t), 2, Math.cos(3 * t), 2, Math.sin(t)]);
const { cov, mean } = moments(rows);

/** Merge [3, 6] averaging the listed (A feature, B feature) pairs. */
function merge(pairs: [number, number][]): Float64Array {
  const m = new Float64Array(3 * 6);
  pairs.forEach(([a, b], j) => {
    m[j * 6 + a] = 0.5;
    m[j * 6 + 3 + b] = 0.5;
  });
  return m;
}

describe('mergesOnlyTwins', () => {
  it('accepts a merge that pairs each feature with its exact twin, constants included', () => {
    expect(
      mergesOnlyTwins(
        merge([
          [0, 2],
          [1, 0],
          [2, 1],
        ]),
        3,
        cov,
        mean,
      ),
    ).toBe(true);
  });

  it('refuses a merge that averages different features, or leaves a feature out', () => {
    expect(
      mergesOnlyTwins(
        merge([
          [0, 0],
          [1, 2],
          [2, 1],
        ]),
        3,
        cov,
        mean,
      ),
    ).toBe(false);
    const partial = merge([
      [0, 2],
      [1, 0],
      [2, 1],
    ]);
    partial[2 * 6 + 3 + 1] = 0; // B's constant feature belongs to no merged channel
    expect(mergesOnlyTwins(partial, 3, cov, mean)).toBe(false);
  });

  it('refuses near twins beyond float32 rounding (a scaled or shifted copy)', () => {
    const scaled = moments(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5] * 1.01]));
    expect(
      mergesOnlyTwins(
        merge([
          [0, 2],
          [1, 0],
          [2, 1],
        ]),
        3,
        scaled.cov,
        scaled.mean,
      ),
    ).toBe(false);
    const shifted = moments(rows.map((r) => [r[0], r[1], r[2], r[3], r[4] + 1e-2, r[5]]));
    expect(
      mergesOnlyTwins(
        merge([
          [0, 2],
          [1, 0],
          [2, 1],
        ]),
        3,
        shifted.cov,
        shifted.mean,
      ),
    ).toBe(false);
    const rounded = moments(rows.map((r) => [r[0], r[1], r[2], r[3], r[4], Math.fround(r[5] * (1 + 1e-7))]));
    expect(
      mergesOnlyTwins(
        merge([
          [0, 2],
          [1, 0],
          [2, 1],
        ]),
        3,
        rounded.cov,
        rounded.mean,
      ),
    ).toBe(true);
  });
});
