import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError, NotFoundError, NumericError, ShapeError, UnsupportedError, encodeNpy, tensor, type Tensor } from '@zipit/core';
import type { DataBatch, Dataset } from './dataset.js';
import { openNpyDataset } from './npy-dataset.js';
import { parseDatasetSpec, type NpySpec } from './spec.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zipit-npy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function save(name: string, t: Tensor): Promise<string> {
  await writeFile(join(dir, name), encodeNpy(t));
  return name;
}

function images(n: number, sample: number[] = [1, 2, 3]): Tensor<'float32'> {
  const per = sample.reduce((a, b) => a * b, 1);
  return tensor(
    'float32',
    [n, ...sample],
    Float32Array.from({ length: n * per }, (_, i) => i * 0.5 - 3),
  );
}

function labels(values: number[]): Tensor<'int64'> {
  return tensor(
    'int64',
    [values.length],
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
}

const open = (text: string) => openNpyDataset(parseDatasetSpec(text) as NpySpec, { baseDir: dir });

async function collect(dataset: Dataset, batchSize: number, limit?: number): Promise<DataBatch[]> {
  const out: DataBatch[] = [];
  for await (const b of dataset.batches({ batchSize, limit })) out.push(b);
  return out;
}

describe('openNpyDataset', () => {
  it('streams X in batches with the matching labels, the last batch short', async () => {
    const x = images(7);
    await save('x.npy', x);
    await save('y.npy', labels([0, 2, 1, 2, 0, 1, 1]));
    const dataset = await open('x.npy:y.npy');
    expect(dataset.info).toMatchObject({ spec: 'x.npy:y.npy', kind: 'npy', samples: 7, sampleShape: [1, 2, 3], numClasses: 3, classes: [0, 1, 2] });
    const batches = await collect(dataset, 3);
    expect(batches.map((b) => b.x.shape)).toEqual([
      [3, 1, 2, 3],
      [3, 1, 2, 3],
      [1, 1, 2, 3],
    ]);
    expect(Float32Array.from(batches.flatMap((b) => [...b.x.data]))).toEqual(x.data);
    expect(batches.flatMap((b) => [...b.y!])).toEqual([0n, 2n, 1n, 2n, 0n, 1n, 1n]);
  });

  it('honours the sample limit and reads images-only data without labels', async () => {
    await save('x5.npy', images(5));
    const dataset = await open('x5.npy');
    expect(dataset.info.numClasses).toBeNull();
    const batches = await collect(dataset, 2, 3);
    expect(batches.map((b) => b.x.shape[0])).toEqual([2, 1]);
    expect(batches.every((b) => b.y === undefined)).toBe(true);
  });

  it('accepts int32 labels', async () => {
    await save('x2.npy', images(2));
    await save('y32.npy', tensor('int32', [2], Int32Array.of(4, 1)));
    const [batch] = await collect(await open('x2.npy:y32.npy'), 8);
    expect([...batch.y!]).toEqual([4n, 1n]);
  });

  it('NaN or Inf in an image is a NumericError naming the dataset and the sample', async () => {
    const x = images(6);
    x.data[4 * 6 + 2] = Number.NaN;
    await save('xnan.npy', x);
    const dataset = await open('xnan.npy');
    await expect(collect(dataset, 4)).rejects.toThrow(NumericError);
    await expect(collect(dataset, 4)).rejects.toThrow(/dataset xnan\.npy: sample 4 holds NaN/);
    x.data[4 * 6 + 2] = Number.POSITIVE_INFINITY;
    await save('xinf.npy', x);
    await expect(collect(await open('xinf.npy'), 2)).rejects.toThrow(/sample 4 holds \+Inf/);
  });

  it('refuses labels that do not match the images', async () => {
    await save('x3.npy', images(3));
    await save('y2.npy', labels([0, 1]));
    await expect(open('x3.npy:y2.npy')).rejects.toThrow(ShapeError);
    await expect(open('x3.npy:y2.npy')).rejects.toThrow('x3.npy holds 3 images but y2.npy holds 2 labels');
    await save('yneg.npy', labels([0, -1, 1]));
    await expect(open('x3.npy:yneg.npy')).rejects.toThrow(FormatError);
    await save('y2d.npy', tensor('int64', [3, 1], BigInt64Array.of(0n, 1n, 2n)));
    await expect(open('x3.npy:y2d.npy')).rejects.toThrow('expected [N]');
    await save('yf.npy', tensor('float32', [3], Float32Array.of(0, 1, 2)));
    await expect(open('x3.npy:yf.npy')).rejects.toThrow(UnsupportedError);
  });

  it('refuses images that are not float32 [N, …], naming the file', async () => {
    await save('x64.npy', tensor('float64', [2, 3], new Float64Array(6)));
    await expect(open('x64.npy')).rejects.toThrow(UnsupportedError);
    await expect(open('x64.npy')).rejects.toThrow(/x64\.npy: images must be float32, got float64/);
    await save('x1d.npy', tensor('float32', [4], new Float32Array(4)));
    await expect(open('x1d.npy')).rejects.toThrow(ShapeError);
  });

  it('refuses a file that is not .npy, a truncated one and a missing one', async () => {
    await writeFile(join(dir, 'text.npy'), 'hello, this is not numpy');
    await expect(open('text.npy')).rejects.toThrow(FormatError);
    const bytes = encodeNpy(images(4));
    await writeFile(join(dir, 'short.npy'), bytes.subarray(0, bytes.length - 10));
    await expect(open('short.npy')).rejects.toThrow(/short\.npy: truncated \.npy data/);
    await expect(open('missing.npy')).rejects.toThrow(NotFoundError);
    await save('x4.npy', images(4));
    await expect(open('x4.npy:missing.npy')).rejects.toThrow(NotFoundError);
  });

  it('reads version 2 headers', async () => {
    const bytes = encodeNpy(images(3));
    const header = new TextDecoder().decode(bytes.subarray(10, 128));
    const v2 = new Uint8Array(bytes.length + 2);
    v2.set(bytes.subarray(0, 8));
    v2[6] = 2;
    new DataView(v2.buffer).setUint32(8, header.length, true);
    v2.set(bytes.subarray(10), 12);
    await writeFile(join(dir, 'v2.npy'), v2);
    const [batch] = await collect(await open('v2.npy'), 8);
    expect(batch.x.data).toEqual(images(3).data);
  });
});
