import { pruneToValues, singleDataInput, tapValues, tensor, type Graph, type Tensor } from '@zipit/core';
import { fixedBatch, walkBatches, type Batch, type Batches, type PassOptions, type Remainder } from './batches.js';

export interface RunModelOptions extends PassOptions {
  /**
   * Values to return per batch: graph outputs or any intermediate value. The model run is cut
   * down to what computes them (`pruneToValues`): fetching an early value runs only the layers
   * before it. Default: the graph outputs.
   */
  fetch?: readonly string[];
  /**
   * The batch size every run gets. Default: the one the graph's input fixes (`fixedBatch`), or
   * none (batches as they come) when its first axis is symbolic.
   */
  fixedBatch?: number | null;
  /**
   * With a fixed batch, the samples that do not fill the last batch (see `Remainder`; default
   * `drop`). `pad` requires every fetched value to be per sample (batch first): the padded
   * samples' rows are cut off before the values are yielded.
   */
  remainder?: Remainder;
}

export interface BatchResult {
  /** Position of the batch in the dataset (as run: with a fixed batch, the re-chunked batches). */
  index: number;
  /** The samples run (without padding). */
  batch: Batch;
  /** The fetched values by name. */
  values: Record<string, Tensor>;
}

/**
 * Runs a single-input model over a dataset on `opts.executor`, yielding the fetched values batch by batch.
 * A model whose input fixes its batch size gets batches of exactly that size (`walkBatches`).
 * Memory stays at one batch: nothing is kept between iterations. The session is released when
 * the loop ends, breaks or throws.
 */
export async function* runModel(graph: Graph, batches: Batches, opts: RunModelOptions): AsyncGenerator<BatchResult> {
  const input = singleDataInput(graph, opts.file).name;
  const fetch = opts.fetch ?? graph.outputs.map((o) => o.name);
  const size = opts.fixedBatch !== undefined ? opts.fixedBatch : fixedBatch(graph, opts.file);
  const tapped = opts.fetch ? pruneToValues(graph, fetch, { file: opts.file }) : tapValues(graph, fetch, { file: opts.file });
  const session = await opts.executor.createSession(tapped, opts);
  try {
    let index = 0;
    for await (const walked of walkBatches(batches, { ...opts, fixedBatch: size })) {
      const values = await session.run({ [input]: walked.x }, fetch);
      if (walked.padding === 0) {
        yield { index: index++, batch: { x: walked.x, ...(walked.y ? { y: walked.y } : {}) }, values };
        continue;
      }
      const n = walked.x.shape[0] - walked.padding;
      yield {
        index: index++,
        batch: { x: leading(walked.x, n) as Tensor<'float32'>, ...(walked.y ? { y: walked.y.subarray(0, n) } : {}) },
        values: Object.fromEntries(Object.entries(values).map(([name, t]) => [name, leading(t, n)])),
      };
    }
  } finally {
    await session.release();
  }
}

/** The first `n` rows (axis 0) of a per-sample tensor. */
function leading(t: Tensor, n: number): Tensor {
  const rows = t.shape[0];
  const per = rows > 0 ? t.data.length / rows : 0;
  const data = Array.isArray(t.data) ? t.data.slice(0, n * per) : t.data.subarray(0, n * per);
  return tensor(t.dtype, [n, ...t.shape.slice(1)], data as never);
}
