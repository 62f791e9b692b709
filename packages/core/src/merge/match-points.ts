import { alignBlocks, identityBlockOrder, matchBlockwise } from '../match/block-match.js';
import type { FeatureSignatures } from '../match/feature-signatures.js';
import type { MatchContext, Matcher, MatcherParams, MatchResult } from '../match/matcher.js';
import { correlation64 } from '../stats/correlation.js';
import type { MergeGraph } from './merge-graph.js';

export interface MatchPointsOptions {
  /** Match points 0 … upTo only (default: all). */
  upTo?: number;
  /**
   * Align blocks (attention heads) across models before matching within them (default true).
   * False keeps block j of every model in merged block j (heads matched by index), which is
   * what plain averaging means.
   */
  alignBlocks?: boolean;
  /**
   * Point i's feature means [N·C] (model-major), passed to the matcher (`MatchContext`) on
   * points matched whole from their own covariance. Not on points sharing a transform (matched
   * from pooled correlations) nor on blocked ones (matched from sub-matrices).
   */
  means?: (point: number) => Float32Array | Float64Array;
  /** Point i's feature signatures (`MatchContext.signatures`), passed where the means are. */
  signatures?: (point: number) => FeatureSignatures;
}

/**
 * Runs a matcher over the points of a merge graph. Points that share a transform
 * (`shareTransform`) are matched once, from the average of their correlation matrices, and get
 * the same result. Points without blocks are matched whole.
 * Points with blocks are matched block-wise (see `matchBlockwise`): blocks are first aligned
 * across models (`alignBlocks`), once per `blocks.group` from the covariances of all the
 * group's points, so the Q·Kᵀ and V points of an attention layer put the same heads together.
 * `covariance(i)` is point i's covariance [N·C, N·C] (model-major).
 */
export function matchMergeGraph(
  mg: MergeGraph,
  covariance: (point: number) => Float32Array | Float64Array,
  numModels: number,
  matcher: Matcher,
  params?: MatcherParams,
  opts: MatchPointsOptions = {},
): (MatchResult | undefined)[] {
  const upTo = opts.upTo ?? mg.points.length - 1;
  const align = opts.alignBlocks ?? true;
  const cache = new Map<number, Float32Array | Float64Array>();
  const own = (i: number) => {
    let c = cache.get(i);
    if (!c) cache.set(i, (c = covariance(i)));
    return c;
  };
  const pooled = new Map<string, Float64Array>();
  /** A point's statistics: its covariance, or the mean correlation of the points it shares a transform with. */
  const cov = (i: number): Float32Array | Float64Array => {
    const key = mg.points[i].shareTransform;
    if (key === undefined) return own(i);
    let c = pooled.get(key);
    if (!c) {
      const members = mg.points.filter((q) => q.shareTransform === key);
      const n = numModels * mg.points[i].channels;
      c = new Float64Array(n * n);
      for (const q of members) {
        const r = correlation64(own(q.index), n);
        for (let e = 0; e < c.length; e++) c[e] += r[e] / members.length;
      }
      pooled.set(key, c);
    }
    return c;
  };
  const results = new Map<string, MatchResult>();
  const orders = new Map<string, Int32Array[]>();
  const matchPoint = (p: MergeGraph['points'][number]): MatchResult => {
    const blocks = p.blocks;
    if (!blocks || blocks.count <= 1) {
      const means = opts.means && p.shareTransform === undefined ? opts.means(p.index) : undefined;
      if (!means) return matcher.match(cov(p.index), numModels, params);
      const sign = opts.signatures;
      // Signatures are computed on first read: matchers that ignore them pay nothing.
      let signed: FeatureSignatures | undefined;
      const context: MatchContext = sign
        ? {
            means,
            get signatures() {
              signed ??= sign(p.index);
              return signed;
            },
          }
        : { means };
      return matcher.match(cov(p.index), numModels, params, context);
    }
    const key = blocks.group ?? `#${p.index}`;
    let order = orders.get(key);
    if (!order) {
      const members = mg.points.filter((q) => q.index === p.index || (blocks.group !== undefined && q.blocks?.group === blocks.group));
      order = align
        ? alignBlocks(
            members.map((q) => cov(q.index)),
            numModels,
            blocks,
          )
        : identityBlockOrder(numModels, blocks.count);
      orders.set(key, order);
    }
    return matchBlockwise(cov(p.index), numModels, blocks, order, (sub, n) => matcher.match(sub, n, params));
  };
  return mg.points.map((p) => {
    if (p.index > upTo) return undefined;
    const key = p.shareTransform;
    if (key === undefined) return matchPoint(p);
    let r = results.get(key);
    if (!r) results.set(key, (r = matchPoint(p)));
    return r;
  });
}
