import type { DType, Tensor } from '../tensor/tensor.js';

/**
 * The graph IR: a format-neutral description of a model, close to ONNX so that an ONNX file
 * read and written back loses nothing. Values are named edges; nodes list input/output value
 * names in order (an empty string is an omitted optional input, as in ONNX).
 */

/** A dimension: a fixed size, a symbolic name (e.g. "batch"), or unknown (null). */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** Element type, or null when the source does not say. */
  dtype: DType | null;
  /** Dimensions, or null when the rank is unknown. */
  shape: Dim[] | null;
  docString?: string;
  /** Fields of the source format that the IR does not model (non-tensor types, annotations), kept for lossless round trips. */
  extras?: Record<string, unknown>;
}

/**
 * Attribute values. Integers are JS numbers; int64 values beyond 2^53 (e.g. INT64_MAX used as
 * "to the end" in Slice) are saturated back to the int64 range when written.
 */
export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: GraphBody }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: GraphBody[] }
  /** Any attribute kind the IR does not model (sparse tensors, type protos, ref_attr_name…), kept opaque for lossless round trips. */
  | { type: 'opaque'; value: unknown };

export interface Attribute {
  name: string;
  value: AttributeValue;
  docString?: string;
  /** Fields of the source format that the IR does not model (e.g. a tensor value's name), kept for lossless round trips. */
  extras?: Record<string, unknown>;
}

export interface Node {
  name: string;
  opType: string;
  /** Operator set domain; '' is the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
  docString?: string;
  /** Fields of the source format that the IR does not model, kept for lossless round trips. */
  extras?: Record<string, unknown>;
}

/** A (sub)graph: nodes in topological order, its interface and its constant parameters. */
export interface GraphBody {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Shape annotations of intermediate values. */
  valueInfo: ValueInfo[];
  /** Parameters by value name, in file order (Map keeps insertion order). */
  initializers: Map<string, Tensor>;
  docString?: string;
  extras?: Record<string, unknown>;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

/** A whole model: the main graph plus model-level metadata. */
export interface Graph extends GraphBody {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  modelDomain?: string;
  modelVersion?: number;
  modelDocString?: string;
  /** Key/value metadata in file order. */
  metadata: [string, string][];
  /** Model-level fields the IR does not model (functions, training info…), kept opaque. */
  modelExtras?: Record<string, unknown>;
}

/** The opset version the graph imports for a domain ('' = ONNX), or undefined. */
export function opsetVersion(graph: Graph, domain = ''): number | undefined {
  const d = domain === 'ai.onnx' ? '' : domain;
  return graph.opsetImports.find((o) => (o.domain === 'ai.onnx' ? '' : o.domain) === d)?.version;
}

/** Maps every value name to the node producing it (graph inputs and initializers are absent). */
export function producers(graph: GraphBody): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const node of graph.nodes) for (const o of node.outputs) if (o) out.set(o, node);
  return out;
}

/** Maps every value name to the nodes that read it, in node order. */
export function consumers(graph: GraphBody): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  for (const node of graph.nodes) {
    for (const i of node.inputs) {
      if (!i) continue;
      const list = out.get(i);
      if (list) list.push(node);
      else out.set(i, [node]);
    }
  }
  return out;
}

export function getAttribute(node: Node, name: string): AttributeValue | undefined {
  return node.attributes.find((a) => a.name === name)?.value;
}

export function intAttr(node: Node, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a && a.type === 'int' ? a.value : fallback;
}

export function intsAttr(node: Node, name: string): number[] | undefined {
  const a = getAttribute(node, name);
  return a && a.type === 'ints' ? a.value : undefined;
}

export function floatAttr(node: Node, name: string, fallback: number): number {
  const a = getAttribute(node, name);
  return a && a.type === 'float' ? a.value : fallback;
}
