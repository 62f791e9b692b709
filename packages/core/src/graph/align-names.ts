import type { Attribute, Graph, Node, ValueInfo } from './graph.js';
import type { Tensor } from '../tensor/tensor.js';

/** Where two graphs stop being one computation: a message, and the reference node concerned. */
export interface AlignmentDifference {
  message: string;
  node?: string;
}

/** `graph` with `reference`'s names, or where the two are not one computation. */
export type Alignment = { graph: Graph; difference: null } | { graph: null; difference: AlignmentDifference };

/**
 * Renames `graph`'s nodes, intermediate values and parameters to those of `reference` when the two
 * are one computation written under other names: node by node in order, the same operator,
 * attributes and wiring, parameters of one dtype in the same places, integer/bool constants
 * (shape vectors, indices, axes) equal in value. Float parameters (weights) may differ in value
 * and, where task heads differ, in shape (the structure check decides). Graph inputs keep their
 * names and must agree; graph outputs must land on the reference's outputs.
 *
 * Why: PyTorch names values by counters per module scope (`Concat_2`, `onnx::MatMul_367`), so a
 * dynamic-batch export, once bound to a fixed batch and constant-folded (`foldConstants`), is
 * the fixed-batch export's graph with other names. Merging compares graphs name by name
 * (`structureDifference`) and builds the merged model from the first one's names; aligning the
 * names first lets such exports merge. The mapping is built in one pass and only accepted when
 * it is consistent: one value or weight of `graph` per value or weight of `reference` (integer
 * constants excepted: equal values are interchangeable).
 */
export function alignNames(reference: Graph, graph: Graph): Alignment {
  const fail = (message: string, node?: string): Alignment => ({ graph: null, difference: { message, node } });
  const dataInputs = (g: Graph) => g.inputs.filter((i) => !g.initializers.has(i.name)).map((i) => i.name);
  const ri = dataInputs(reference);
  const gi = dataInputs(graph);
  if (ri.join('\u0000') !== gi.join('\u0000')) return fail(`inputs [${ri.join(', ')}] vs [${gi.join(', ')}]`);
  if (reference.nodes.length !== graph.nodes.length) return fail(`${reference.nodes.length} nodes vs ${graph.nodes.length}`);

  const rename = new Map<string, string>(gi.map((n) => [n, n]));
  const claimed = new Map<string, string>(gi.map((n) => [n, n]));
  const initializers = new Map<string, Tensor>();
  const nodes: Node[] = [];
  for (let k = 0; k < graph.nodes.length; k++) {
    const x = reference.nodes[k];
    const y = graph.nodes[k];
    const at = `node ${k} "${x.name}" (${x.opType})`;
    if (x.opType !== y.opType || x.domain !== y.domain) return fail(`node ${k} is "${x.name}" (${x.opType}) vs "${y.name}" (${y.opType})`, x.name);
    if (x.inputs.length !== y.inputs.length || x.outputs.length !== y.outputs.length) {
      return fail(`${at} has ${x.inputs.length} inputs and ${x.outputs.length} outputs vs ${y.inputs.length} and ${y.outputs.length}`, x.name);
    }
    const attr = attributeDifference(x.attributes, y.attributes);
    if (attr) return fail(`${at}: ${attr}`, x.name);
    const inputs: string[] = [];
    for (let j = 0; j < y.inputs.length; j++) {
      const gv = y.inputs[j];
      const rv = x.inputs[j];
      if (!gv || !rv) {
        if (gv || rv) return fail(`${at}: input ${j} is omitted in one model only`, x.name);
        inputs.push('');
        continue;
      }
      const gt = graph.initializers.get(gv);
      const rt = reference.initializers.get(rv);
      if (gt) {
        if (!rt) return fail(`${at}: input ${j} is a computed value vs a parameter ("${gv}")`, x.name);
        if (gt.dtype !== rt.dtype) return fail(`${at}: parameter input ${j} is ${rt.dtype} vs ${gt.dtype}`, x.name);
        if (isIntegral(gt.dtype)) {
          const differs = constantDifference(rt, gt);
          if (differs) return fail(`${at}: constant input ${j} is ${differs}`, x.name);
        } else if ((rename.get(gv) ?? rv) !== rv || (claimed.get(rv) ?? gv) !== gv) {
          return fail(`${at}: parameter input ${j} ("${rv}") is shared differently in the two models`, x.name);
        }
        rename.set(gv, rv);
        claimed.set(rv, gv);
        initializers.set(rv, gt);
      } else {
        if (rt) return fail(`${at}: input ${j} is a parameter ("${rv}") vs a computed value`, x.name);
        if (rename.get(gv) !== rv) return fail(`${at}: input ${j} comes from another node`, x.name);
      }
      inputs.push(rv);
    }
    for (let j = 0; j < y.outputs.length; j++) {
      const gv = y.outputs[j];
      const rv = x.outputs[j];
      if (!gv || !rv) {
        if (gv || rv) return fail(`${at}: output ${j} is omitted in one model only`, x.name);
        continue;
      }
      if (claimed.has(rv) || rename.has(gv)) return fail(`${at}: output ${j} is written twice`, x.name);
      rename.set(gv, rv);
      claimed.set(rv, gv);
    }
    nodes.push({ ...y, name: x.name, inputs, outputs: [...x.outputs] });
  }
  const ro = reference.outputs.map((o) => o.name);
  const go = graph.outputs.map((o) => rename.get(o.name) ?? o.name);
  if (ro.join('\u0000') !== go.join('\u0000')) return fail(`outputs [${ro.join(', ')}] vs [${graph.outputs.map((o) => o.name).join(', ')}]`);

  // Parameters in the reference's order; any the nodes do not read stay under their own names.
  const ordered = new Map<string, Tensor>();
  for (const name of reference.initializers.keys()) {
    const t = initializers.get(name);
    if (t) ordered.set(name, t);
  }
  for (const [name, t] of graph.initializers) if (!rename.has(name) && !ordered.has(name)) ordered.set(name, t);
  const renamed = (vi: ValueInfo): ValueInfo => ({ ...vi, name: rename.get(vi.name) ?? vi.name });
  return {
    graph: {
      ...graph,
      nodes,
      inputs: graph.inputs.map(renamed),
      outputs: graph.outputs.map(renamed),
      valueInfo: graph.valueInfo.filter((vi) => rename.has(vi.name)).map(renamed),
      initializers: ordered,
    },
    difference: null,
  };
}

const INTEGRAL = new Set(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool']);

function isIntegral(dtype: string): boolean {
  return INTEGRAL.has(dtype);
}

/** How two integer constants differ ("[65, 2, 16] vs [65, 4, 8]"), or null when equal. */
function constantDifference(a: Tensor, b: Tensor): string | null {
  const text = (t: Tensor) =>
    `${t.dtype}[${t.shape.join(', ')}] = [${Array.from(t.data as ArrayLike<number | bigint>, String)
      .slice(0, 16)
      .join(', ')}${t.data.length > 16 ? ', …' : ''}]`;
  if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== b.shape[k])) return `${text(a)} vs ${text(b)}`;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return `${text(a)} vs ${text(b)}`;
  return null;
}

/** The first attribute that differs in name or value, or null; subgraph attributes are not compared but refused. */
function attributeDifference(a: readonly Attribute[], b: readonly Attribute[]): string | null {
  const names = (xs: readonly Attribute[]) => xs.map((x) => x.name).sort();
  if (names(a).join(',') !== names(b).join(',')) return `attributes [${names(a).join(', ')}] vs [${names(b).join(', ')}]`;
  for (const x of a) {
    const y = b.find((z) => z.name === x.name)!;
    if (x.value.type === 'graph' || x.value.type === 'graphs') return `attribute ${x.name} holds a subgraph (names inside subgraphs are not aligned)`;
    if (attributeText(x) !== attributeText(y)) return `attribute ${x.name} is ${attributeText(x)} vs ${attributeText(y)}`;
  }
  return null;
}

function attributeText(a: Attribute): string {
  const v = a.value;
  if (v.type === 'tensor') {
    // A float tensor is a weight (a Constant node not made an initializer): only its type matters.
    const values = isIntegral(v.value.dtype) ? ` (${Array.from(v.value.data as ArrayLike<number | bigint>, String).join(', ')})` : '';
    return `tensor ${v.value.dtype}[${v.value.shape.join(', ')}]${values}`;
  }
  if (v.type === 'tensors') return `tensors ×${v.value.length}`;
  return JSON.stringify(v.value);
}
