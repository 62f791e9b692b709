import { matchMergeGraph, type Matcher, type MatcherParams, type MatchResult, type MergeGraph, type MergePoint } from '@zipit/core';

/** Which matcher a kind of ViT point gets. */
export interface VitPointMatch {
  matcher: Matcher;
  params?: MatcherParams;
}

export interface VitMatchOptions {
  /** The residual stream (every `…:stream` segment). */
  stream: VitPointMatch;
  /** Attention's per-head spaces (Q·Kᵀ and V → output projection). */
  attention: VitPointMatch;
  /** MLP hidden spaces (read by GELU: permutation-type matchers only keep them exact). */
  mlp: VitPointMatch;
  /**
   * How the stream segments' statistics are pooled into one matching: `covariance` sums their
   * covariances (each segment weighs in proportion to its variance, and a rotation matched on
   * it is exact for a rotated copy), `correlation` averages their correlation matrices (what
   * core's `matchMergeGraph` does for shared transforms). Default `covariance`.
   */
  streamPool?: 'covariance' | 'correlation';
  /** Align heads across models before matching within them (default true). */
  alignBlocks?: boolean;
  /** Match points 0 … upTo only. */
  upTo?: number;
}

export type VitPointKind = 'stream' | 'attention' | 'mlp';

/** The kind of a point of a ViT merge graph (as `declareVitMergeGraph` names and shapes them). */
export function vitPointKind(p: MergePoint): VitPointKind {
  if (p.name.endsWith(':stream')) return 'stream';
  return p.blocks ? 'attention' : 'mlp';
}

/**
 * Matches a ViT merge graph with one matcher per kind of point — e.g. orthogonal alignment for
 * the stream and the heads (spaces no element-wise nonlinearity reads) and ZipIt! for the MLP
 * hidden units. Stream segments share one result. `covariance(i)` is point i's covariance
 * [N·C, N·C] (model-major).
 */
export function matchVit(
  mg: MergeGraph,
  covariance: (point: number) => Float32Array | Float64Array,
  numModels: number,
  opts: VitMatchOptions,
): (MatchResult | undefined)[] {
  const upTo = opts.upTo ?? mg.points.length - 1;
  const cache = new Map<number, Float32Array | Float64Array>();
  const cov = (i: number) => {
    let c = cache.get(i);
    if (!c) cache.set(i, (c = covariance(i)));
    return c;
  };
  const byKind = new Map<VitPointKind, (MatchResult | undefined)[]>();
  const results = (kind: VitPointKind) => {
    let r = byKind.get(kind);
    if (!r) {
      const m = opts[kind];
      byKind.set(kind, (r = matchMergeGraph(mg, cov, numModels, m.matcher, m.params, { upTo, alignBlocks: opts.alignBlocks ?? true })));
    }
    return r;
  };
  let pooledStream: MatchResult | undefined;
  const stream = () => {
    if (!pooledStream) {
      const members = mg.points.filter((p) => vitPointKind(p) === 'stream');
      const n = numModels * members[0].channels;
      const sum = new Float64Array(n * n);
      for (const p of members) {
        const c = cov(p.index);
        for (let e = 0; e < sum.length; e++) sum[e] += c[e];
      }
      pooledStream = opts.stream.matcher.match(sum, numModels, opts.stream.params);
    }
    return pooledStream;
  };
  return mg.points.map((p) => {
    if (p.index > upTo) return undefined;
    const kind = vitPointKind(p);
    if (kind === 'stream' && (opts.streamPool ?? 'covariance') === 'covariance') return stream();
    return results(kind)[p.index];
  });
}
