import { describe, expect, it } from 'vitest';
import { polarFactor, SeededRandom, zipitMatcher } from '@zipit/core';
import { zipHeads } from './head-zip.js';

/** Covariance [O, O] of samples [S, O] (rows). */
function covariance(x: Float64Array, samples: number, o: number): Float64Array {
  const mean = new Float64Array(o);
  for (let s = 0; s < samples; s++) for (let i = 0; i < o; i++) mean[i] += x[s * o + i] / samples;
  const c = new Float64Array(o * o);
  for (let s = 0; s < samples; s++)
    for (let i = 0; i < o; i++) for (let j = 0; j < o; j++) c[i * o + j] += ((x[s * o + i] - mean[i]) * (x[s * o + j] - mean[j])) / samples;
  return c;
}

function randomRotation(rng: SeededRandom, d: number): Float64Array {
  return polarFactor(
    Float64Array.from({ length: d * d }, () => rng.normal()),
    d,
  );
}

/** Head features of two models, [S, 2·H·d]: `second(head, x0)` gives model 1's head from model 0's heads. */
function pair(
  samples: number,
  heads: number,
  d: number,
  first: (s: number, h: number, i: number) => number,
  second: (h: number, x0: Float64Array) => Float64Array,
) {
  const c = heads * d;
  const x = new Float64Array(samples * 2 * c);
  for (let s = 0; s < samples; s++) {
    const x0 = Float64Array.from({ length: c }, (_, e) => first(s, Math.floor(e / d), e % d));
    x.set(x0, s * 2 * c);
    for (let h = 0; h < heads; h++) x.set(second(h, x0), s * 2 * c + c + h * d);
  }
  return x;
}

describe('zipHeads', () => {
  it('recovers a copy whose heads are permuted and rotated: every merged head is one head of each model, exactly aligned', () => {
    const rng = new SeededRandom(3);
    const [heads, d, samples] = [3, 4, 400];
    const perm = [2, 0, 1]; // model 1's head h is model 0's head perm[h], rotated
    const rot = perm.map(() => randomRotation(rng, d));
    const scale = [1, 2, 3];
    const x = pair(
      samples,
      heads,
      d,
      (_, h) => rng.normal() * scale[h],
      (h, x0) => {
        const src = x0.subarray(perm[h] * d, perm[h] * d + d);
        return Float64Array.from({ length: d }, (_, i) => rot[h].slice(i * d, i * d + d).reduce((a, r, j) => a + r * src[j], 0));
      },
    );
    const o = 2 * heads * d;
    const cov = covariance(x, samples, o);
    const [r] = zipHeads([{ covariance: cov, headDim: d }], 2, heads, zipitMatcher, { alpha: 0.5, beta: 1 });
    const c = heads * d;
    // merge·[x0; x1] = x0 and unmerge maps it back onto both models, sample by sample.
    let err = 0;
    for (let s = 0; s < samples; s += 37) {
      const xs = x.subarray(s * o, s * o + o);
      const z = Float64Array.from({ length: c }, (_, g) => r.merge.slice(g * o, g * o + o).reduce((a, m, e) => a + m * xs[e], 0));
      for (let e = 0; e < o; e++) err = Math.max(err, Math.abs(r.unmerge.slice(e * c, e * c + c).reduce((a, u, g) => a + u * z[g], 0) - xs[e]));
    }
    expect(err).toBeLessThan(1e-6);
  });

  it('merges two heads of one model when they are rotated copies of each other and the other model has nothing like them', () => {
    const rng = new SeededRandom(4);
    const [heads, d, samples] = [2, 3, 300];
    const rot = randomRotation(rng, d);
    const x = pair(
      samples,
      heads,
      d,
      () => rng.normal(),
      () => Float64Array.from({ length: d }, () => rng.normal()),
    );
    // Model 0's head 1 := rot · head 0.
    const o = 2 * heads * d;
    for (let s = 0; s < samples; s++) {
      const h0 = x.slice(s * o, s * o + d);
      for (let i = 0; i < d; i++) x[s * o + d + i] = rot.slice(i * d, i * d + d).reduce((a, r, j) => a + r * h0[j], 0);
    }
    const [qk, v] = zipHeads(
      [
        { covariance: covariance(x, samples, o), headDim: d },
        { covariance: covariance(x, samples, o), headDim: d },
      ],
      2,
      heads,
      zipitMatcher,
      { alpha: 0.5, beta: 1 },
    );
    for (const r of [qk, v]) {
      const c = heads * d;
      const readers = (g: number) =>
        [0, 1, 2, 3].filter((u) => r.unmerge[u * d * c + g * d] !== 0 || r.unmerge[(u * d + 1) * c + g * d] !== 0 || r.unmerge[(u * d + 2) * c + g * d] !== 0);
      const groups = [0, 1].map(readers);
      expect(groups).toContainEqual([0, 1]);
      expect(groups).toContainEqual([2, 3]);
    }
  });
});
