import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import { jacobiSvd, polarFactor } from './jacobi-svd.js';
import { orthogonalMatch, procrustesFixingOnes } from './orthogonal-matcher.js';

/** Features of one model: [c, samples] with correlated channels and a channel mean. */
function features(c: number, samples: number, seed: number): Float64Array {
  const r = new SeededRandom(seed);
  const mix = Float64Array.from({ length: c * c }, () => r.normal());
  const z = Float64Array.from({ length: c * samples }, () => r.normal());
  const x = new Float64Array(c * samples);
  for (let i = 0; i < c; i++) for (let k = 0; k < c; k++) for (let t = 0; t < samples; t++) x[i * samples + t] += mix[i * c + k] * z[k * samples + t];
  return x;
}

/** Covariance of stacked features (rows of every model after one another). */
function stackedCovariance(parts: Float64Array[], c: number, samples: number): Float64Array {
  const o = parts.length * c;
  const all = new Float64Array(o * samples);
  parts.forEach((p, k) => all.set(p, k * c * samples));
  const mean = new Float64Array(o);
  for (let i = 0; i < o; i++) for (let t = 0; t < samples; t++) mean[i] += all[i * samples + t] / samples;
  const cov = new Float64Array(o * o);
  for (let i = 0; i < o; i++) {
    for (let j = 0; j < o; j++) {
      let s = 0;
      for (let t = 0; t < samples; t++) s += (all[i * samples + t] - mean[i]) * (all[j * samples + t] - mean[j]);
      cov[i * o + j] = s / samples;
    }
  }
  return cov;
}

function apply(m: ArrayLike<number>, rows: number, cols: number, x: Float64Array, samples: number): Float64Array {
  const out = new Float64Array(rows * samples);
  for (let i = 0; i < rows; i++) for (let k = 0; k < cols; k++) for (let t = 0; t < samples; t++) out[i * samples + t] += m[i * cols + k] * x[k * samples + t];
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A random orthogonal matrix with Q·1 = 1 (so it commutes with LayerNorm's centring). */
function rotationFixingOnes(c: number, seed: number): Float64Array {
  const r = new SeededRandom(seed);
  return procrustesFixingOnes(
    Float64Array.from({ length: c * c }, () => r.normal()),
    c,
  );
}

describe('jacobiSvd', () => {
  it('factors a matrix into orthogonal U, V and singular values, also when rank-deficient', () => {
    const r = new SeededRandom(3);
    const n = 7;
    const a = Float64Array.from({ length: n * n }, () => r.normal());
    for (let i = 0; i < n; i++) a[i * n + 6] = a[i * n + 0] * 2; // rank 6
    const { u, s, v } = jacobiSvd(a, n);
    const back = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) back[i * n + j] += u[i * n + k] * s[k] * v[j * n + k];
    expect(maxAbsDiff(back, a)).toBeLessThan(1e-10);
    for (const m of [u, v]) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let d = 0;
          for (let k = 0; k < n; k++) d += m[k * n + i] * m[k * n + j];
          expect(Math.abs(d - (i === j ? 1 : 0))).toBeLessThan(1e-10);
        }
      }
    }
    expect([...s].filter((x) => x === 0)).toHaveLength(1);
  });

  it('polarFactor of a positive semi-definite matrix is the identity, null space included', () => {
    const c = 6;
    const x = features(c, 40, 1);
    for (let t = 0; t < 40; t++) x[5 * 40 + t] = 0; // a channel that never varies
    const cov = stackedCovariance([x], c, 40);
    const r = polarFactor(cov, c);
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) expect(r[i * c + j]).toBeCloseTo(i === j ? 1 : 0, 9);
  });
});

describe('orthogonalMatch', () => {
  const c = 8;
  const samples = 60;

  it('merging a model with itself is the identity (merge·[x; x] = x, unmerge·x = [x; x])', () => {
    const x = features(c, samples, 2);
    const res = orthogonalMatch(stackedCovariance([x, x], c, samples), 2);
    const stacked = new Float64Array(2 * c * samples);
    stacked.set(x);
    stacked.set(x, c * samples);
    expect(maxAbsDiff(apply(res.merge, c, 2 * c, stacked, samples), x)).toBeLessThan(1e-5);
    expect(maxAbsDiff(apply(res.unmerge, 2 * c, c, x, samples), stacked)).toBeLessThan(1e-5);
  });

  it('recovers a rotated copy exactly: the rotation is undone and the merge is model 0', () => {
    const x = features(c, samples, 4);
    const q = rotationFixingOnes(c, 9);
    const y = apply(q, c, c, x, samples);
    const res = orthogonalMatch(stackedCovariance([x, y], c, samples), 2);
    const stacked = new Float64Array(2 * c * samples);
    stacked.set(x);
    stacked.set(y, c * samples);
    expect(maxAbsDiff(apply(res.merge, c, 2 * c, stacked, samples), x)).toBeLessThan(1e-4);
    // unmerge of model 1 is Q: it maps the merged (model 0) basis back to model 1's.
    for (let j = 0; j < c; j++) for (let i = 0; i < c; i++) expect(res.unmerge[(c + j) * c + i]).toBeCloseTo(q[j * c + i], 4);
  });

  it('with fixMean the rotation fixes the all-ones vector; without, a permuted copy is still recovered', () => {
    const x = features(c, samples, 5);
    const z = features(c, samples, 6);
    const res = orthogonalMatch(stackedCovariance([x, z], c, samples), 2);
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = 0; i < c; i++) s += res.unmerge[(c + j) * c + i];
      expect(s).toBeCloseTo(1, 5);
    }
    const perm = [3, 0, 7, 1, 6, 2, 5, 4];
    const p = new Float64Array(c * samples);
    perm.forEach((from, to) => p.set(x.subarray(from * samples, (from + 1) * samples), to * samples));
    const free = orthogonalMatch(stackedCovariance([x, p], c, samples), 2, { fixMean: 0 });
    perm.forEach((from, to) => expect(free.unmerge[(c + to) * c + from]).toBeCloseTo(1, 5));
  });

  it('zip = 1 merges the rotated features with ZipIt!: a rotated copy still merges back to model 0', () => {
    const x = features(c, samples, 7);
    const y = apply(rotationFixingOnes(c, 3), c, c, x, samples);
    const res = orthogonalMatch(stackedCovariance([x, y], c, samples), 2, { zip: 1 });
    const stacked = new Float64Array(2 * c * samples);
    stacked.set(x);
    stacked.set(y, c * samples);
    expect(maxAbsDiff(apply(res.merge, c, 2 * c, stacked, samples), x)).toBeLessThan(1e-3);
  });
});
