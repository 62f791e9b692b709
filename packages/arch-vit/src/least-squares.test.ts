import { describe, expect, it } from 'vitest';
import { SeededRandom } from '@zipit/core';
import { buildVit } from './build.js';
import { LinearFit, readLinear, vitFitLayers, writeLinear } from './least-squares.js';
import { prepareVit } from './prepare.js';

describe('least-squares refit', () => {
  it('recovers a linear map with bias from its inputs and outputs, and the ridge pulls towards the prior', () => {
    const rng = new SeededRandom(9);
    const [n, o, rows] = [5, 3, 400];
    const w = Float64Array.from({ length: o * n }, () => rng.normal());
    const b = Float64Array.from({ length: o }, () => rng.normal());
    const x = Float32Array.from({ length: rows * n }, () => rng.normal());
    const y = new Float32Array(rows * o);
    for (let r = 0; r < rows; r++) for (let j = 0; j < o; j++) y[r * o + j] = b[j] + w.slice(j * n, j * n + n).reduce((a, wi, i) => a + wi * x[r * n + i], 0);
    const fit = new LinearFit(n, o);
    fit.add(x.subarray(0, 200 * n), y.subarray(0, 200 * o));
    fit.add(x.subarray(200 * n), y.subarray(200 * o));
    const exact = fit.solve(new Float64Array(o * n), 0);
    for (let e = 0; e < w.length; e++) expect(exact.w[e]).toBeCloseTo(w[e], 4);
    for (let j = 0; j < o; j++) expect(exact.b[j]).toBeCloseTo(b[j], 4);
    // An enormous ridge returns the prior.
    const prior = Float64Array.from({ length: o * n }, (_, e) => e / 10);
    const pulled = fit.solve(prior, 1e9);
    for (let e = 0; e < w.length; e++) expect(pulled.w[e]).toBeCloseTo(prior[e], 5);
    expect(() => fit.add(x.subarray(0, 7), y)).toThrow(/do not pair up/);
  });

  it('walks a prepared ViT in graph order and writes weights back in the layer axis order', () => {
    const g = prepareVit(buildVit({ depth: 2, heads: 2, dim: 8, qkv: 'fused', seed: 3 }));
    const layers = vitFitLayers(g);
    expect(layers.map((l) => l.module)).toEqual([
      'blocks.0.attn.qkv',
      'blocks.0.attn.proj',
      'blocks.0.mlp.fc1',
      'blocks.0.mlp.fc2',
      'blocks.1.attn.qkv',
      'blocks.1.attn.proj',
      'blocks.1.mlp.fc1',
      'blocks.1.mlp.fc2',
    ]);
    expect(vitFitLayers(g, { junctions: true })).toHaveLength(10);
    const fc1 = layers[2];
    const names = { weight: fc1.weight, bias: fc1.bias };
    const { w, b } = readLinear(g, fc1, names);
    const w2 = w.map((v, e) => v + e);
    const back = readLinear(
      writeLinear(
        g,
        fc1,
        names,
        w2,
        b.map((v) => v * 2),
      ),
      fc1,
      names,
    );
    for (let e = 0; e < w.length; e++) expect(back.w[e]).toBeCloseTo(w2[e], 3);
    for (let j = 0; j < b.length; j++) expect(back.b[j]).toBeCloseTo(2 * b[j], 5);
  });
});
