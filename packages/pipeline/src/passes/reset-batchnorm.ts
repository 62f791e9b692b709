import { BatchNormAverage, batchNormStatsGraph, type Graph } from '@zipit/core';
import type { Batches, PassOptions } from './batches.js';
import { runModel } from './run-model.js';

export interface ResetBatchNormResult {
  graph: Graph;
  /** BatchNormalization nodes whose statistics were re-estimated. */
  nodes: string[];
}

/**
 * Re-estimates the running statistics of every BatchNormalization from data, as the ZipIt!
 * reference does after zipping: reset, then one pass in train mode (each BatchNorm normalises
 * by its batch's statistics) accumulating the cumulative average of batch means and unbiased
 * batch variances. The statistics are computed inside the executor's session; only per-channel vectors
 * reach JavaScript. Returns a new graph; a graph without BatchNormalization comes back as is.
 */
export async function resetBatchNorm(graph: Graph, batches: Batches, opts: PassOptions): Promise<ResetBatchNormResult> {
  const { graph: train, taps } = batchNormStatsGraph(graph, opts.operators);
  if (taps.length === 0) return { graph, nodes: [] };
  const avg = new BatchNormAverage(taps);
  const fetch = taps.flatMap((t) => [t.meanOutput, t.varOutput, t.shapeOutput]);
  for await (const { values } of runModel(train, batches, { ...opts, fetch })) {
    avg.add((name) => values[name] as { data: Float32Array | BigInt64Array });
  }
  return { graph: avg.apply(graph), nodes: taps.map((t) => t.node) };
}
