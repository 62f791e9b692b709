import { channelMomentsGraph, PooledMoments, samplesPerChannel, type Graph } from '@zipit/core';
import type { Batches, PassOptions } from './batches.js';
import { runModel } from './run-model.js';

/**
 * Per-channel (axis 1) mean and standard deviation (population, biased) of some values of a
 * model over a dataset, pooled over every sample (images × positions) in float64: the result does
 * not depend on how the dataset is batched (a model that fixes its batch size gets batches of
 * that size). Reductions run inside the executor's session; only per-channel vectors reach
 * JavaScript.
 */
export async function channelMoments(
  graph: Graph,
  values: readonly string[],
  batches: Batches,
  opts: PassOptions,
): Promise<{ mean: Float64Array; std: Float64Array }[]> {
  const { graph: g, moments } = channelMomentsGraph(graph, values, opts.operators);
  const acc = moments.map((m) => new PooledMoments(m.channels));
  const fetch = moments.flatMap((m) => [m.mean, m.variance, m.shape]);
  for await (const { values: out } of runModel(g, batches, { ...opts, fetch })) {
    moments.forEach((m, i) => {
      acc[i].add(out[m.mean].data as Float32Array, out[m.variance].data as Float32Array, samplesPerChannel(out[m.shape].data as BigInt64Array));
    });
  }
  return acc.map((a) => a.result());
}
