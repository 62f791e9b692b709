import { describe, expect, it } from 'vitest';
import { ownTransform } from './refit-layers.js';

/** y = A·x for A [r, c] row-major. */
function apply(a: Float64Array, r: number, c: number, x: number[]): number[] {
  return Array.from({ length: r }, (_, i) => x.reduce((s, v, j) => s + a[i * c + j] * v, 0));
}

describe('ownTransform (a model zipped alone, the refit targets)', () => {
  // Two models of 3 features. Merged: row 0 = (a0 + b1)/2, row 1 = (a1 + a2)/2 (a ZipIt! merge within A), row 2 = (b0 + b2)/2.
  const c = 3;
  const merge = new Float64Array(3 * 6);
  const set = (i: number, k: number, j: number, v: number) => (merge[i * 6 + k * 3 + j] = v);
  for (const [i, k, j] of [
    [0, 0, 0],
    [0, 1, 1],
    [1, 0, 1],
    [1, 0, 2],
    [2, 1, 0],
    [2, 1, 2],
  ])
    set(i, k, j, 0.5);
  // Unmerge: each feature reads its merged row.
  const unmerge = new Float64Array(6 * 3);
  const read = (k: number, j: number, i: number) => (unmerge[(k * 3 + j) * 3 + i] = 1);
  for (const [k, j, i] of [
    [0, 0, 0],
    [0, 1, 1],
    [0, 2, 1],
    [1, 1, 0],
    [1, 0, 2],
    [1, 2, 2],
  ])
    read(k, j, i);
  const t = { merge, unmerge };

  it('weights model k into the mean over models by its share: Σₖ N·Mₖxₖ / N is the zip of the features', () => {
    const [xa, xb] = [
      [1, 2, 4],
      [8, 16, 32],
    ];
    const [a, b] = [ownTransform(t, c, 2, 0), ownTransform(t, c, 2, 1)];
    const ya = apply(a.merge as Float64Array, c, c, xa);
    const yb = apply(b.merge as Float64Array, c, c, xb);
    expect(ya.map((v, i) => (v + yb[i]) / 2)).toEqual([(1 + 16) / 2, (2 + 4) / 2, (8 + 32) / 2]);
  });

  it("lets model k alone read its merged features as its members' average, not doubled where it merged two of its own", () => {
    const a = ownTransform(t, c, 2, 0);
    const merged = apply(a.merge as Float64Array, c, c, [1, 2, 4]);
    expect(apply(a.unmerge as Float64Array, c, c, merged)).toEqual([1, 3, 3]);
  });

  it('keeps a permutation and a signed (rotation) merge as they are', () => {
    const p = { merge: Float64Array.from([0, 0.5, 0.5, 0, 0.5, 0, 0, 0.5]), unmerge: Float64Array.from([0, 1, 1, 0, 1, 0, 0, 1]) };
    expect(Array.from(ownTransform(p, 2, 2, 0).unmerge)).toEqual([0, 1, 1, 0]);
    const r = { merge: Float64Array.from([0.5, 0, 0.3, -0.4, 0, 0.5, 0.4, 0.3]), unmerge: Float64Array.from([1, 0, 0, 1, 0.6, 0.8, -0.8, 0.6]) };
    expect(Array.from(ownTransform(r, 2, 2, 1).unmerge)).toEqual([0.6, 0.8, -0.8, 0.6]);
  });
});
