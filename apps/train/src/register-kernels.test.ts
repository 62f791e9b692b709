import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@zipit/core';
import { useWasmBackend } from './backend.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number | [number, number];
  pad: Pad;
}

const CASES: Case[] = [
  {
    x: [2, 8, 8, 3],
    filter: [3, 3, 3, 4],
    stride: 1,
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  {
    x: [2, 8, 8, 3],
    filter: [3, 3, 3, 4],
    stride: 2,
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  {
    x: [3, 9, 7, 2],
    filter: [3, 3, 2, 5],
    stride: 2,
    pad: [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ],
  },
  { x: [2, 8, 8, 4], filter: [1, 1, 4, 6], stride: 2, pad: 'valid' },
  { x: [2, 7, 7, 4], filter: [1, 1, 4, 3], stride: 2, pad: 'valid' },
  { x: [1, 10, 9, 2], filter: [3, 2, 2, 3], stride: [2, 3], pad: 'same' },
  { x: [2, 6, 6, 3], filter: [5, 5, 3, 2], stride: 1, pad: 'valid' },
  {
    x: [2, 11, 11, 2],
    filter: [3, 3, 2, 2],
    stride: 3,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

/** Gradients of Σ conv2d(x, w) ⊙ r with respect to x and w on the current backend. */
function gradients(c: Case, seed: number): { dx: Float32Array; dw: Float32Array } {
  const rng = new SeededRandom(seed);
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(rng.normalTensor(c.x).data, c.x);
  const w = tf.tensor4d(rng.normalTensor(c.filter).data, c.filter);
  const y = tf.conv2d(x, w, c.stride, c.pad);
  const r = tf.tensor(rng.normalTensor(y.shape).data, y.shape);
  expect(size(y.shape)).toBeGreaterThan(0);
  const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)))([x, w]);
  const out = { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array };
  tf.dispose([x, w, y, r, dx, dw]);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('wasm convolution gradient kernels', () => {
  beforeAll(async () => {
    await useWasmBackend();
  });

  it('Conv2DBackpropFilter exists on wasm after registration', () => {
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
  });

  it.each(CASES.map((c, i) => [i, c] as const))('case %i: filter and input gradients match the cpu backend', async (i, c) => {
    await tf.setBackend('cpu');
    const expected = gradients(c, 100 + i);
    await tf.setBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const actual = gradients(c, 100 + i);
    expect(maxAbsDiff(actual.dw, expected.dw)).toBeLessThan(1e-4);
    expect(maxAbsDiff(actual.dx, expected.dx)).toBeLessThan(1e-4);
  });
});
