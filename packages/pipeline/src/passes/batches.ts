import { InvalidArgumentError, ShapeError, type Executor, type OperatorRegistry, type SessionOptions, type Tensor } from '@zipit/core';

/**
 * One batch of a dataset: inputs `x` (NCHW images or [B, T, C] tokens; the first axis is the
 * batch) and, for evaluation, integer labels `y` (one per sample).
 */
export interface Batch {
  x: Tensor<'float32'>;
  y?: BigInt64Array;
}

/** A dataset: any (async) iterable of batches; it is read once, front to back. */
export type Batches = AsyncIterable<Batch> | Iterable<Batch>;

export interface Progress {
  /** Batches done. */
  batches: number;
  /** Samples (images or sequences) done. */
  samples: number;
}

/** Options of every pass over a dataset. */
export interface PassOptions extends SessionOptions {
  /** The runtime that runs the pass's graph (e.g. `ortExecutor` from @zipit/runtime-ort). */
  executor: Executor;
  /** Stops the pass between batches; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called after each batch. */
  onProgress?: (p: Progress) => void;
  /** The operators whose shape inference the pass's graph rewrites need (custom ones included); default: the built-in ones. */
  operators?: OperatorRegistry;
}

/**
 * Walks a dataset: checks each batch, honours the abort signal before each and reports
 * progress once the consumer has handled it.
 */
export async function* walkBatches(batches: Batches, opts: Pick<PassOptions, 'signal' | 'onProgress' | 'file'> = {}): AsyncGenerator<Batch> {
  const progress: Progress = { batches: 0, samples: 0 };
  opts.signal?.throwIfAborted();
  for await (const batch of batches) {
    opts.signal?.throwIfAborted();
    checkBatch(batch, progress.batches, opts.file);
    yield batch;
    progress.batches++;
    progress.samples += batch.x.shape[0];
    opts.onProgress?.({ ...progress });
    opts.signal?.throwIfAborted();
  }
}

function checkBatch(batch: Batch, index: number, file: string | undefined): void {
  const x = batch?.x;
  if (!x || x.dtype !== 'float32' || !(x.data instanceof Float32Array)) {
    throw new InvalidArgumentError(`batch ${index}: x must be a float32 tensor`, { file });
  }
  if (x.shape.length < 1 || x.shape[0] < 1) {
    throw new ShapeError(`batch ${index}: x has shape [${x.shape.join(', ')}], expected a non-empty batch axis first`, { file });
  }
  if (batch.y !== undefined && batch.y.length !== x.shape[0]) {
    throw new ShapeError(`batch ${index}: ${batch.y.length} labels for ${x.shape[0]} samples`, { file });
  }
}
