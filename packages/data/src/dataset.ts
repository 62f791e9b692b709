import { InvalidArgumentError, NumericError, type Tensor } from '@zipit/core';
import type { Split } from './builtin.js';
import type { ImagePreprocessing } from './image-preprocess.js';
import type { Preprocessing } from './preprocess.js';

/**
 * One batch: images `x` [B, C, H, W] float32 (NCHW, the model's input layout) and, for a
 * labelled dataset, labels `y` (B int64, 0..numClasses−1). The same shape as the ONNX runtime's
 * `Batch`, so a dataset's batches feed `runModel`/`evaluateModel` directly.
 */
export interface DataBatch {
  x: Tensor<'float32'>;
  y?: BigInt64Array;
}

export interface DatasetInfo {
  /** The spec in canonical form (`mnist:0-4:test`, `X.npy:Y.npy`). */
  spec: string;
  kind: 'builtin' | 'npy' | 'folder';
  /**
   * Original class of each label: label k means class `classes[k]` of the source dataset
   * (`mnist:5-9` → [5, 6, 7, 8, 9]). For `.npy` data, [0 … max label]; for an image folder, the
   * class folders' indices among all its class folders (ImageFolder's class_to_idx); null without labels.
   */
  classes: readonly number[] | null;
  /** Human-readable names of `classes` (built-in datasets; class folder names), else null. */
  classNames: readonly string[] | null;
  /** Number of distinct labels a head for this task has (classes.length), or null without labels. */
  numClasses: number | null;
  /** The split read (built-in datasets), else null. */
  split: Split | null;
  /** Samples in the dataset (before any `limit`). */
  samples: number;
  /** Shape of one sample as the batches deliver it, e.g. [3, 32, 32]. */
  sampleShape: readonly number[];
  /** The preprocessing applied (built-in datasets), else null. */
  preprocessing: Preprocessing | null;
  /** The preprocessing applied to the files of an image folder. */
  imagePreprocessing?: ImagePreprocessing;
}

export interface BatchOptions {
  /** Samples per batch (the last batch may be smaller). */
  batchSize: number;
  /** Stop after this many samples (default: all). Built-in datasets interleave classes, so a limit keeps them balanced. */
  limit?: number;
  /** Stops between batches; the iteration rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A dataset that can be read any number of times, front to back, in a fixed order. Reading
 * keeps one batch (plus small read buffers) in memory, whatever the dataset size.
 */
export interface Dataset {
  readonly info: DatasetInfo;
  batches(opts: BatchOptions): AsyncIterable<DataBatch>;
}

/** Throws a NumericError naming the dataset and the first sample that holds NaN or ±Inf. */
export function assertFiniteBatch(x: Tensor<'float32'>, dataset: string, firstSample: number, file?: string): void {
  const data = x.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v - v !== 0) {
      const per = data.length / x.shape[0];
      const sample = firstSample + Math.floor(i / per);
      throw new NumericError(`dataset ${dataset}: sample ${sample} holds ${Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'} (element ${i % per})`, {
        file,
        hint: 'clean the images (e.g. np.nan_to_num) before merging or evaluating',
      });
    }
  }
}

/** Validates batch options; returns the sample limit as a number (Infinity for none). */
export function sampleLimit(opts: BatchOptions): number {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new InvalidArgumentError(`batchSize must be a positive integer, got ${opts.batchSize}`);
  }
  const limit = opts.limit ?? Infinity;
  if (limit !== Infinity && (!Number.isInteger(limit) || limit < 0)) {
    throw new InvalidArgumentError(`limit must be a non-negative integer, got ${opts.limit}`);
  }
  return limit;
}
