import { describe, expect, it } from 'vitest';
import type { MergeGraph, MergePoint, RefitLayer } from '@zipit/core';
import { lossyOutputs, mergeInto, ownTransform } from './refit-layers.js';

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

  it("targets a ZipIt! merge's channels with the zip of the models' true outputs, Σₖ Mₖyₖ, where a model alone would lose them", () => {
    // A MatMul [in 2, out 5] whose output channels 1…3 are the point (offset 1).
    const layer: RefitLayer = { node: 'mm', input: 'x', output: 'y', weight: 'w', bias: 'b', inAxis: 0, inChannels: 2, outChannels: 5 };
    const point = { channels: 3, producers: [{ param: 'w', axis: 1, node: 'mm', offset: 1 }] } as unknown as MergePoint;
    const graph = { points: [point], heads: [], barriers: [] } as MergeGraph;
    const ranges = lossyOutputs(layer, graph, [t], 0, 2);
    expect(ranges.map((r) => [r.offset, r.channels])).toEqual([[1, 3]]);
    const y = Float32Array.from([9, 0, 0, 0, 9]);
    mergeInto(y, ranges[0], [Float32Array.of(0, 1, 2, 4, 0), Float32Array.of(0, 8, 16, 32, 0)], 5, 2);
    expect(Array.from(y)).toEqual([9, (1 + 16) / 2, (2 + 4) / 2, (8 + 32) / 2, 9]);
    // A permutation, a point past the stop and a consumer of the weight are exact alone: nothing to replace.
    const p = { merge: Float64Array.from([0, 0.5, 0, 0.5, 0, 0, 0, 0, 0, 0.5, 0, 0, 0, 0, 0.5, 0, 0, 0.5]), unmerge: t.unmerge };
    expect(lossyOutputs(layer, graph, [p], 0, 2)).toEqual([]);
    expect(lossyOutputs(layer, graph, [t], -1, 2)).toEqual([]);
    const consumer = { points: [{ ...point, producers: [], consumers: point.producers }], heads: [], barriers: [] } as unknown as MergeGraph;
    expect(lossyOutputs(layer, consumer, [t], 0, 2)).toEqual([]);
  });
});
