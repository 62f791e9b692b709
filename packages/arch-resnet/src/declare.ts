import { assembleMergeGraph, commonModulePrefix, intAttr, moduleName, type Graph, type MergeGraph, type Node, type ParamRef, type Tie } from '@zipit/core';
import type { ConvUnit, ResNetLayout } from './layout.js';

/**
 * The merge graph of a ResNet, declared from its layout with the family's names:
 * - inside every block, one point per hidden layer: `<block>.conv2:in` (and `<block>.conv3:in`
 *   for Bottlenecks), written by the previous conv (+BN), read by the next conv, observed after
 *   the ReLU;
 * - one residual stream per run of blocks joined by identity shortcuts, `<stage>:stream`,
 *   written by the last conv (+BN) of each block and by the projection shortcut or stem that
 *   starts it, read by every block's first conv (and by the next projection, or the
 *   classifier), observed at the last block's output (the end of the stage);
 * - a stem that feeds a projection shortcut directly (ResNet-50) is its own point,
 *   `<block>.conv1:in`;
 * - the classifier is the task head.
 */
export function declareResnetMergeGraph(graph: Graph, layout: ResNetLayout): MergeGraph {
  const drafts: Draft[] = [];

  for (const block of layout.blocks) {
    for (let i = 0; i + 1 < block.branch.length; i++) {
      const unit = block.branch[i];
      const relu = block.relus[i];
      const next = block.branch[i + 1].conv;
      drafts.push({
        name: `${moduleName(graph, next)}:in`,
        observe: relu.outputs[0],
        values: [...unitValues(unit), relu.outputs[0]],
        producers: unitProducers(unit),
        consumers: [ref(next.inputs[1], 1, next)],
        ties: [],
      });
    }
  }

  // Residual streams: a projection shortcut ends the stream it reads and starts a new one.
  const stemValues = [...unitValues(layout.stem), layout.stemRelu.outputs[0], ...(layout.stemPool ? [layout.stemPool.outputs[0]] : [])];
  let stream: Draft & { blocks: string[] } = {
    name: '',
    observe: layout.stemRelu.outputs[0],
    values: stemValues,
    producers: unitProducers(layout.stem),
    consumers: [],
    ties: [],
    blocks: [],
  };
  const finish = (s: typeof stream, readers: Node[]) => {
    const first = readers[0];
    s.name = s.blocks.length ? `${commonModulePrefix(s.blocks)}:stream` : `${moduleName(graph, first)}:in`;
    const { blocks: _blocks, ...draft } = s;
    drafts.push(draft);
  };
  for (const block of layout.blocks) {
    const conv1 = block.branch[0].conv;
    const last = block.branch[block.branch.length - 1];
    if (block.shortcut) {
      const readers = [conv1, block.shortcut.conv];
      stream.consumers.push(...readers.map((n) => ref(n.inputs[1], 1, n)));
      finish(stream, readers);
      stream = {
        name: '',
        observe: '',
        values: [],
        producers: unitProducers(block.shortcut),
        consumers: [],
        ties: [],
        blocks: [],
      };
    } else {
      stream.consumers.push(ref(conv1.inputs[1], 1, conv1));
    }
    stream.producers.push(...unitProducers(last));
    stream.values.push(...unitValues(last), ...(block.shortcut ? unitValues(block.shortcut) : []), block.add.outputs[0], block.relu.outputs[0]);
    stream.ties.push({ node: block.add.name, values: [...block.add.inputs] });
    stream.blocks.push(block.name);
    stream.observe = block.relu.outputs[0];
  }
  const head = layout.head;
  const headAxis = head.opType === 'Gemm' ? (intAttr(head, 'transB', 0) === 1 ? 1 : 0) : 0;
  stream.consumers.push(ref(head.inputs[1], headAxis, head));
  stream.values.push(layout.pool.outputs[0], ...layout.flatten.map((n) => n.outputs[0]));
  finish(stream, [head]);

  const outW = graph.initializers.get(head.inputs[1])!;
  return assembleMergeGraph(
    graph,
    drafts.map((d) => ({
      ...d,
      observe: { value: d.observe, axis: 1 },
      values: d.values.map((value) => ({ value, axis: 1 })),
    })),
    [{ name: moduleName(graph, head), node: head.name, classes: outW.shape[headAxis === 1 ? 0 : 1] }],
    { order: 'depth' },
  );
}

/** A point as collected here: every value carries its channels on axis 1 (NCHW, or [N, C] after flattening). */
interface Draft {
  name: string;
  observe: string;
  values: string[];
  producers: ParamRef[];
  consumers: ParamRef[];
  ties: Tie[];
}

function ref(param: string, axis: number, node: Node): ParamRef {
  return { param, axis, node: node.name };
}

/** Conv weight (+ bias) output channels and, when present, the BatchNorm's four per-channel tensors. */
function unitProducers(u: ConvUnit): ParamRef[] {
  const out = [ref(u.conv.inputs[1], 0, u.conv)];
  if (u.conv.inputs[2]) out.push(ref(u.conv.inputs[2], 0, u.conv));
  if (u.bn) for (const p of u.bn.inputs.slice(1, 5)) out.push(ref(p, 0, u.bn));
  return out;
}

function unitValues(u: ConvUnit): string[] {
  return u.bn ? [u.conv.outputs[0], u.bn.outputs[0]] : [u.conv.outputs[0]];
}
