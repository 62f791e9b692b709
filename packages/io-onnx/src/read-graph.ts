import { FormatError, type Attribute, type AttributeValue, type Dim, type GraphBody, type Node, type Tensor, type ValueInfo } from '@zipit/core';
import { dtypeOfCode } from './dtypes.js';
import {
  withOnnxExtras,
  type OnnxAttributeExtras,
  type OnnxGraphExtras,
  type OnnxNodeExtras,
  type OnnxTensorExtras,
  type OnnxValueInfoExtras,
  type OpaqueOnnxAttribute,
} from './extras.js';
import { int64ToNumber } from './int64.js';
import { has, keyValues, readTensor, type TensorReadContext } from './read-tensor.js';
import { encodeMessage, onnxTypes } from './schema/onnx-root.js';
import {
  AttributeType,
  type AttributeMsg,
  type DimensionMsg,
  type GraphMsg,
  type NodeMsg,
  type TensorMsg,
  type TypeMsg,
  type ValueInfoMsg,
} from './schema/types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** GraphProto → GraphBody (recursively for subgraphs in attributes). `where` prefixes error locations. */
export function readGraphBody(msg: GraphMsg, where: string, ctx: TensorReadContext): GraphBody {
  const extras: OnnxGraphExtras = {};
  const initializers = new Map<string, Tensor>();
  const initializerExtras: Record<string, OnnxTensorExtras> = {};
  const opaque: Uint8Array[] = [];
  for (const t of msg.initializer ?? []) {
    const name = t.name ?? '';
    const label = `${where}initializer "${name}"`;
    if (!name) throw new FormatError(`${where}an initializer has no name`, { file: ctx.file });
    if (initializers.has(name)) throw new FormatError(`${label} is defined twice`, { file: ctx.file });
    const r = readTensor(t, label, ctx);
    if ('unsupportedCode' in r) {
      opaque.push(encodeMessage(onnxTypes().TensorProto, t));
      continue;
    }
    initializers.set(name, r.tensor);
    if (Object.keys(r.extras).length > 0) initializerExtras[name] = r.extras;
  }
  if (Object.keys(initializerExtras).length > 0) extras.initializers = initializerExtras;
  if (opaque.length > 0) extras.opaqueInitializers = opaque;
  if (msg.sparse_initializer?.length) {
    extras.sparseInitializers = msg.sparse_initializer.map((s) => encodeMessage(onnxTypes().SparseTensorProto, s as object));
  }
  if (msg.quantization_annotation?.length) {
    extras.quantizationAnnotations = msg.quantization_annotation.map((a) => ({
      tensorName: a.tensor_name ?? '',
      quantParameterTensorNames: keyValues(a.quant_parameter_tensor_names) ?? [],
    }));
  }
  const meta = keyValues(msg.metadata_props);
  if (meta) extras.metadataProps = meta;

  const body: GraphBody = {
    name: msg.name ?? '',
    nodes: (msg.node ?? []).map((n, i) => readNode(n, i, where, ctx)),
    inputs: (msg.input ?? []).map((v) => readValueInfo(v, where, ctx)),
    outputs: (msg.output ?? []).map((v) => readValueInfo(v, where, ctx)),
    valueInfo: (msg.value_info ?? []).map((v) => readValueInfo(v, where, ctx)),
    initializers,
  };
  if (has(msg, 'doc_string')) body.docString = msg.doc_string;
  const bag = withOnnxExtras(extras);
  if (bag) body.extras = bag;
  return body;
}

function readNode(msg: NodeMsg, index: number, where: string, ctx: TensorReadContext): Node {
  const name = msg.name ?? '';
  const opType = msg.op_type ?? '';
  const label = `${where}node ${name || `#${index}`} (${opType || 'no op_type'})`;
  if (!opType) throw new FormatError(`${label} has no op_type`, { file: ctx.file, node: name || undefined });
  const node: Node = {
    name,
    opType,
    domain: msg.domain ?? '',
    inputs: [...(msg.input ?? [])],
    outputs: [...(msg.output ?? [])],
    attributes: (msg.attribute ?? []).map((a) => readAttribute(a, label, ctx)),
  };
  if (has(msg, 'doc_string')) node.docString = msg.doc_string;
  const extras: OnnxNodeExtras = {};
  if (has(msg, 'domain') && msg.domain === '') extras.explicitDefaultDomain = true;
  if (has(msg, 'overload')) extras.overload = msg.overload ?? '';
  const meta = keyValues(msg.metadata_props);
  if (meta) extras.metadataProps = meta;
  if (msg.device_configurations?.length) {
    extras.deviceConfigurations = msg.device_configurations.map((d) => encodeMessage(onnxTypes().NodeDeviceConfigurationProto, d as object));
  }
  const bag = withOnnxExtras(extras);
  if (bag) node.extras = bag;
  return node;
}

/** The attribute kind a message carries: its `type`, or (IR < 2 files) the populated value field. */
function attributeKind(a: AttributeMsg): number {
  if (a.type) return a.type;
  if (has(a, 'f')) return AttributeType.FLOAT;
  if (has(a, 'i')) return AttributeType.INT;
  if (has(a, 's')) return AttributeType.STRING;
  if (has(a, 't')) return AttributeType.TENSOR;
  if (has(a, 'g')) return AttributeType.GRAPH;
  if (has(a, 'sparse_tensor')) return AttributeType.SPARSE_TENSOR;
  if (has(a, 'tp')) return AttributeType.TYPE_PROTO;
  if (a.floats?.length) return AttributeType.FLOATS;
  if (a.ints?.length) return AttributeType.INTS;
  if (a.strings?.length) return AttributeType.STRINGS;
  if (a.tensors?.length) return AttributeType.TENSORS;
  if (a.graphs?.length) return AttributeType.GRAPHS;
  if (a.sparse_tensors?.length) return AttributeType.SPARSE_TENSORS;
  if (a.type_protos?.length) return AttributeType.TYPE_PROTOS;
  return AttributeType.UNDEFINED;
}

function readAttribute(msg: AttributeMsg, nodeLabel: string, ctx: TensorReadContext): Attribute {
  const name = msg.name ?? '';
  const label = `${nodeLabel} attribute "${name}"`;
  if (!name) throw new FormatError(`${nodeLabel} has an attribute without a name`, { file: ctx.file });
  const extras: OnnxAttributeExtras = {};
  const value = msg.ref_attr_name ? undefined : attributeValue(msg, label, ctx, extras);
  const attr: Attribute = {
    name,
    value: value ?? {
      type: 'opaque',
      value: { format: 'onnx.AttributeProto', bytes: encodeMessage(onnxTypes().AttributeProto, msg) } satisfies OpaqueOnnxAttribute,
    },
  };
  if (value !== undefined && has(msg, 'doc_string')) attr.docString = msg.doc_string;
  const bag = value !== undefined ? withOnnxExtras(extras) : undefined;
  if (bag) attr.extras = bag;
  return attr;
}

/** The IR value of an attribute, or undefined when it has to stay opaque (sparse tensors, type protos, binary strings, exotic dtypes). */
function attributeValue(msg: AttributeMsg, label: string, ctx: TensorReadContext, extras: OnnxAttributeExtras): AttributeValue | undefined {
  switch (attributeKind(msg)) {
    case AttributeType.FLOAT:
      return { type: 'float', value: msg.f ?? 0 };
    case AttributeType.INT:
      return { type: 'int', value: int64ToNumber(msg.i) };
    case AttributeType.STRING: {
      const s = decodeUtf8(msg.s ?? new Uint8Array(0));
      return s === undefined ? undefined : { type: 'string', value: s };
    }
    case AttributeType.TENSOR: {
      const r = readAttributeTensor(msg.t ?? {}, label, ctx);
      if (!r) return undefined;
      if (r.extras) extras.tensor = r.extras;
      return { type: 'tensor', value: r.tensor };
    }
    case AttributeType.GRAPH:
      return { type: 'graph', value: readGraphBody(msg.g ?? {}, `${label} graph: `, ctx) };
    case AttributeType.FLOATS:
      return { type: 'floats', value: [...(msg.floats ?? [])] };
    case AttributeType.INTS:
      return { type: 'ints', value: (msg.ints ?? []).map((v) => int64ToNumber(v)) };
    case AttributeType.STRINGS: {
      const out: string[] = [];
      for (const b of msg.strings ?? []) {
        const s = decodeUtf8(b);
        if (s === undefined) return undefined;
        out.push(s);
      }
      return { type: 'strings', value: out };
    }
    case AttributeType.TENSORS: {
      const tensors: Tensor[] = [];
      const tensorExtras: (OnnxTensorExtras | null)[] = [];
      for (const [i, t] of (msg.tensors ?? []).entries()) {
        const r = readAttributeTensor(t, `${label} tensor ${i}`, ctx);
        if (!r) return undefined;
        tensors.push(r.tensor);
        tensorExtras.push(r.extras ?? null);
      }
      if (tensorExtras.some((e) => e !== null)) extras.tensors = tensorExtras;
      return { type: 'tensors', value: tensors };
    }
    case AttributeType.GRAPHS:
      return { type: 'graphs', value: (msg.graphs ?? []).map((g, i) => readGraphBody(g, `${label} graph ${i}: `, ctx)) };
    default:
      return undefined;
  }
}

function readAttributeTensor(t: TensorMsg, label: string, ctx: TensorReadContext): { tensor: Tensor; extras?: OnnxTensorExtras } | undefined {
  const r = readTensor(t, label, ctx);
  if ('unsupportedCode' in r) return undefined;
  const extras = { ...r.extras };
  if (has(t, 'name')) extras.name = t.name ?? '';
  return Object.keys(extras).length > 0 ? { tensor: r.tensor, extras } : { tensor: r.tensor };
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * ValueInfoProto → ValueInfo. A tensor type becomes dtype + shape (symbolic dims as strings,
 * unknown dims as null); any other type (sequence, map, optional, sparse, opaque, an element
 * type core lacks) is kept encoded in extras, with dtype/shape filled where they still apply.
 */
export function readValueInfo(msg: ValueInfoMsg, where: string, ctx: TensorReadContext): ValueInfo {
  const name = msg.name ?? '';
  const extras: OnnxValueInfoExtras = {};
  let dtype: ValueInfo['dtype'] = null;
  let shape: Dim[] | null = null;
  const type = has(msg, 'type') ? msg.type : undefined;
  if (type) {
    const tensor = has(type, 'tensor_type') ? type.tensor_type : undefined;
    const elem = tensor && has(tensor, 'elem_type') ? dtypeOfCode(tensor.elem_type ?? 0) : undefined;
    if (tensor && has(tensor, 'shape')) shape = readShape(tensor.shape?.dim ?? [], extras, `${where}value "${name}"`, ctx);
    if (tensor && elem !== undefined && isPlainTensorType(type)) {
      dtype = elem;
      if (has(type, 'denotation')) extras.denotation = type.denotation ?? '';
    } else {
      extras.type = encodeMessage(onnxTypes().TypeProto, type);
      delete extras.dimDenotations;
    }
  }
  const meta = keyValues(msg.metadata_props);
  if (meta) extras.metadataProps = meta;
  const info: ValueInfo = { name, dtype, shape };
  if (has(msg, 'doc_string')) info.docString = msg.doc_string;
  const bag = withOnnxExtras(extras);
  if (bag) info.extras = bag;
  return info;
}

function isPlainTensorType(type: TypeMsg): boolean {
  return !['sequence_type', 'map_type', 'optional_type', 'sparse_tensor_type', 'opaque_type'].some((f) => has(type, f));
}

function readShape(dims: DimensionMsg[], extras: OnnxValueInfoExtras, where: string, ctx: TensorReadContext): Dim[] {
  const denotations: (string | null)[] = [];
  const shape = dims.map((d): Dim => {
    denotations.push(has(d, 'denotation') ? (d.denotation ?? '') : null);
    if (has(d, 'dim_value')) {
      const v = int64ToNumber(d.dim_value);
      if (!Number.isSafeInteger(v)) throw new FormatError(`${where} has an invalid dimension ${v}`, { file: ctx.file });
      return v;
    }
    if (has(d, 'dim_param')) return d.dim_param ?? '';
    return null;
  });
  if (denotations.some((d) => d !== null)) extras.dimDenotations = denotations;
  return shape;
}
