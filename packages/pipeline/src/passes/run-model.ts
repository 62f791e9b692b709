import { singleDataInput, tapValues, type Graph, type Tensor } from '@zipit/core';
import { walkBatches, type Batch, type Batches, type PassOptions } from './batches.js';

export interface RunModelOptions extends PassOptions {
  /**
   * Values to return per batch: graph outputs or any intermediate value (tapped by adding it as
   * a graph output). Default: the graph outputs.
   */
  fetch?: readonly string[];
}

export interface BatchResult {
  /** Position of the batch in the dataset. */
  index: number;
  batch: Batch;
  /** The fetched values by name. */
  values: Record<string, Tensor>;
}

/**
 * Runs a single-input model over a dataset on `opts.executor`, yielding the fetched values batch by batch.
 * Memory stays at one batch: nothing is kept between iterations. The session is released when
 * the loop ends, breaks or throws.
 */
export async function* runModel(graph: Graph, batches: Batches, opts: RunModelOptions): AsyncGenerator<BatchResult> {
  const input = singleDataInput(graph, opts.file).name;
  const fetch = opts.fetch ?? graph.outputs.map((o) => o.name);
  const tapped = tapValues(graph, fetch, { file: opts.file });
  const session = await opts.executor.createSession(tapped, opts);
  try {
    let index = 0;
    for await (const batch of walkBatches(batches, opts)) {
      const values = await session.run({ [input]: batch.x }, fetch);
      yield { index: index++, batch, values };
    }
  } finally {
    await session.release();
  }
}
