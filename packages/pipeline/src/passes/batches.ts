import {
  InvalidArgumentError,
  ShapeError,
  singleDataInput,
  tensor,
  type Executor,
  type Graph,
  type OperatorRegistry,
  type SessionOptions,
  type Tensor,
} from '@zipit/core';

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
  /** Batches done (as run: with a fixed batch, the re-chunked batches). */
  batches: number;
  /** Samples (images or sequences) done; padding is not counted. */
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
 * What becomes of the last samples of a dataset that do not fill a fixed batch:
 * - `drop`: left out. Passes that reduce over the batch inside the graph (statistics, channel
 *   moments, BatchNorm statistics) cannot tell padding from data, so they drop; a batch of 1
 *   (PyTorch's default export) never leaves any.
 * - `pad`: filled with copies of the last sample, which the consumer ignores (`padding`); for
 *   per-sample outputs (evaluation's logits), so that every sample is evaluated.
 */
export type Remainder = 'drop' | 'pad';

export interface WalkOptions extends Pick<PassOptions, 'signal' | 'onProgress' | 'file'> {
  /**
   * The batch size the model's input fixes (see `fixedBatch`): the data stream is re-chunked so
   * that every yielded batch has exactly this many samples, across the dataset's own batch
   * boundaries. null or absent: batches pass as they come.
   */
  fixedBatch?: number | null;
  /** With `fixedBatch`: the last partial batch (default `drop`). */
  remainder?: Remainder;
}

/** A batch as a pass runs it. */
export interface WalkedBatch extends Batch {
  /** Trailing copies of the last sample that fill a fixed batch (`remainder: 'pad'`); their outputs are not data. */
  padding: number;
}

/**
 * The batch size a model's data input fixes, or null when its first axis is symbolic. A model
 * exported without `dynamic_axes` whose computation depends on its batch (torchvision's
 * VisionTransformer reshapes to constants like `[65, 1·heads, 16]`) keeps its fixed input, and
 * every pass feeds it batches of exactly that size. For several models run together (one
 * statistics graph) the fixed ones must agree.
 */
export function fixedBatch(graphs: Graph | readonly Graph[], file?: string): number | null {
  const list = Array.isArray(graphs) ? (graphs as readonly Graph[]) : [graphs as Graph];
  const fixed = [...new Set(list.map((g) => singleDataInput(g, file).shape?.[0]).filter((d): d is number => typeof d === 'number' && d > 0))];
  if (fixed.length > 1) {
    throw new InvalidArgumentError(`the models fix different batch sizes (${fixed.join(' vs ')}); they cannot run on the same batches`, {
      file,
      hint: 'export them with the same batch, or with dynamic_axes={"input": {0: "batch"}}',
    });
  }
  return fixed[0] ?? null;
}

/**
 * Walks a dataset: checks each batch, honours the abort signal before each and reports
 * progress once the consumer has handled it. With `fixedBatch`, yields batches of exactly that
 * size (see `WalkOptions`); the per-sample data are unchanged, so what sums over samples (the
 * statistics' Gram matrices, pooled channel moments) is the same up to float rounding as one
 * pass with the dataset's own batches. What a graph computes per batch (BatchNorm in train mode,
 * REPAIR's per-batch normalisation) sees the fixed batch.
 */
export async function* walkBatches(batches: Batches, opts: WalkOptions = {}): AsyncGenerator<WalkedBatch> {
  const progress: Progress = { batches: 0, samples: 0 };
  const size = opts.fixedBatch ?? null;
  if (size !== null && !(Number.isInteger(size) && size >= 1))
    throw new InvalidArgumentError(`a fixed batch must be a positive integer, not ${size}`, { file: opts.file });
  const chunks = size === null ? checked(batches, opts.file) : rechunk(batches, size, opts.remainder ?? 'drop', opts.file);
  opts.signal?.throwIfAborted();
  for await (const batch of chunks) {
    opts.signal?.throwIfAborted();
    yield batch;
    progress.batches++;
    progress.samples += batch.x.shape[0] - batch.padding;
    opts.onProgress?.({ ...progress });
    opts.signal?.throwIfAborted();
  }
}

async function* checked(batches: Batches, file: string | undefined): AsyncGenerator<WalkedBatch> {
  let index = 0;
  for await (const batch of batches) {
    checkBatch(batch, index++, file);
    yield { x: batch.x, y: batch.y, padding: 0 };
  }
}

/**
 * The dataset's samples in batches of exactly `size`. A batch of that size that starts on a
 * chunk boundary passes as is (views, no copy); otherwise samples are copied into the next chunk.
 */
async function* rechunk(batches: Batches, size: number, remainder: Remainder, file: string | undefined): AsyncGenerator<WalkedBatch> {
  let sampleShape: number[] | undefined;
  let per = 0;
  let labelled: boolean | undefined;
  let x: Float32Array | undefined; // the chunk being filled
  let y: BigInt64Array | undefined;
  let filled = 0;
  let seen = 0;
  const chunk = (xs: Float32Array, ys: BigInt64Array | undefined, padding = 0): WalkedBatch => ({
    x: tensor('float32', [size, ...sampleShape!], xs),
    ...(ys ? { y: ys } : {}),
    padding,
  });
  let index = 0;
  for await (const batch of batches) {
    checkBatch(batch, index, file);
    const n = batch.x.shape[0];
    const shape = batch.x.shape.slice(1);
    if (!sampleShape) {
      sampleShape = shape;
      per = shape.reduce((a, d) => a * d, 1);
      labelled = batch.y !== undefined;
    } else if (shape.length !== sampleShape.length || shape.some((d, i) => d !== sampleShape![i])) {
      throw new ShapeError(
        `batch ${index}: samples of shape [${shape.join(', ')}] after [${sampleShape.join(', ')}]; a fixed batch of ${size} is filled across batches`,
        { file },
      );
    }
    if ((batch.y !== undefined) !== labelled) throw new InvalidArgumentError(`batch ${index}: some batches carry labels and others do not`, { file });
    index++;
    seen += n;
    const xs = batch.x.data;
    let at = 0;
    while (at < n) {
      if (filled === 0 && n - at >= size) {
        yield chunk(xs.subarray(at * per, (at + size) * per), batch.y?.subarray(at, at + size));
        at += size;
        continue;
      }
      x ??= new Float32Array(size * per);
      if (labelled) y ??= new BigInt64Array(size);
      const take = Math.min(size - filled, n - at);
      x.set(xs.subarray(at * per, (at + take) * per), filled * per);
      y?.set(batch.y!.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield chunk(x, y);
        x = undefined;
        y = undefined;
        filled = 0;
      }
    }
  }
  if (filled > 0 && remainder === 'pad') {
    for (let k = filled; k < size; k++) {
      x!.copyWithin(k * per, (filled - 1) * per, filled * per);
      if (y) y[k] = y[filled - 1];
    }
    yield chunk(x!, y, size - filled);
  } else if (filled > 0 && seen === filled) {
    throw new InvalidArgumentError(`the model fixes its batch at ${size} samples and the dataset has only ${seen}`, {
      file,
      hint: `give at least ${size} samples, or export the model with dynamic_axes={"input": {0: "batch"}}`,
    });
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
