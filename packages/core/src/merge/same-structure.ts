import { MismatchError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import type { MergeGraph } from './merge-graph.js';

/**
 * Parameters read only by task heads (and whatever follows them): their shapes may differ
 * between models, so tasks may have different class counts.
 */
export function headRegionParams(graph: Graph, mg: MergeGraph): Set<string> {
  const region = new Set(mg.heads.map((h) => h.node));
  const downstream = new Set<string>();
  for (const node of graph.nodes) {
    if (region.has(node.name) || node.inputs.some((i) => downstream.has(i))) {
      region.add(node.name);
      for (const o of node.outputs) if (o) downstream.add(o);
    }
  }
  const params = new Set<string>();
  const elsewhere = new Set<string>();
  for (const node of graph.nodes) {
    for (const i of node.inputs) {
      if (!i || !graph.initializers.has(i)) continue;
      (region.has(node.name) ? params : elsewhere).add(i);
    }
  }
  for (const p of elsewhere) params.delete(p);
  return params;
}

/**
 * The first difference between two models meant to be one network (same nodes — names, types,
 * wiring —, same parameter names, dtypes and shapes, same graph inputs and outputs), or null.
 * Weights may differ, and so may the shapes of parameters in `flexible` (task heads).
 */
export function structureDifference(a: Graph, b: Graph, flexible: ReadonlySet<string> = new Set()): { message: string; node?: string } | null {
  const ins = (x: Graph) => x.inputs.filter((i) => !x.initializers.has(i.name));
  const shapeText = (s: readonly (number | string | null)[] | null) => `[${(s ?? []).map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`;
  const ia = ins(a);
  const ib = ins(b);
  if (ia.length !== ib.length) return { message: `${ia.length} inputs vs ${ib.length}` };
  for (let i = 0; i < ia.length; i++) {
    if (ia[i].name !== ib[i].name || shapeText(ia[i].shape) !== shapeText(ib[i].shape)) {
      return { message: `input ${ia[i].name} ${shapeText(ia[i].shape)} vs ${ib[i].name} ${shapeText(ib[i].shape)}` };
    }
  }
  if (a.nodes.length !== b.nodes.length) return { message: `${a.nodes.length} nodes vs ${b.nodes.length}` };
  for (let i = 0; i < a.nodes.length; i++) {
    const x = a.nodes[i];
    const y = b.nodes[i];
    const same =
      x.name === y.name &&
      x.opType === y.opType &&
      x.domain === y.domain &&
      x.inputs.length === y.inputs.length &&
      x.inputs.every((v, j) => v === y.inputs[j]) &&
      x.outputs.length === y.outputs.length &&
      x.outputs.every((v, j) => v === y.outputs[j]);
    if (!same) return { message: `node ${i} is "${x.name}" (${x.opType}) vs "${y.name}" (${y.opType})`, node: x.name };
  }
  for (const [name, t0] of a.initializers) {
    const t = b.initializers.get(name);
    if (!t) return { message: `parameter ${name} is missing in the second model` };
    const sameShape = t.shape.length === t0.shape.length && t.shape.every((d, j) => d === t0.shape[j]);
    if (t.dtype !== t0.dtype || (!sameShape && !flexible.has(name))) {
      return { message: `parameter ${name} has shape ${t0.dtype}[${t0.shape.join(', ')}] vs ${t.dtype}[${t.shape.join(', ')}]` };
    }
  }
  for (const name of b.initializers.keys()) if (!a.initializers.has(name)) return { message: `parameter ${name} is missing in the first model` };
  const outs = (x: Graph) => x.outputs.map((o) => o.name).join('\u0000');
  if (outs(a) !== outs(b)) return { message: 'the graph outputs differ' };
  return null;
}

/**
 * Throws a MismatchError naming both models (`labels`: files or model names) and the first
 * difference, unless all graphs are one network up to weights and task-head shapes.
 */
export function assertSameStructure(graphs: readonly Graph[], labels: readonly string[], mg: MergeGraph): void {
  const flexible = headRegionParams(graphs[0], mg);
  for (let k = 1; k < graphs.length; k++) {
    const diff = structureDifference(graphs[0], graphs[k], flexible);
    if (diff) {
      throw new MismatchError(`${labels[0]} and ${labels[k]} are not the same architecture: ${diff.message}`, {
        node: diff.node,
        hint: 'ZipIt merges models of one architecture and width (and one export), trained from different inits',
      });
    }
  }
}
