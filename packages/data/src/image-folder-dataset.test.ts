import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError, InvalidArgumentError, NotFoundError, ShapeError, type ValueInfo } from '@zipit/core';
import { BUILTIN_DATASETS } from './builtin.js';
import { readBuiltinImages } from './builtin-dataset.js';
import type { DataBatch } from './dataset.js';
import { exportBuiltinImages } from './image-export.js';
import { listImageFolder, selectFolderItems, evenQuotas } from './image-folder.js';
import { openDataset } from './open.js';
import { preprocessBatch, resolvePreprocessing } from './preprocess.js';
import { parseDatasetSpec, type FolderSpec } from './spec.js';

const root = mkdtempSync(join(tmpdir(), 'zipit-folder-'));
const digits = join(root, 'digits');
const FIXTURES = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const rgb32: ValueInfo = { name: 'input', dtype: 'float32', shape: ['N', 3, 32, 32] };
const PER_CLASS = 6;

async function collect(batches: AsyncIterable<DataBatch>): Promise<DataBatch[]> {
  const out: DataBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

/** Largest |a − b| (a whole-array toEqual would print megabytes on failure). */
function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function folder(text: string): FolderSpec {
  return parseDatasetSpec(text) as FolderSpec;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  await exportBuiltinImages(parseDatasetSpec('mnist:test') as never, digits, { perClass: PER_CLASS });
});

describe('exportBuiltinImages', () => {
  it('writes an ImageFolder tree of PNGs named by class, and refuses a non-empty target', async () => {
    expect(readdirSync(digits)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(readdirSync(join(digits, '7'))).toHaveLength(PER_CLASS);
    expect(readdirSync(join(digits, '7'))[0]).toBe('7_00000.png');
    const e = await rejection(exportBuiltinImages(parseDatasetSpec('mnist:0') as never, digits, { perClass: 1 }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(readdirSync(root).filter((n) => n.includes('partial'))).toEqual([]);
  });
});

describe('image folders', () => {
  it('reproduces the built-in data through the mnist preset (PNG is lossless, 28 → 32 is zero padding)', async () => {
    const ds = await openDataset(digits, { defaultSplit: 'test', input: rgb32, images: { preset: 'mnist' } });
    expect(ds.info).toMatchObject({
      kind: 'folder',
      numClasses: 10,
      samples: 10 * PER_CLASS,
      sampleShape: [3, 32, 32],
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    const builtin = new Map<string, Uint8Array>();
    const seen = new Array<number>(10).fill(0);
    for await (const { image, label } of readBuiltinImages(BUILTIN_DATASETS.mnist, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'test')) {
      if (seen[label] < PER_CLASS) builtin.set(`${label}/${label}_${String(seen[label]++).padStart(5, '0')}.png`, image);
      if (builtin.size === 10 * PER_CLASS) break;
    }
    const items = selectFolderItems(await listImageFolder(folder(digits)), Infinity, 0);
    const batches = await collect(ds.batches({ batchSize: 16 }));
    const x = new Float32Array(batches.flatMap((b) => [...b.x.data]));
    const y = batches.flatMap((b) => [...b.y!].map(Number));
    const expected = preprocessBatch(
      items.map((it) => builtin.get(it.file)!),
      resolvePreprocessing({ size: 32, channels: 3 }, BUILTIN_DATASETS.mnist),
    );
    expect(x.length).toBe(expected.data.length);
    // the same bytes; normalised in float32 steps as PyTorch does vs in double by the built-in path: ≤ 1 ulp
    expect(maxAbsDiff(x, expected.data as Float32Array)).toBeLessThan(1e-6);
    expect(y).toEqual(items.map((it) => Number(it.file[0])));
  });

  it('selects classes by name or integer range, labelled 0..k−1 in sorted order', async () => {
    const ds = await openDataset(`${digits}:7,5-6`, { defaultSplit: 'test', input: rgb32, images: { preset: 'mnist' } });
    expect(ds.info).toMatchObject({ classNames: ['5', '6', '7'], classes: [5, 6, 7], numClasses: 3, samples: 3 * PER_CLASS });
    const labels = (await collect(ds.batches({ batchSize: 4 }))).flatMap((b) => [...b.y!].map(Number));
    expect(labels.slice(0, 3).sort()).toEqual([0, 1, 2]);
  });

  it('draws a limit evenly per class, the same for the same seed, nested as the limit grows, another for another seed', async () => {
    const listing = await listImageFolder(folder(digits));
    const pick = (limit: number, seed: number) => selectFolderItems(listing, limit, seed).map((i) => i.file);
    const counts = new Map<string, number>();
    for (const f of pick(25, 3)) counts.set(f[0], (counts.get(f[0]) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([2, 2, 2, 2, 2, 3, 3, 3, 3, 3]);
    expect(pick(25, 3)).toEqual(pick(25, 3));
    expect(pick(40, 3)).toEqual(expect.arrayContaining(pick(20, 3)));
    expect(pick(20, 4)).not.toEqual(pick(20, 3));
    // every batch mixes the classes: the first 10 items are one per class
    expect(
      new Set(
        pick(60, 1)
          .slice(0, 10)
          .map((f) => f[0]),
      ).size,
    ).toBe(10);
    expect(evenQuotas([1, 10, 10], 12)).toEqual([1, 6, 5]);
  });

  it('reads a flat folder as unlabelled images, JPEG, PNG and WebP alike, converted to the input channels', async () => {
    const flat = join(root, 'flat');
    mkdirSync(flat);
    for (const f of ['scene-64x48.jpg', 'scene-80x60.webp', 'alpha-40x40.png', 'grey-28x28.png', 'notes.txt']) {
      if (f.endsWith('.txt')) writeFileSync(join(flat, f), 'not an image');
      else copyFileSync(join(FIXTURES, f), join(flat, f));
    }
    const grey = await openDataset(flat, { defaultSplit: 'train', input: { name: 'x', dtype: 'float32', shape: [1, 1, 28, 28] }, images: { preset: 'mnist' } });
    expect(grey.info).toMatchObject({ samples: 4, numClasses: null, classes: null, sampleShape: [1, 28, 28] });
    const [batch] = await collect(grey.batches({ batchSize: 8 }));
    expect(batch.y).toBeUndefined();
    expect(batch.x.shape).toEqual([4, 1, 28, 28]);
    await expect(openDataset(`${flat}:cat`, { defaultSplit: 'train', images: { preset: 'mnist' } })).rejects.toThrow(/no class subfolders/);
  });

  it('streams: a pass keeps one batch ahead, and stopping early leaves nothing running', async () => {
    const ds = await openDataset(digits, { defaultSplit: 'test', input: rgb32, images: { preset: 'mnist' } });
    for await (const b of ds.batches({ batchSize: 4 })) {
      expect(b.x.shape[0]).toBe(4);
      break;
    }
    const limited = await collect(ds.batches({ batchSize: 7, limit: 20 }));
    expect(limited.map((b) => b.x.shape[0])).toEqual([7, 7, 6]);
  });
});

describe('bad image folders get a typed error naming the file', () => {
  const open = (dir: string, images = { preset: 'mnist' as const }) => openDataset(dir, { defaultSplit: 'test', input: rgb32, images });

  it('a missing folder, an empty one, an empty class folder, loose images beside classes, an unknown class', async () => {
    expect(await rejection(open(join(root, 'nope')))).toBeInstanceOf(NotFoundError);
    mkdirSync(join(root, 'empty'));
    expect((await rejection(open(join(root, 'empty')))).message).toMatch(/empty: image folder .* holds no images/);
    mkdirSync(join(root, 'hollow', 'a'), { recursive: true });
    mkdirSync(join(root, 'hollow', 'b'), { recursive: true });
    copyFileSync(join(FIXTURES, 'grey-28x28.png'), join(root, 'hollow', 'a', 'x.png'));
    const hollow = await rejection(open(join(root, 'hollow')));
    expect(hollow).toBeInstanceOf(FormatError);
    expect(hollow.message).toContain('hollow/b: class folder b holds no images');
    copyFileSync(join(FIXTURES, 'grey-28x28.png'), join(root, 'hollow', 'loose.png'));
    expect((await rejection(open(join(root, 'hollow')))).message).toMatch(/loose images \(loose\.png\)/);
    const unknown = await rejection(open(`${digits}:3,cat`));
    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(unknown.message).toMatch(/no class folder cat .*its classes: 0, 1, 2/);
  });

  it('a corrupt image fails the pass with a FormatError naming it', async () => {
    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'a'), { recursive: true });
    copyFileSync(join(FIXTURES, 'grey-28x28.png'), join(bad, 'a', 'good.png'));
    writeFileSync(join(bad, 'a', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
    const ds = await open(bad);
    const e = await rejection(collect(ds.batches({ batchSize: 1 })));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(`${bad}/a/broken.jpg: cannot decode the image`);
  });

  it('an image removed after the folder was listed is a NotFoundError naming it', async () => {
    const gone = join(root, 'gone');
    mkdirSync(join(gone, 'a'), { recursive: true });
    copyFileSync(join(FIXTURES, 'grey-28x28.png'), join(gone, 'a', 'x.png'));
    const ds = await open(gone);
    rmSync(join(gone, 'a', 'x.png'));
    const e = await rejection(collect(ds.batches({ batchSize: 1 })));
    expect(e).toBeInstanceOf(NotFoundError);
    expect(e.message).toContain(`${gone}/a/x.png: cannot read the image`);
  });

  it('an image smaller than the crop is a ShapeError naming it and the fix', async () => {
    const ds = await open(digits, { preset: 'none' } as never);
    const e = await rejection(collect(ds.batches({ batchSize: 4 })));
    expect(e).toBeInstanceOf(ShapeError);
    expect(e.message).toMatch(/digits\/\d\/\d_\d+\.png: the image is 28×28, smaller than the 32×32 crop \(give --resize 32/);
  });
});
