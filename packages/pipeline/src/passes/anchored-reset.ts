import { anchorBatchNormStats, type Graph } from '@zipit/core';
import type { Batches, PassOptions } from './batches.js';
import { resetBatchNorm, type ResetBatchNormResult } from './reset-batchnorm.js';

/**
 * The anchored BatchNorm reset of a zipped model (core's `anchorBatchNormStats`): the
 * reference's reset of `merged`, shifted per channel by how far the sources' stored statistics
 * sit from their own train-mode statistics on the same data. `rezip` zips source graphs with the
 * transforms that made `merged` (the zip is linear in the running statistics, so it carries the
 * sources' train-mode statistics to the merged channels as it carried the stored ones).
 *
 * One train-mode pass per source model and one of the merged model (the reference's reset is
 * the last alone). A model merged with itself comes back with its stored statistics, exactly.
 * `data` must yield the same batches on every call.
 */
export async function anchoredResetBatchNorm(
  merged: Graph,
  sources: readonly Graph[],
  rezip: (graphs: Graph[]) => Graph,
  data: () => Batches,
  opts: PassOptions,
): Promise<ResetBatchNormResult> {
  const resetSources: Graph[] = [];
  for (const source of sources) resetSources.push((await resetBatchNorm(source, data(), opts)).graph);
  const reset = await resetBatchNorm(merged, data(), opts);
  if (reset.nodes.length === 0) return reset;
  return anchorBatchNormStats(reset.graph, merged, rezip(resetSources));
}
