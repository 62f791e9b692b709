import { join } from 'node:path';
import { tensor, type ValueInfo } from '@zipit/core';
import { assertFiniteBatch, sampleLimit, type BatchOptions, type DataBatch, type Dataset, type DatasetInfo } from './dataset.js';
import { decodeImage } from './image-decode.js';
import { listImageFolder, selectFolderItems, type FolderItem } from './image-folder.js';
import { normalizeTable, resolveImagePreprocessing, writeSample, type ImagePreprocessOptions, type ImagePreprocessing } from './image-preprocess.js';
import { formatDatasetSpec, type FolderSpec } from './spec.js';

export interface OpenImageFolderOptions {
  /** The model input the samples are for (channels and, unless a crop is given, height and width). */
  input?: ValueInfo;
  preprocess?: ImagePreprocessOptions;
  /** Seed of the per-class sample drawn when a pass has a `limit` (default 0). */
  seed?: number;
  /** Directory that a relative folder resolves against (default: the working directory). */
  baseDir?: string;
}

/** Decoding runs this many batches ahead of the consumer (one: decoding overlaps the consumer's work on the previous batch). */
const PREFETCH = 1;

/**
 * An image folder (see {@link listImageFolder}) as NCHW float32 batches for a model input,
 * preprocessed as {@link resolveImagePreprocessing} decides. A pass with a `limit` reads that many
 * images spread evenly over the classes, chosen by the seed; without one it reads every image.
 * Memory: the file names, plus the batch being consumed and the one being decoded — whatever
 * the folder's size. Decoding runs on sharp's (libuv's) threads while the consumer works.
 */
export async function openImageFolder(spec: FolderSpec, opts: OpenImageFolderOptions = {}): Promise<Dataset> {
  const listing = await listImageFolder(spec, opts.baseDir);
  const text = formatDatasetSpec(spec);
  const p = resolveImagePreprocessing(opts.preprocess ?? {}, opts.input, text);
  const tables = normalizeTable(p);
  const seed = opts.seed ?? 0;
  const samples = listing.files.reduce((n, f) => n + f.length, 0);
  const labelled = listing.layout === 'classes';
  const info: DatasetInfo = {
    spec: text,
    kind: 'folder',
    classes: listing.classIndices,
    classNames: listing.classNames,
    numClasses: listing.classNames && listing.classNames.length,
    split: null,
    samples,
    sampleShape: [p.channels, ...p.size],
    preprocessing: null,
    imagePreprocessing: p,
  };
  const per = p.channels * p.size[0] * p.size[1];

  const decodeBatch = async (items: readonly FolderItem[]): Promise<DataBatch> => {
    const x = new Float32Array(items.length * per);
    await Promise.all(
      items.map(async (item, i) => {
        const image = await decodeImage(join(listing.root, item.file), `${listing.dir}/${item.file}`, p);
        writeSample(x, i * per, image, p, tables);
      }),
    );
    const batch: DataBatch = { x: tensor('float32', [items.length, p.channels, ...p.size], x) };
    if (labelled) batch.y = BigInt64Array.from(items, (item) => BigInt(item.label));
    return batch;
  };

  return {
    info,
    async *batches(batchOpts: BatchOptions): AsyncGenerator<DataBatch> {
      const limit = sampleLimit(batchOpts);
      const items = selectFolderItems(listing, limit, seed);
      const size = batchOpts.batchSize;
      const pending: Promise<DataBatch>[] = [];
      let next = 0;
      const schedule = () => {
        while (pending.length <= PREFETCH && next < items.length) {
          const batch = decodeBatch(items.slice(next, next + size));
          batch.catch(() => undefined);
          pending.push(batch);
          next += size;
        }
      };
      try {
        for (let done = 0; done < items.length; ) {
          batchOpts.signal?.throwIfAborted();
          schedule();
          const batch = await pending.shift()!;
          assertFiniteBatch(batch.x, text, done);
          done += batch.x.shape[0];
          schedule();
          yield batch;
        }
      } finally {
        await Promise.allSettled(pending);
      }
    },
  };
}

/** The preprocessing a folder dataset applies (for reports). */
export function describeImagePreprocessing(p: ImagePreprocessing): string {
  const steps = [p.channels === 1 ? 'Grayscale' : 'RGB'];
  if (p.resize !== null) steps.push(`Resize(${p.resize})`);
  steps.push(`CenterCrop(${p.crop[0] === p.crop[1] ? p.crop[0] : p.crop.join('×')})`);
  if (p.crop[0] !== p.size[0] || p.crop[1] !== p.size[1]) steps.push(`Pad to ${p.size.join('×')}`);
  steps.push(`Normalize(mean ${p.mean.map((m) => +m.toFixed(4)).join(',')}, std ${p.std.map((s) => +s.toFixed(4)).join(',')})`);
  return steps.join(' → ');
}
