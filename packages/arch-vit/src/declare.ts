import { assembleMergeGraph, commonModulePrefix, type Graph, type MergeGraph, type ParamRef, type Tie, type ValueAxis } from '@zipit/core';
import { ConcreteShapes } from './concrete.js';
import type { Linear, Norm, Projection, VitLayout } from './layout.js';

/**
 * The merge graph of a ViT, declared from its layout:
 *
 * - **the residual stream**: one space written by the patch embedding, the class token and the
 *   position embedding (their channel axes), every LayerNorm's scale and bias, every attention
 *   output projection and every MLP output layer, and read by every Q/K/V projection, every MLP
 *   input layer and the head. LayerNorm normalises over these channels, so it commutes with
 *   permutations exactly but only approximately with zips (a merged feature's mean and variance
 *   over channels differ from the models'). In a prepared graph (see `prepareVit`) the stream is
 *   cut by a linear junction in front of every block into segments `embed:stream`,
 *   `<block>:stream`, …, each its own point and a stop point, all sharing one transform
 *   (`shareTransform: 'stream'`, matched from their pooled statistics) so that a full zip equals
 *   the one-space merge; otherwise it is one point (`blocks:stream`) and zipping is all or nothing;
 * - per block, **`<attn>:qk`**: the space of the dot products q·k, in heads. Q's projection
 *   produces it and K's consumes it (q' = Mq, k' = Uᵀk), so Q and K share one transform per
 *   head and the scores q'ᵀk' are those of the models when UM = I;
 * - per block, **`<attn out-proj>:in`**: V's projection produces it, the output projection
 *   reads it, in heads; one head alignment per attention layer (`blocks.group`) is shared by
 *   both points, since a head's attention weights multiply that head's values;
 * - per block, **`<mlp fc2>:in`**: the MLP hidden space (after the activation);
 * - the head is the task head.
 */
export function declareVitMergeGraph(graph: Graph, layout: VitLayout): MergeGraph {
  const cs = new ConcreteShapes(graph, 2);
  const last = (value: string, offset = 0): ValueAxis => {
    const rank = cs.shape(value)?.length ?? 3;
    return offset ? { value, axis: rank - 1, offset } : { value, axis: rank - 1 };
  };
  const drafts: Draft[] = [];

  // The stream, segment by segment.
  let seg: Draft = { ...newDraft(), stream: true };
  seg.producers.push(...linearProducers(layout.patch));
  seg.values.push(...layout.tokenValues.map(({ value, axis }) => ({ value, axis })));
  if (layout.cls) {
    const reader = layout.cls.nodes[0] ?? layout.cls.concat;
    seg.producers.push({ param: layout.cls.param, axis: lastAxis(graph, layout.cls.param), node: reader.name });
    seg.values.push(...layout.cls.nodes.map((n) => last(n.outputs[0])));
  }
  if (layout.pos) seg.producers.push({ param: layout.pos.param, axis: lastAxis(graph, layout.pos.param), node: layout.pos.node.name });
  seg.values.push(...layout.embedValues.map((v) => last(v)));
  const segBlocks: string[] = [];

  for (const block of layout.blocks) {
    if (block.junction) {
      const j = block.junction;
      seg.consumers.push({ param: j.weight, axis: j.inAxis, node: j.node.name });
      seg.observe = last(j.node.inputs[0]);
      seg.name = `${segBlocks.length ? commonModulePrefix(segBlocks) || segBlocks[0] : 'embed'}:stream`;
      drafts.push(seg);
      seg = { ...newDraft(), stream: true };
      segBlocks.length = 0;
      seg.producers.push({ param: j.weight, axis: j.outAxis, node: j.node.name });
      seg.values.push(last(j.output));
    }
    segBlocks.push(block.name);
    const a = block.attn;
    seg.producers.push(...normProducers(block.norm1), ...linearProducers(a.out), ...normProducers(block.norm2), ...linearProducers(block.fc2));
    seg.consumers.push(...uniqueLinears([a.q.linear, a.k.linear, a.v.linear]).map(consumerOf), consumerOf(block.fc1));
    seg.values.push(
      ...block.norm1.values.map((v) => last(v)),
      last(block.add1.outputs[0]),
      ...a.outputValues.map((v) => last(v)),
      ...block.norm2.values.map((v) => last(v)),
      ...block.fc2.values.map((v) => last(v)),
      last(block.add2.outputs[0]),
    );
    seg.ties.push(tie(block.add1.name, block.add1.inputs), tie(block.add2.name, block.add2.inputs));
    seg.observe = last(block.output);

    const group = a.module;
    const qk = newDraft();
    qk.name = `${a.module}:qk`;
    qk.blocks = { count: a.heads, size: a.qkHeadDim, group };
    qk.producers.push(...projectionRefs(a.q));
    qk.consumers.push(...projectionRefs(a.k));
    // Q alone, sliced out of a fused projection's outputs (offset given even when 0).
    qk.observe = a.q.linear.outChannels !== a.heads * a.qkHeadDim ? { ...last(a.q.linear.output), offset: a.q.offset } : last(a.q.linear.output);
    for (const p of uniqueProjections([a.q, a.k])) qk.values.push(...p.linear.values.map((v) => last(v, p.offset)));
    drafts.push(qk);

    const v = newDraft();
    v.name = `${a.out.module}:in`;
    v.blocks = { count: a.heads, size: a.vHeadDim, group };
    v.producers.push(...projectionRefs(a.v));
    v.consumers.push(consumerOf(a.out));
    v.observe = last(a.outInput);
    if (a.v.linear.node !== a.q.linear.node && a.v.linear.node !== a.k.linear.node) v.values.push(...a.v.linear.values.map((x) => last(x, a.v.offset)));
    v.values.push(...a.outInputValues.map((x) => last(x)));
    drafts.push(v);

    const mlp = newDraft();
    mlp.name = `${block.fc2.module}:in`;
    mlp.producers.push(...linearProducers(block.fc1));
    mlp.consumers.push(consumerOf(block.fc2));
    mlp.observe = last(block.hiddenValues[block.hiddenValues.length - 1]);
    mlp.values.push(...block.fc1.values.map((x) => last(x)), ...block.hiddenValues.filter((x) => !block.fc1.values.includes(x)).map((x) => last(x)));
    drafts.push(mlp);
  }
  seg.producers.push(...normProducers(layout.norm));
  seg.consumers.push(consumerOf(layout.head));
  seg.values.push(...layout.norm.values.map((v) => last(v)), ...layout.pool.nodes.map((n) => last(n.outputs[0])));
  seg.observe = last(layout.norm.output);
  seg.name = `${commonModulePrefix(segBlocks) || segBlocks[0]}:stream`;
  drafts.push(seg);

  const segmented = layout.blocks.some((b) => b.junction);
  return assembleMergeGraph(
    graph,
    drafts.map(({ stream, observe, ...d }) => ({ ...d, observe: observe!, ...(segmented && stream ? { shareTransform: 'stream' } : {}) })),
    [{ name: layout.head.module, node: layout.head.node.name, classes: layout.head.outChannels }],
  );
}

interface Draft {
  name: string;
  observe?: ValueAxis;
  values: ValueAxis[];
  producers: ParamRef[];
  consumers: ParamRef[];
  ties: Tie[];
  blocks?: { count: number; size: number; group: string };
  /** A segment of the residual stream. */
  stream?: boolean;
}

function newDraft(): Draft {
  return { name: '', values: [], producers: [], consumers: [], ties: [] };
}

function tie(node: string, values: string[]): Tie {
  return { node, values: [...values] };
}

function lastAxis(graph: Graph, param: string): number {
  return graph.initializers.get(param)!.shape.length - 1;
}

/** Output channels of a layer: its weight's output axis and its bias. */
function linearProducers(l: Linear): ParamRef[] {
  const out: ParamRef[] = [{ param: l.weight, axis: l.outAxis, node: l.node.name }];
  if (l.bias) out.push({ param: l.bias, axis: 0, node: (l.biasNode ?? l.node).name });
  return out;
}

function consumerOf(l: Linear): ParamRef {
  return { param: l.weight, axis: l.inAxis, node: l.node.name };
}

/** The slice of a (possibly fused) projection's outputs holding Q, K or V. */
function projectionRefs(p: Projection): ParamRef[] {
  const at = (ref: ParamRef): ParamRef => (p.offset ? { ...ref, offset: p.offset } : ref);
  return linearProducers(p.linear).map(at);
}

function normProducers(n: Norm): ParamRef[] {
  const node = n.nodes[n.nodes.length - 1].name;
  const refs: ParamRef[] = [];
  if (n.scale) refs.push({ param: n.scale, axis: 0, node: n.nodes.find((x) => x.inputs.includes(n.scale!))?.name ?? node });
  if (n.bias) refs.push({ param: n.bias, axis: 0, node: n.nodes.find((x) => x.inputs.includes(n.bias!))?.name ?? node });
  return refs;
}

function uniqueLinears(ls: Linear[]): Linear[] {
  return ls.filter((l, i) => ls.findIndex((m) => m.node === l.node) === i);
}

function uniqueProjections(ps: Projection[]): Projection[] {
  return ps.filter((p, i) => ps.findIndex((q) => q.linear.node === p.linear.node) === i);
}
