import { matchMergeGraph, type Graph, type Matcher, type MatcherParams, type MatchResult, type MergeGraph, type MergePoint } from '@zipit/core';
import { zipHeads } from './head-zip.js';
import { blendSimilarity, mlpWeightSimilarity } from './weight-similarity.js';

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
   * core's `matchMergeGraph` does for shared transforms), `separate` matches every segment on
   * its own (zipped junctions then carry Σₖ M_{b,k}·U_{b−1,k}, no longer the identity). Default
   * `covariance`.
   */
  streamPool?: 'covariance' | 'correlation' | 'separate';
  /** Align heads across models before matching within them (default true). */
  alignBlocks?: boolean;
  /** Match points 0 … upTo only. */
  upTo?: number;
  /**
   * MLP hidden units matched on (1 − λ)·correlation + λ·weight similarity (`mlpWeightSimilarity`:
   * their incoming and outgoing weights compared in the aligned stream basis), the models'
   * graphs given (the ones being merged: folded if the statistics are). Needs the pooled stream
   * (`streamPool: 'covariance'`).
   */
  mlpWeights?: { graphs: readonly Graph[]; lambda: number };
  /**
   * Heads as units (`zipHeads`): this matcher (ZipIt!) groups every layer's N·H heads — within
   * and across models — by their rotational alignment, and merged heads average their members
   * rotated onto one another. Replaces `attention`.
   */
  headZip?: VitPointMatch;
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
      const graph = kind === 'stream' && opts.streamPool === 'separate' ? { ...mg, points: mg.points.map(({ shareTransform: _, ...p }) => p) } : mg;
      byKind.set(kind, (r = matchMergeGraph(graph, cov, numModels, m.matcher, m.params, { upTo, alignBlocks: opts.alignBlocks ?? true })));
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
  const mlpPoints = mg.points.filter((p) => vitPointKind(p) === 'mlp').map((p) => p.index);
  const weighted = (p: MergePoint): MatchResult => {
    const w = opts.mlpWeights!;
    const sim = mlpWeightSimilarity(w.graphs as Graph[], mlpPoints.indexOf(p.index), stream());
    return opts.mlp.matcher.match(blendSimilarity(cov(p.index), sim, w.lambda), numModels, opts.mlp.params);
  };
  const zippedHeads = new Map<number, MatchResult>();
  const headsOf = (p: MergePoint): MatchResult => {
    if (!zippedHeads.has(p.index)) {
      const layer = mg.points.filter((q) => q.blocks?.group === p.blocks!.group);
      const hz = opts.headZip!;
      const r = zipHeads(
        layer.map((q) => ({ covariance: cov(q.index), headDim: q.blocks!.size })),
        numModels,
        p.blocks!.count,
        hz.matcher,
        hz.params,
      );
      layer.forEach((q, i) => zippedHeads.set(q.index, r[i]));
    }
    return zippedHeads.get(p.index)!;
  };
  return mg.points.map((p) => {
    if (p.index > upTo) return undefined;
    const kind = vitPointKind(p);
    if (kind === 'attention' && opts.headZip) return headsOf(p);
    if (kind === 'stream' && (opts.streamPool ?? 'covariance') === 'covariance') return stream();
    if (kind === 'mlp' && opts.mlpWeights) return weighted(p);
    return results(kind)[p.index];
  });
}
