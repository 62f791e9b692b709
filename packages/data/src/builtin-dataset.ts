import { FormatError, tensor } from '@zipit/core';
import { BUILTIN_DATASETS, IMAGE_PIXELS, builtinFile, type BuiltinDataset, type Split } from './builtin.js';
import { assertFiniteBatch, sampleLimit, type BatchOptions, type DataBatch, type Dataset, type DatasetInfo } from './dataset.js';
import { readJsonImages } from './json-images.js';
import { preprocessInto, resolvePreprocessing, sampleShape, type PreprocessOptions } from './preprocess.js';
import { formatDatasetSpec, type BuiltinSpec } from './spec.js';

/** One image of a built-in dataset with its remapped label (0..k−1). */
export interface LabelledImage {
  /** 28×28 bytes, row-major. */
  image: Uint8Array;
  label: number;
}

/**
 * The images of some classes of a built-in dataset in one split, classes interleaved in
 * proportion to their sizes (at every prefix, each class has its share ±1), so any prefix is a
 * class-balanced sample and every batch mixes all classes (what BatchNorm re-estimation needs).
 * Within a class the order is the package's. Reads one chunk of each class file at a time.
 */
export async function* readBuiltinImages(dataset: BuiltinDataset, classes: readonly number[], split: Split): AsyncGenerator<LabelledImage> {
  const ranges = classes.map((c) => dataset.range(c, split));
  const counts = ranges.map(([a, b]) => b - a);
  const emitted = new Array<number>(classes.length).fill(0);
  const total = counts.reduce((a, b) => a + b, 0);
  const sources = classes.map((c, k) => readJsonImages(builtinFile(dataset, c), dataset.layout, IMAGE_PIXELS, ranges[k][0], ranges[k][1]));
  try {
    for (let t = 0; t < total; t++) {
      let pick = -1;
      let best = Infinity;
      for (let k = 0; k < classes.length; k++) {
        if (emitted[k] === counts[k]) continue;
        const progress = (emitted[k] + 0.5) / counts[k];
        if (progress < best) {
          best = progress;
          pick = k;
        }
      }
      const next = await sources[pick].next();
      if (next.done) {
        throw new FormatError(`class ${classes[pick]} of ${dataset.name} has ${emitted[pick]} ${split} images, expected ${counts[pick]}`, {
          file: builtinFile(dataset, classes[pick]),
          hint: `reinstall the ${dataset.packageName} package (pnpm install)`,
        });
      }
      emitted[pick]++;
      yield { image: next.value, label: pick };
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}

export interface OpenBuiltinOptions {
  /** The split to read when the spec names none. */
  defaultSplit: Split;
  preprocess?: PreprocessOptions;
}

/** A built-in dataset selected by a spec, preprocessed to NCHW float32 batches. */
export function openBuiltinDataset(spec: BuiltinSpec, opts: OpenBuiltinOptions): Dataset {
  const dataset = BUILTIN_DATASETS[spec.dataset];
  const split = spec.split ?? opts.defaultSplit;
  const classes = [...spec.classes];
  const preprocessing = resolvePreprocessing(opts.preprocess ?? {}, dataset);
  const shape = sampleShape(preprocessing);
  const samples = classes.reduce((n, c) => {
    const [a, b] = dataset.range(c, split);
    return n + b - a;
  }, 0);
  const info: DatasetInfo = {
    spec: formatDatasetSpec({ ...spec, split }),
    kind: 'builtin',
    classes,
    classNames: classes.map((c) => dataset.classNames[c]),
    numClasses: classes.length,
    split,
    samples,
    sampleShape: shape,
    preprocessing,
  };
  return {
    info,
    async *batches(batchOpts: BatchOptions): AsyncGenerator<DataBatch> {
      const limit = Math.min(sampleLimit(batchOpts), samples);
      const per = shape[0] * shape[1] * shape[2];
      const size = batchOpts.batchSize;
      let done = 0;
      let x = new Float32Array(Math.min(size, limit) * per);
      let y = new BigInt64Array(Math.min(size, limit));
      let filled = 0;
      if (limit === 0) return;
      batchOpts.signal?.throwIfAborted();
      for await (const { image, label } of readBuiltinImages(dataset, classes, split)) {
        preprocessInto(x, filled * per, image, preprocessing);
        y[filled++] = BigInt(label);
        if (filled === y.length) {
          const batch = { x: tensor('float32', [filled, ...shape], x), y };
          assertFiniteBatch(batch.x, info.spec, done);
          done += filled;
          yield batch;
          batchOpts.signal?.throwIfAborted();
          if (done >= limit) return;
          const next = Math.min(size, limit - done);
          x = new Float32Array(next * per);
          y = new BigInt64Array(next);
          filled = 0;
        }
      }
    },
  };
}

/** A whole split held in memory as bytes (784 per image) — for training, which shuffles. */
export interface LoadedImages {
  info: DatasetInfo;
  /** [count, 28, 28] bytes. */
  images: Uint8Array;
  /** Remapped labels 0..k−1. */
  labels: Int32Array;
  count: number;
}

/**
 * Reads a built-in selection into memory (784 bytes per image: 23.5 MB for the 30,000 training
 * images of `fashion:0-4`). Streaming via {@link openBuiltinDataset} is what evaluation and
 * merging use; this is for programs that need random access.
 */
export async function loadBuiltinImages(spec: BuiltinSpec, opts: OpenBuiltinOptions): Promise<LoadedImages> {
  const { info } = openBuiltinDataset(spec, opts);
  const dataset = BUILTIN_DATASETS[spec.dataset];
  const images = new Uint8Array(info.samples * IMAGE_PIXELS);
  const labels = new Int32Array(info.samples);
  let n = 0;
  for await (const { image, label } of readBuiltinImages(dataset, spec.classes, info.split!)) {
    images.set(image, n * IMAGE_PIXELS);
    labels[n++] = label;
  }
  return { info, images, labels, count: n };
}
