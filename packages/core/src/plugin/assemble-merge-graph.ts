import { InvalidArgumentError } from '../errors.js';
import type { GraphBody, Node } from '../graph/graph.js';
import { computeStopPoints, type Head, type MergeGraph, type MergePoint, type ParamRef, type Tie, type ValueAxis } from '../merge/merge-graph.js';

/**
 * A merge point as a plugin (or the automatic derivation) collects it, before it has an index,
 * display lists or a stop-point flag: what writes, reads and carries one feature space.
 * {@link assembleMergeGraph} turns drafts into a {@link MergeGraph}.
 */
export interface PointDraft {
  /** Point name (`layer2.0.conv2:in`, `layer1:stream`). */
  name: string;
  /** Where the space's features are observed. */
  observe: ValueAxis;
  /** Values carrying the space (duplicates are dropped, first occurrence kept). */
  values: readonly ValueAxis[];
  /** Parameter slices writing the space (duplicates dropped). */
  producers: readonly ParamRef[];
  /** Parameter slices reading the space (duplicates dropped). */
  consumers: readonly ParamRef[];
  ties?: readonly Tie[];
  /** Channel count; default `blocks.count × blocks.size`, else the first producer's size along its axis. */
  channels?: number;
  blocks?: MergePoint['blocks'];
  shareTransform?: string;
}

/** A task head before its input point is known; `input` is found as the point whose consumers read `node`. */
export interface HeadDraft {
  /** Module name of the head layer (`fc`, `classifier`). */
  name: string;
  /** The weight node whose outputs are the labels. */
  node: string;
  /** Graph outputs it reaches (default: every graph output). */
  outputs?: string[];
  /** Number of labels. */
  classes: number;
}

export interface AssembleOptions {
  /**
   * Point order: `given` keeps the drafts' order (default); `depth` sorts by the position of
   * the node writing each observed value (graph inputs first), then by name.
   */
  order?: 'given' | 'depth';
  /** Append `#2`, `#3` … to repeated names instead of failing (the automatic derivation's names can repeat). */
  uniqueNames?: boolean;
  /** Which weight-free nodes partial zipping may share (see `computeStopPoints`). */
  shareable?: (node: Node) => boolean;
}

/**
 * Builds a merge graph from point drafts and head drafts: orders the points, numbers them,
 * drops duplicate values and parameter slices, fills `channels`, the producer/consumer node
 * lists (in graph order), each head's input point and every point's `stopPoint`. The one place
 * where drafts become MergePoints, shared by the automatic derivation and architecture plugins.
 */
export function assembleMergeGraph(graph: GraphBody, drafts: readonly PointDraft[], heads: readonly HeadDraft[], opts: AssembleOptions = {}): MergeGraph {
  const nodeIndex = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const writer = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o && writer.set(o, i)));
  const ordered = [...drafts];
  if (opts.order === 'depth') {
    const depth = (d: PointDraft) => writer.get(d.observe.value) ?? -1;
    ordered.sort((a, b) => depth(a) - depth(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  const byNode = (names: readonly string[]) => [...new Set(names)].sort((a, b) => (nodeIndex.get(a) ?? -1) - (nodeIndex.get(b) ?? -1));
  const used = new Map<string, number>();
  const points: Omit<MergePoint, 'stopPoint'>[] = ordered.map((d, index) => {
    const n = (used.get(d.name) ?? 0) + 1;
    used.set(d.name, n);
    if (n > 1 && !opts.uniqueNames) {
      throw new InvalidArgumentError(`two merge points are named "${d.name}"`, { space: d.name, hint: 'give every point drafted by the plugin its own name' });
    }
    const producers = dedupeRefs(d.producers);
    const consumers = dedupeRefs(d.consumers);
    return {
      index,
      name: n === 1 ? d.name : `${d.name}#${n}`,
      channels: d.channels ?? (d.blocks ? d.blocks.count * d.blocks.size : producerChannels(graph, d)),
      observe: d.observe,
      values: dedupeValues(d.values),
      producers,
      consumers,
      ties: [...(d.ties ?? [])],
      ...(d.blocks ? { blocks: d.blocks } : {}),
      ...(d.shareTransform !== undefined ? { shareTransform: d.shareTransform } : {}),
      producerNodes: byNode(producers.map((p) => p.node)),
      consumerNodes: byNode(consumers.map((c) => c.node)),
    };
  });
  const fullHeads: Head[] = heads.map((h) => ({
    name: h.name,
    node: h.node,
    outputs: h.outputs ?? graph.outputs.map((o) => o.name),
    classes: h.classes,
    input: points.findIndex((p) => p.consumers.some((c) => c.node === h.node)),
  }));
  const stops = computeStopPoints(graph, points, fullHeads, opts.shareable);
  return { points: points.map((p, i) => ({ ...p, stopPoint: stops[i] })), heads: fullHeads, barriers: [] };
}

function producerChannels(graph: GraphBody, d: PointDraft): number {
  const first = d.producers[0];
  if (!first) throw new InvalidArgumentError(`merge point "${d.name}" has no producer`, { space: d.name, hint: 'a point needs a parameter that writes it' });
  const t = graph.initializers.get(first.param);
  if (!t) throw new InvalidArgumentError(`parameter "${first.param}" of merge point "${d.name}" is not an initializer`, { space: d.name, node: first.node });
  return t.shape[first.axis];
}

/** Parameter slices without repeats (same parameter, axis and offset), first occurrence kept. */
export function dedupeRefs(refs: readonly ParamRef[]): ParamRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const key = `${r.param}\u0000${r.axis}\u0000${r.offset ?? 0}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Values without repeats (by value name), first occurrence kept. */
export function dedupeValues(values: readonly ValueAxis[]): ValueAxis[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    if (seen.has(v.value)) return false;
    seen.add(v.value);
    return true;
  });
}
