import type { MergeGraph } from '@zipit/core';

/**
 * The correlation matrix of one merge point's stacked features (N models × C channels), small
 * enough for a report: before matching in model-major order (model 0's channels first), after
 * matching with the members of each merged feature side by side (merged features in the
 * matcher's order, members model-major within). When N·C exceeds `maxSide`, rows and columns
 * are binned into `side` nearly equal runs of consecutive features and each cell is the mean of
 * its block, so the structure (the within-model diagonal before, the matched pairs along the
 * diagonal after) survives at lower resolution.
 */
export interface CorrelationView {
  /** Stacked features N·C (the full matrix is features × features). */
  features: number;
  /** Side of the stored matrices (= features unless binned). */
  side: number;
  /** Correlation × 100 rounded to an integer, [side, side] row-major, model-major feature order. */
  before: number[];
  /** The same matrix with the features reordered by merged feature, [side, side]. */
  after: number[];
  /** Merged feature boundaries in `after`'s bins (bin index where each merged feature starts). */
  groupStarts: number[];
}

/** Default largest side of a stored correlation matrix (64 × 64 × 2 small integers per point). */
export const CORRELATION_SIDE = 64;

/**
 * The report's view of one point's correlation before and after matching.
 * `cov` [n, n] (n = numModels · channels, model-major), `unmerge` [n, channels] 0/1 from the matcher.
 */
export function correlationView(
  cov: Float32Array | Float64Array,
  unmerge: Float32Array,
  channels: number,
  numModels: number,
  maxSide = CORRELATION_SIDE,
): CorrelationView {
  const n = channels * numModels;
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) std[i] = Math.sqrt(Math.max(cov[i * n + i], 0));
  const corr = (i: number, j: number) => cov[i * n + j] / Math.max(std[i] * std[j], 1e-7);

  const order: number[] = [];
  const starts: number[] = [];
  for (let g = 0; g < channels; g++) {
    starts.push(order.length);
    for (let r = 0; r < n; r++) if (unmerge[r * channels + g] !== 0) order.push(r);
  }
  const side = Math.min(n, Math.max(1, maxSide));
  const bin = (b: number) => Math.floor((b * n) / side);
  const binned = (perm: (i: number) => number) => {
    const out = new Array<number>(side * side);
    for (let a = 0; a < side; a++) {
      for (let b = 0; b < side; b++) {
        let s = 0;
        let count = 0;
        for (let i = bin(a); i < bin(a + 1); i++) for (let j = bin(b); j < bin(b + 1); j++, count++) s += corr(perm(i), perm(j));
        out[a * side + b] = Math.round((100 * s) / count) || 0;
      }
    }
    return out;
  };
  const binOf = (feature: number) => Math.floor((feature * side) / n);
  return {
    features: n,
    side,
    before: binned((i) => i),
    after: order.length === n ? binned((i) => order[i]) : binned((i) => i),
    groupStarts: [...new Set(starts.map(binOf))],
  };
}

/** The merge graph as a report draws it: points along depth, the layers joining them, heads and barriers. */
export interface NetworkView {
  points: { index: number; name: string; channels: number; stopPoint: boolean; residual: boolean; producers: string[]; consumers: string[] }[];
  /** [from, to]: a layer reading point `from` writes point `to`. */
  edges: [number, number][];
  /** Task heads and the point feeding each (-1: none). */
  heads: { name: string; node: string; classes: number; input: number }[];
  /** Operators that stopped propagation; `after` is the last point before them in graph order (-1: before all). */
  barriers: { node: string; opType: string; reason: string; after: number }[];
}

/**
 * The drawable structure of a merge graph. `nodeOrder` (the graph's node names in order) places
 * barriers between points; without it they are drawn after the last point.
 */
export function networkView(mg: MergeGraph, nodeOrder?: readonly string[]): NetworkView {
  const edges: [number, number][] = [];
  for (const a of mg.points) {
    const reads = new Set(a.consumerNodes);
    for (const b of mg.points) if (b.index !== a.index && b.producerNodes.some((n) => reads.has(n))) edges.push([a.index, b.index]);
  }
  const position = new Map(nodeOrder?.map((n, i) => [n, i]));
  const pointAt = mg.points.map((p) => Math.min(...p.producerNodes.map((n) => position.get(n) ?? Infinity)));
  return {
    points: mg.points.map((p) => ({
      index: p.index,
      name: p.name,
      channels: p.channels,
      stopPoint: p.stopPoint,
      residual: p.ties.length > 0,
      producers: [...p.producerNodes],
      consumers: [...p.consumerNodes],
    })),
    edges,
    heads: mg.heads.map((h) => ({ name: h.name, node: h.node, classes: h.classes, input: h.input })),
    barriers: mg.barriers.map((b) => {
      const at = position.get(b.node);
      const after = at === undefined ? mg.points.length - 1 : pointAt.filter((x) => x < at).length - 1;
      return { node: b.node, opType: b.opType, reason: b.reason, after };
    }),
  };
}
