import {
  asGraphMatcher,
  resolveMatcherParams,
  type AnyMatcher,
  type FeatureStats,
  type Graph,
  type MatcherParams,
  type MergeGraph,
  type PointTransform,
} from '@zipit/core';
import { exactAverages } from './numerics.js';

/**
 * Every point's transform from `matcher` (per-point or graph-level), as the pipeline computes
 * them: parameters resolved against the matcher's defaults, blocks aligned across models except
 * for `average`, merge rows that are averages made exact (see `exactAverages`).
 */
export function matchAll(matcher: AnyMatcher, graphs: readonly Graph[], mg: MergeGraph, stats: FeatureStats, params?: MatcherParams): PointTransform[] {
  const m = asGraphMatcher(matcher);
  const results = m.matchGraph({
    mergeGraph: mg,
    numModels: graphs.length,
    graphs,
    covariance: (i) => stats.covariance(i),
    params: resolveMatcherParams(m, params),
    upTo: mg.points.length - 1,
    alignBlocks: m.name !== 'average',
  });
  return results.map((r, i) => {
    if (!r) throw new Error(`matcher "${m.name}" returned no result for point ${i} (${mg.points[i].name})`);
    return { merge: exactAverages(r.merge, mg.points[i].channels), unmerge: r.unmerge };
  });
}
