import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ShapeError, encodeNpy, tensor, type ValueInfo } from '@zipit/core';
import { checkSampleShape, preprocessingForInput } from './input-shape.js';
import { openDataset } from './open.js';

const input = (shape: ValueInfo['shape']): ValueInfo => ({ name: 'input', dtype: 'float32', shape });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zipit-open-'));
  await writeFile(join(dir, 'x.npy'), encodeNpy(tensor('float32', [2, 3, 32, 32], new Float32Array(2 * 3 * 32 * 32))));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openDataset', () => {
  it('preprocesses built-in images to the model input it is given', async () => {
    const grey = await openDataset('mnist:0-4', { defaultSplit: 'test', input: input(['batch', 1, 28, 28]) });
    expect(grey.info.sampleShape).toEqual([1, 28, 28]);
    const rgb = await openDataset('mnist:0-4', { defaultSplit: 'test', input: input([null, 3, 32, 32]) });
    expect(rgb.info.sampleShape).toEqual([3, 32, 32]);
    expect(rgb.info.split).toBe('test');
  });

  it('lets explicit preprocessing override the mean/std but not break the shape check', async () => {
    const ds = await openDataset('mnist:0-4', { defaultSplit: 'train', input: input(['batch', 3, 32, 32]), preprocess: { mean: 0.5, std: 0.5 } });
    expect(ds.info.preprocessing).toMatchObject({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], size: 32, channels: 3 });
    await expect(openDataset('mnist:0-4', { defaultSplit: 'train', input: input(['batch', 3, 32, 32]), preprocess: { size: 36 } })).rejects.toThrow(ShapeError);
  });

  it('refuses a built-in dataset for an input it cannot fit, naming both', async () => {
    const fail = (shape: ValueInfo['shape']) => openDataset('fashion:0-4', { defaultSplit: 'test', input: input(shape) });
    await expect(fail(['batch', 3, 24, 24])).rejects.toThrow(
      /dataset fashion:0-4 gives 28×28 grey images, which do not fit model input "input" \[batch, 3, 24, 24\]/,
    );
    await expect(fail(['batch', 3, 32, 30])).rejects.toThrow('not square');
    await expect(fail(['batch', 16, 3])).rejects.toThrow('rank 3');
    await expect(fail(['batch', 'c', 32, 32])).rejects.toThrow('fixed numbers');
  });

  it('checks .npy samples against the input', async () => {
    const ok = await openDataset('x.npy', { defaultSplit: 'test', baseDir: dir, input: input(['batch', 3, 32, 32]) });
    expect(ok.info.sampleShape).toEqual([3, 32, 32]);
    const bad = openDataset('x.npy', { defaultSplit: 'test', baseDir: dir, input: input(['batch', 1, 28, 28]) });
    await expect(bad).rejects.toThrow(ShapeError);
    await expect(openDataset('x.npy', { defaultSplit: 'test', baseDir: dir, input: input(['batch', 1, 28, 28]) })).rejects.toThrow(
      'dataset x.npy gives samples of shape [3, 32, 32] but model input "input" is [batch, 1, 28, 28] (save the images as [N, 1, 28, 28] float32)',
    );
  });

  it('passes spec errors through', async () => {
    await expect(openDataset('mnist:0-11', { defaultSplit: 'test' })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('checkSampleShape', () => {
  const info = {
    spec: 'd',
    kind: 'npy' as const,
    classes: null,
    classNames: null,
    numClasses: null,
    split: null,
    samples: 1,
    sampleShape: [3, 8, 8],
    preprocessing: null,
  };
  it('accepts symbolic and unknown dims and an unknown rank', () => {
    expect(() => checkSampleShape(info, input(['n', 3, 'h', null]))).not.toThrow();
    expect(() => checkSampleShape(info, input(null))).not.toThrow();
  });
  it('refuses a different rank or a different fixed dim', () => {
    expect(() => checkSampleShape(info, input(['n', 3, 8]))).toThrow(ShapeError);
    expect(() => checkSampleShape(info, input(['n', 1, 8, 8]))).toThrow(ShapeError);
  });
});

describe('preprocessingForInput', () => {
  it('takes channels and size from an NCHW input', () => {
    expect(preprocessingForInput(input(['batch', 3, 32, 32]), 'mnist')).toEqual({ channels: 3, size: 32 });
    expect(preprocessingForInput(input(null), 'mnist')).toEqual({});
    expect(() => preprocessingForInput(input(['batch', 3, 33, 33]), 'mnist')).toThrow('cannot be padded symmetrically');
  });
});
