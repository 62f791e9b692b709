import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import { NEAR_TWIN_DISTANCE, nearTwins, rawDistance } from './near-twins.js';
import { permuteMatch } from './permute-matcher.js';
import { zipitMatch } from './zipit-matcher.js';

/** Population covariance [n, n] and means [n] of features [n][samples]. */
function moments(features: Float64Array[]): { cov: Float64Array; means: Float64Array } {
  const n = features.length;
  const s = features[0].length;
  const means = Float64Array.from(features, (x) => x.reduce((a, b) => a + b, 0) / s);
  const cov = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let t = 0; t < s; t++) v += (features[i][t] - means[i]) * (features[j][t] - means[j]);
      cov[i * n + j] = v / s;
    }
  return { cov, means };
}

function groupOf(res: ReturnType<typeof zipitMatch>): number[] {
  const c = res.channels;
  return Array.from({ length: res.numModels * c }, (_, r) => res.unmerge.subarray(r * c, (r + 1) * c).indexOf(1));
}

/**
 * A late layer of a deep network on 8 images, as MobileNetV2 and EfficientNet-B0 show it: C
 * features constant up to noise (σ/|μ| ~ 1e-6, float32 rounding accumulated over the layers),
 * and a copy with permuted channels whose rounding differs — its own noise, independent of A's.
 */
function nearConstantPair(c: number, seed: number): { features: Float64Array[]; perm: number[] } {
  const r = new SeededRandom(seed);
  const samples = 8;
  const level = Array.from({ length: c }, () => (r.next() - 0.5) * 0.2);
  const noisy = (mu: number) => Float64Array.from({ length: samples }, () => mu * (1 + 2e-6 * (r.next() - 0.5)));
  const perm = Array.from({ length: c }, (_, i) => i);
  for (let i = c - 1; i > 0; i--) {
    const j = Math.floor(r.next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return { features: [...level.map(noisy), ...perm.map((p) => noisy(level[p]))], perm };
}

describe('near twins', () => {
  const c = 24;
  const { features, perm } = nearConstantPair(c, 1);
  const { cov, means } = moments(features);
  const origin = Int32Array.from({ length: 2 * c }, (_, i) => (i < c ? 0 : 1));

  it('finds the twin of every near-constant feature, whose correlation with it is noise', () => {
    const n = 2 * c;
    let uncorrelated = 0;
    for (let j = 0; j < c; j++) {
      const i = perm[j];
      const corr = cov[i * n + c + j] / Math.sqrt(cov[i * n + i] * cov[(c + j) * n + c + j]);
      if (corr < 0.9) uncorrelated++;
    }
    // The covariance cannot find these twins: most are not even correlated.
    expect(uncorrelated).toBeGreaterThan(c / 2);
    const nt = nearTwins(cov, means, origin, 2);
    for (let j = 0; j < c; j++) {
      expect(nt.twin[(c + j) * 2 + 0], `B ${j}`).toBe(perm[j]);
      expect(nt.twin[perm[j] * 2 + 1], `A ${perm[j]}`).toBe(c + j);
      expect(nt.distance[(c + j) * 2]).toBe(rawDistance(cov, means, nt.raw, c + j, perm[j]));
      expect(nt.distance[(c + j) * 2]).toBeLessThan(NEAR_TWIN_DISTANCE);
    }
    // Never within one model.
    for (let i = 0; i < 2 * c; i++) expect(nt.twin[i * 2 + origin[i]]).toBe(-1);
  });

  it('lets zipit and permute recover the permuted copy', () => {
    for (const g of [groupOf(zipitMatch(cov, 2, 0.5, 1, { means })), groupOf(permuteMatch(cov, 2, { means }))]) {
      for (let j = 0; j < c; j++) expect(g[c + j], `B ${j} = A ${perm[j]}`).toBe(g[perm[j]]);
    }
  });

  it('pairs nothing that is not unique and near: duplicates, zero features, features apart by more than 2⁻⁸', () => {
    const x = Float64Array.of(1, 2, 3, 4);
    const y = Float64Array.of(4, 1, 3, 2);
    const zero = new Float64Array(4);
    // A: x, y, 0; B: x, x (two equally near candidates for A's x), 0.
    const dup = moments([x, y, zero, x, Float64Array.from(x), zero]);
    const o = Int32Array.of(0, 0, 0, 1, 1, 1);
    expect(Array.from(nearTwins(dup.cov, dup.means, o, 2).twin)).toEqual([-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1]);
    // A: x, y; B: 1.01·x, y: x's nearest is 1.01·x (D̂ ≈ 2.5e-5 > 2⁻¹⁶), y is its own twin.
    const far = moments([x, y, Float64Array.from(x, (v) => v * 1.01), y]);
    const twins = nearTwins(far.cov, far.means, Int32Array.of(0, 0, 1, 1), 2).twin;
    expect(Array.from(twins)).toEqual([-1, -1, -1, 3, -1, -1, 1, -1]);
  });
});
