import { describe, expect, it } from 'vitest';
import { ShapeError } from '../errors.js';
import { applyAlongAxis, applySparseAlongAxis, sparseRows } from './apply-along-axis.js';

function random(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Straightforward index arithmetic: out[idx with axis=i] = Σ_j E[i,j] x[idx with axis=j]. */
function naive(e: (i: number, j: number) => number, outDim: number, x: Float64Array, shape: number[], axis: number): Float64Array {
  const outShape = [...shape];
  outShape[axis] = outDim;
  const total = outShape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(total);
  const strides = (s: number[]) => s.map((_, d) => s.slice(d + 1).reduce((p, q) => p * q, 1));
  const os = strides(outShape);
  const xs = strides(shape);
  for (let flat = 0; flat < total; flat++) {
    const idx = os.map((st, d) => Math.floor(flat / st) % outShape[d]);
    let acc = 0;
    for (let j = 0; j < shape[axis]; j++) {
      let xi = 0;
      for (let d = 0; d < shape.length; d++) xi += (d === axis ? j : idx[d]) * xs[d];
      acc += e(idx[axis], j) * x[xi];
    }
    out[flat] = acc;
  }
  return out;
}

describe('applyAlongAxis', () => {
  const shape = [3, 4, 2, 5];
  const x = random(3 * 4 * 2 * 5, 7);

  it('multiplies A into every axis of a 4-d tensor', () => {
    for (let axis = 0; axis < shape.length; axis++) {
      const k = shape[axis];
      const rows = 6;
      const a = random(rows * k, 11 + axis);
      const outShape = [...shape];
      outShape[axis] = rows;
      const out = new Float64Array(outShape.reduce((p, d) => p * d, 1));
      applyAlongAxis(out, a, rows, k, x, shape, axis);
      const want = naive((i, j) => a[i * k + j], rows, x, shape, axis);
      for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(want[i], 12);
    }
  });

  it('multiplies Aᵀ with transpose (an unmerge [K, R] applied to a consumer axis)', () => {
    const axis = 1;
    const k = shape[axis];
    const cols = 3;
    const u = random(k * cols, 5); // stored [k, cols]
    const out = new Float64Array(3 * cols * 2 * 5);
    applyAlongAxis(out, u, k, cols, x, shape, axis, { transpose: true });
    const want = naive((i, j) => u[j * cols + i], cols, x, shape, axis);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(want[i], 12);
  });

  it('accumulates into out when asked and overwrites otherwise', () => {
    const a = random(4 * 4, 3);
    const once = new Float64Array(x.length);
    applyAlongAxis(once, a, 4, 4, x, shape, 1);
    const twice = new Float64Array(x.length).fill(123);
    applyAlongAxis(twice, a, 4, 4, x, shape, 1);
    applyAlongAxis(twice, a, 4, 4, x, shape, 1, { accumulate: true });
    for (let i = 0; i < x.length; i++) expect(twice[i]).toBeCloseTo(2 * once[i], 12);
  });

  it('permutes exactly with a permutation matrix and writes float32 outputs', () => {
    const perm = [2, 0, 3, 1];
    const p = new Float32Array(16);
    perm.forEach((src, dst) => (p[dst * 4 + src] = 1));
    const xf = Float32Array.from(x);
    const out = new Float32Array(xf.length);
    applyAlongAxis(out, p, 4, 4, xf, shape, 1);
    for (let o = 0; o < 3; o++) {
      for (let i = 0; i < 4; i++) {
        for (let n = 0; n < 10; n++) expect(out[o * 40 + i * 10 + n]).toBe(xf[o * 40 + perm[i] * 10 + n]);
      }
    }
  });

  it('rejects mismatched sizes, bad axes and aliasing with a ShapeError', () => {
    const a = new Float32Array(12);
    expect(() => applyAlongAxis(new Float64Array(x.length), a, 3, 4, x, shape, 0)).toThrow(ShapeError);
    expect(() => applyAlongAxis(new Float64Array(x.length), a, 4, 3, x, shape, 4)).toThrow(ShapeError);
    expect(() => applyAlongAxis(new Float64Array(5), new Float32Array(16), 4, 4, x, shape, 1)).toThrow(ShapeError);
    expect(() => applyAlongAxis(x, new Float32Array(16), 4, 4, x, shape, 1)).toThrow(/alias/);
  });
});

describe('applySparseAlongAxis', () => {
  it('equals the dense kernel for A and Aᵀ on every axis, with and without accumulation', () => {
    const shape = [2, 5, 3];
    const x = random(30, 9);
    for (let axis = 0; axis < 3; axis++) {
      const k = shape[axis];
      const a = random(4 * k, 21 + axis).map((v) => (v > 0.3 ? v : 0));
      for (const transpose of [false, true]) {
        const [rows, cols] = transpose ? [k, 4] : [4, k];
        const aa = transpose ? random(k * 4, 3 + axis).map((v) => (v > 0.3 ? v : 0)) : a;
        const outShape = [...shape];
        outShape[axis] = 4;
        const n = outShape.reduce((p, d) => p * d, 1);
        const dense = applyAlongAxis(new Float64Array(n), aa, rows, cols, x, shape, axis, { transpose });
        const sparse = applySparseAlongAxis(new Float64Array(n), sparseRows(aa, rows, cols, transpose), x, shape, axis);
        for (let i = 0; i < n; i++) expect(sparse[i]).toBeCloseTo(dense[i], 12);
        applySparseAlongAxis(sparse, sparseRows(aa, rows, cols, transpose), x, shape, axis, { accumulate: true });
        for (let i = 0; i < n; i++) expect(sparse[i]).toBeCloseTo(2 * dense[i], 12);
      }
    }
  });

  it('stores only non-zeros and rejects a size mismatch', () => {
    const s = sparseRows(Float32Array.of(0, 2, 0, 0, 0, 3), 2, 3);
    expect([...s.rowPtr]).toEqual([0, 1, 2]);
    expect([...s.colIdx]).toEqual([1, 2]);
    expect([...s.values]).toEqual([2, 3]);
    expect(() => applySparseAlongAxis(new Float64Array(4), s, new Float64Array(4), [2, 2], 1)).toThrow(ShapeError);
  });
});
