import { InvalidArgumentError, NotFoundError, ShapeError } from '../errors.js';
import type { GraphBody, Node } from '../graph/graph.js';

/**
 * The merge graph of a model: which weights produce and consume each feature space ("merge
 * point"), where its features are observed, and which layers are task heads. It is plain data
 * (JSON-serialisable) so it can be derived automatically (`deriveMergeGraph`), declared by an
 * architecture plugin, saved, inspected and compared.
 *
 * Semantics (DESIGN.md §4): a point with C channels receives, per model k of N, a merge block
 * Mₖ [C, C] and an unmerge block Uₖ [C, C]. Every producer slice gets Mₖ along its axis
 * (new[i] = Σⱼ Mₖ[i, j] · old[j]); every consumer slice gets Uₖ along its axis
 * (new[j] = Σᵢ old[i] · Uₖ[i, j]); the transformed models are summed.
 *
 * Room for attention (the ViT plugin declares these; automatic derivation stops at attention):
 * `blocks` keeps heads whole; `ParamRef.offset` places a point inside a fused projection (one
 * QKV weight); and a bilinear pair such as Q·Kᵀ is one point whose Q projection output is a
 * producer and whose K projection output is a consumer: q' = Mq, k' = Uᵀk, so
 * q'ᵀk' = qᵀ(UM)ᵀk, exact when UM = I (permutations), i.e. Q and K share one transform.
 */
export interface MergeGraph {
  /** Merge points in depth order; `points[i].index === i`. */
  points: MergePoint[];
  /** Task heads: never averaged, one per model in a merged graph. */
  heads: Head[];
  /**
   * Operators that stopped propagation (no rule, or a rule that cannot merge through them), each
   * with the reason; the spaces around them are not merge points. Empty for a fully understood model.
   */
  barriers: Barrier[];
}

/** A slice of a parameter (initializer) that a merge point transforms. */
export interface ParamRef {
  /** Initializer name. */
  param: string;
  /** Axis of the parameter that indexes the point's channels. */
  axis: number;
  /** The node reading the parameter (for display and messages). */
  node: string;
  /**
   * First index of the point's channels along `axis` (default 0). A fused layer (e.g. one
   * projection computing Q, K and V) holds several points side by side on one axis; so does a
   * layer reading a channel concatenation (DenseNet), one point per concatenated input.
   */
  offset?: number;
  /**
   * Entries per channel (default 1): channel c spans `offset + c·repeat … offset + (c+1)·repeat − 1`.
   * A layer reading a channel-major flatten of [C, H, W] (VGG's `Flatten` → `Linear`) sees each
   * channel as H·W consecutive features, so the point's transform acts on that axis as M ⊗ I(H·W).
   */
  repeat?: number;
}

/** A value (graph edge) and the axis that carries its channels. */
export interface ValueAxis {
  value: string;
  axis: number;
  /**
   * First index of the point's channels along `axis` when the value carries more channels than
   * the point (the output of a fused QKV projection holds Q, K and V side by side); default 0.
   */
  offset?: number;
  /** Entries per channel on `axis` after a channel-major flatten (see `ParamRef.repeat`); default 1. */
  repeat?: number;
}

export interface MergePoint {
  /** Position in depth order (0 = shallowest). */
  index: number;
  /**
   * Stable, readable name: `<first consuming layer>:in` (e.g. `layer2.0.conv2:in`) for a space
   * between layers, `<stage>:stream` (e.g. `layer1:stream`) for a residual stream.
   */
  name: string;
  /** Channel count C. */
  channels: number;
  /**
   * Where features are collected for matching: the input of the consuming layers after the
   * nonlinearity (before any pooling/flatten); a residual stream at its last consumer (the end of
   * its stage). Statistics reshape the value to [C, positions] around `axis`.
   */
  observe: ValueAxis;
  /** Every value that carries this space, in graph order. */
  values: ValueAxis[];
  /** Parameters whose `axis` writes this space (output channels, biases, norm parameters and statistics). */
  producers: ParamRef[];
  /** Parameters whose `axis` reads this space (next layers' input channels). */
  consumers: ParamRef[];
  /** Nodes that join activations of this space (residual Add/Sum); non-empty marks a residual stream. */
  ties: Tie[];
  /**
   * Block structure (attention heads, concatenated groups): the channels are `count` blocks of
   * `size`, and a matcher must keep blocks whole (block-diagonal merges up to a permutation of
   * blocks). Points with the same `group` (the Q·Kᵀ and V spaces of one attention layer) must
   * align their blocks identically: head j of model k goes to the same merged head in all of them.
   */
  blocks?: { count: number; size: number; group?: string };
  /**
   * Points with the same key receive one transform, matched from the average of their
   * correlation matrices: segments of one residual stream cut by linear junctions (so partial
   * zipping can stop between them) that should still be merged as one space.
   */
  shareTransform?: string;
  /**
   * True iff the points with index ≤ this one are closed under data dependencies: everything
   * they need is computed from the graph inputs and from these points, so the trunk up to here
   * can be shared and partial zipping may stop here.
   */
  stopPoint: boolean;
  /** Nodes that write this space through parameters (for display), in graph order. */
  producerNodes: string[];
  /** Nodes that read this space through parameters (for display), in graph order. */
  consumerNodes: string[];
}

/** A residual join: `node` adds `values`, which all belong to one space. */
export interface Tie {
  node: string;
  values: string[];
}

/** A task head: its input side is unmerged per model, its outputs are per-task labels. */
export interface Head {
  /** Module name of the head layer (e.g. `fc`, `heads.0`). */
  name: string;
  /** The weight node (Gemm/MatMul/Conv) whose outputs are the task labels. */
  node: string;
  /** Graph outputs it reaches. */
  outputs: string[];
  /** Number of labels (output channels). */
  classes: number;
  /** Index of the merge point feeding it, or -1. */
  input: number;
}

export interface Barrier {
  node: string;
  opType: string;
  reason: string;
  hint: string;
}

/** `stopAt` for partial zipping: a point index or name, `'all'`, or `-1`/`'none'` (no zipping). */
export type StopAt = number | string;

/**
 * Resolves `stopAt` to a point index (-1 = nothing zipped). `'all'` is the deepest stop point.
 * A point that is not a stop point is an error listing the valid ones.
 */
export function resolveStopAt(mg: MergeGraph, stopAt: StopAt): number {
  if (stopAt === 'none' || stopAt === -1) return -1;
  if (stopAt === 'all') {
    for (let i = mg.points.length - 1; i >= 0; i--) if (mg.points[i].stopPoint) return i;
    return -1;
  }
  let index: number;
  if (typeof stopAt === 'number') {
    if (!Number.isInteger(stopAt) || stopAt < -1 || stopAt >= mg.points.length) {
      throw new InvalidArgumentError(`stopAt ${stopAt} is out of range`, {
        hint: `use -1 (none), 0…${mg.points.length - 1}, a point name or 'all'`,
      });
    }
    index = stopAt;
  } else {
    const p = mg.points.find((q) => q.name === stopAt);
    if (!p) {
      throw new NotFoundError(`no merge point named "${stopAt}"`, { hint: `stop points: ${stopPointList(mg)}` });
    }
    index = p.index;
  }
  if (!mg.points[index].stopPoint) {
    throw new InvalidArgumentError(`merge point ${index} ("${mg.points[index].name}") is not a stop point`, {
      space: mg.points[index].name,
      hint: `zipping must stop where the trunk is closed; stop points: ${stopPointList(mg)}`,
    });
  }
  return index;
}

function stopPointList(mg: MergeGraph): string {
  const names = mg.points.filter((p) => p.stopPoint).map((p) => `${p.index} ${p.name}`);
  return names.length ? ['-1 none', ...names, 'all'].join(', ') : '-1 none (no stop point)';
}

/**
 * Which points are stop points, from the structure alone: for each k, simulate the trunk that
 * zipping points 0…k would share, and check that every node writing one of those points is in
 * it. The trunk holds the nodes computable from the graph inputs that write those points, plus
 * nodes that write no point and are `shareable` — by default those without float parameters of
 * more than one element (shape arithmetic, scalar constants, reductions), since a layer with its
 * own weights differs between models. Plugins that declare merge graphs use this to fill `stopPoint`.
 */
export function computeStopPoints(
  graph: GraphBody,
  points: readonly Omit<MergePoint, 'stopPoint'>[],
  heads: readonly Head[],
  shareable: (node: Node) => boolean = (node) => !hasWeights(graph, node),
): boolean[] {
  // A value may carry several points side by side (a channel concatenation).
  const pointsOfValue = new Map<string, number[]>();
  for (const p of points) for (const v of p.values) (pointsOfValue.get(v.value) ?? pointsOfValue.set(v.value, []).get(v.value)!).push(p.index);
  const consumerNodes = new Set<string>();
  for (const p of points) for (const c of p.consumers) consumerNodes.add(c.node);
  const headNodes = new Set(heads.map((h) => h.node));
  const base = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  const result: boolean[] = [];
  for (let k = 0; k < points.length; k++) {
    const avail = new Set(base);
    const trunk = new Set<string>();
    for (const node of graph.nodes) {
      let ok = !headNodes.has(node.name) && node.inputs.every((i) => !i || avail.has(i));
      let writesZipped = false;
      for (const o of node.outputs) {
        for (const p of pointsOfValue.get(o) ?? []) {
          if (p > k) ok = false;
          else writesZipped = true;
        }
      }
      if (ok && !writesZipped && (consumerNodes.has(node.name) || !shareable(node))) ok = false;
      if (ok) {
        trunk.add(node.name);
        for (const o of node.outputs) if (o) avail.add(o);
      }
    }
    let closed = true;
    for (const node of graph.nodes) {
      if (trunk.has(node.name)) continue;
      if (node.outputs.some((o) => (pointsOfValue.get(o) ?? []).some((p) => p <= k))) {
        closed = false;
        break;
      }
    }
    result.push(closed);
  }
  return result;
}

/** Whether a node reads a float initializer of more than one element (its own weights). */
export function hasWeights(graph: GraphBody, node: Node): boolean {
  return node.inputs.some((i) => {
    const t = i ? graph.initializers.get(i) : undefined;
    return t !== undefined && isFloat(t.dtype) && t.data.length > 1;
  });
}

function isFloat(dtype: string): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

/**
 * Checks a merge graph against its model: indices in order, unique names, every referenced
 * parameter present with `channels` entries along its axis (from its offset), observed values
 * known. Throws a ShapeError/NotFoundError naming the point.
 */
export function validateMergeGraph(graph: GraphBody, mg: MergeGraph): void {
  const names = new Set<string>();
  mg.points.forEach((p, i) => {
    if (p.index !== i) throw new InvalidArgumentError(`merge point "${p.name}" has index ${p.index}, expected ${i}`, { space: p.name });
    if (names.has(p.name)) throw new InvalidArgumentError(`duplicate merge point name "${p.name}"`, { space: p.name });
    names.add(p.name);
    if (!Number.isInteger(p.channels) || p.channels < 1) {
      throw new ShapeError(`merge point has ${p.channels} channels`, { space: p.name });
    }
    if (p.blocks && p.blocks.count * p.blocks.size !== p.channels) {
      throw new ShapeError(`blocks ${p.blocks.count}×${p.blocks.size} do not cover ${p.channels} channels`, { space: p.name });
    }
    const shared = p.shareTransform === undefined ? undefined : mg.points.find((q) => q.shareTransform === p.shareTransform);
    if (shared && shared.channels !== p.channels) {
      throw new ShapeError(`points sharing the transform "${p.shareTransform}" have ${shared.channels} and ${p.channels} channels`, { space: p.name });
    }
    const group = p.blocks?.group;
    const first = group === undefined ? undefined : mg.points.find((q) => q.blocks?.group === group);
    if (first && first.blocks!.count !== p.blocks!.count) {
      throw new ShapeError(`block group "${group}" has ${first.blocks!.count} blocks at "${first.name}" but ${p.blocks!.count} here`, { space: p.name });
    }
    for (const ref of [...p.producers, ...p.consumers]) {
      const t = graph.initializers.get(ref.param);
      if (!t) throw new NotFoundError(`parameter "${ref.param}" does not exist`, { space: p.name, node: ref.node });
      const size = t.shape[ref.axis];
      const offset = ref.offset ?? 0;
      const repeat = ref.repeat ?? 1;
      if (size === undefined || offset < 0 || !Number.isInteger(repeat) || repeat < 1 || offset + p.channels * repeat > size) {
        throw new ShapeError(`parameter "${ref.param}" [${t.shape.join(', ')}] has no ${p.channels} channels on axis ${ref.axis} from offset ${offset}`, {
          space: p.name,
          node: ref.node,
        });
      }
    }
  });
}

/**
 * Differences between two merge graphs of one model (e.g. a plugin's declaration and the
 * automatic derivation), one line each; empty when they agree on points (order, names, channels,
 * observed values, producer/consumer parameter axes, residual ties, stop points) and heads.
 */
export function diffMergeGraphs(expected: MergeGraph, actual: MergeGraph): string[] {
  const out: string[] = [];
  const refKey = (r: ParamRef) => `${r.param}@${r.axis}${r.offset ? `+${r.offset}` : ''}${r.repeat ? `×${r.repeat}` : ''}`;
  const set = (rs: readonly ParamRef[]) => [...new Set(rs.map(refKey))].sort().join(', ');
  if (expected.points.length !== actual.points.length) {
    out.push(`${expected.points.length} points expected, ${actual.points.length} found`);
  }
  const n = Math.min(expected.points.length, actual.points.length);
  for (let i = 0; i < n; i++) {
    const e = expected.points[i];
    const a = actual.points[i];
    const at = `point ${i} (${e.name})`;
    const check = (what: string, x: unknown, y: unknown) => {
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${at}: ${what} ${JSON.stringify(x)} expected, ${JSON.stringify(y)} found`);
    };
    check('name', e.name, a.name);
    check('channels', e.channels, a.channels);
    check('observe', e.observe, a.observe);
    check('producers', set(e.producers), set(a.producers));
    check('consumers', set(e.consumers), set(a.consumers));
    check('ties', e.ties.map((t) => t.node).sort(), a.ties.map((t) => t.node).sort());
    check('stopPoint', e.stopPoint, a.stopPoint);
    check('blocks', e.blocks ?? null, a.blocks ?? null);
    check('shareTransform', e.shareTransform ?? null, a.shareTransform ?? null);
  }
  const heads = (mg: MergeGraph) => mg.heads.map((h) => `${h.name}:${h.node}:${h.classes}:${h.input}`).sort();
  if (JSON.stringify(heads(expected)) !== JSON.stringify(heads(actual))) {
    out.push(`heads ${JSON.stringify(heads(expected))} expected, ${JSON.stringify(heads(actual))} found`);
  }
  return out;
}
