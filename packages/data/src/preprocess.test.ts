import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError } from '@zipit/core';
import { preprocessBatch, resolvePreprocessing } from './preprocess.js';

const defaults = { mean: 0.25, std: 0.5 };

describe('resolvePreprocessing', () => {
  it('defaults to 32×32×3 with the dataset statistics on every channel', () => {
    expect(resolvePreprocessing({}, defaults)).toEqual({ size: 32, channels: 3, mean: [0.25, 0.25, 0.25], std: [0.5, 0.5, 0.5] });
    expect(resolvePreprocessing({ mean: [0.1, 0.2, 0.3], std: 1, size: 28, channels: 3 }, defaults)).toEqual({
      size: 28,
      channels: 3,
      mean: [0.1, 0.2, 0.3],
      std: [1, 1, 1],
    });
  });

  it('refuses sizes below 28 or not symmetric, bad channel counts and non-positive std', () => {
    expect(() => resolvePreprocessing({ size: 24 }, defaults)).toThrow(ShapeError);
    expect(() => resolvePreprocessing({ size: 31 }, defaults)).toThrow('not symmetric');
    expect(() => resolvePreprocessing({ channels: 0 }, defaults)).toThrow(InvalidArgumentError);
    expect(() => resolvePreprocessing({ std: 0 }, defaults)).toThrow('std must be positive');
    expect(() => resolvePreprocessing({ mean: Number.NaN }, defaults)).toThrow('mean must be finite');
    expect(() => resolvePreprocessing({ mean: [0, 1] }, defaults)).toThrow('mean has 2 values for 3 channels');
  });
});

describe('preprocessBatch', () => {
  it('pads centred, replicates channels and normalises per channel (NCHW)', () => {
    const image = new Uint8Array(784);
    image[0] = 255; // top-left pixel of the 28×28 image
    image[783] = 51; // bottom-right
    const p = resolvePreprocessing({ size: 30, channels: 2, mean: [0, 0.2], std: [1, 0.5] }, defaults);
    const x = preprocessBatch([image, new Uint8Array(784)], p);
    expect(x.shape).toEqual([2, 2, 30, 30]);
    const at = (n: number, c: number, r: number, k: number) => x.data[((n * 2 + c) * 30 + r) * 30 + k];
    expect(at(0, 0, 1, 1)).toBeCloseTo(1, 6);
    expect(at(0, 1, 1, 1)).toBeCloseTo((1 - 0.2) / 0.5, 6);
    expect(at(0, 0, 28, 28)).toBeCloseTo(0.2, 6);
    expect(at(0, 1, 28, 28)).toBeCloseTo(0, 6);
    expect(at(0, 0, 0, 0)).toBe(0);
    expect(at(0, 1, 0, 0)).toBeCloseTo(-0.4, 6);
    expect(at(1, 1, 15, 15)).toBeCloseTo(-0.4, 6);
  });
});
