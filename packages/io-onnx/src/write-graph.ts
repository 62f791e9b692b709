import { InvalidArgumentError, UnsupportedError, type Attribute, type GraphBody, type Node, type ValueInfo } from '@zipit/core';
import { codeOfDtype } from './dtypes.js';
import { isOpaqueOnnxAttribute, onnxExtras, type OnnxAttributeExtras, type OnnxGraphExtras, type OnnxNodeExtras, type OnnxValueInfoExtras } from './extras.js';
import { numberToInt64 } from './int64.js';
import { decodeMessage, onnxTypes } from './schema/onnx-root.js';
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
import { keyValueMsgs, writeTensor } from './write-tensor.js';

const utf8 = new TextEncoder();

/** GraphBody → GraphProto, fields in the IR's order (initializers in Map order), extras restored. */
export function writeGraphBody(body: GraphBody, where: string, file?: string): GraphMsg {
  const extras = onnxExtras<OnnxGraphExtras>(body.extras);
  const types = onnxTypes();
  const msg: GraphMsg = {
    node: body.nodes.map((n, i) => writeNode(n, i, where, file)),
    input: body.inputs.map(writeValueInfo),
    output: body.outputs.map(writeValueInfo),
    value_info: body.valueInfo.map(writeValueInfo),
  };
  if (body.name) msg.name = body.name;
  const initializers: TensorMsg[] = [];
  for (const [name, t] of body.initializers) {
    initializers.push(writeTensor(t, name, extras?.initializers?.[name], `${where}initializer "${name}"`, file));
  }
  for (const bytes of extras?.opaqueInitializers ?? []) initializers.push(decodeMessage<TensorMsg>(types.TensorProto, bytes));
  msg.initializer = initializers;
  if (extras?.sparseInitializers?.length) {
    msg.sparse_initializer = extras.sparseInitializers.map((b) => decodeMessage<object>(types.SparseTensorProto, b));
  }
  if (body.docString !== undefined) msg.doc_string = body.docString;
  if (extras?.quantizationAnnotations?.length) {
    msg.quantization_annotation = extras.quantizationAnnotations.map((a) => ({
      tensor_name: a.tensorName,
      quant_parameter_tensor_names: keyValueMsgs(a.quantParameterTensorNames) ?? [],
    }));
  }
  const meta = keyValueMsgs(extras?.metadataProps);
  if (meta) msg.metadata_props = meta;
  return msg;
}

function writeNode(node: Node, index: number, where: string, file: string | undefined): NodeMsg {
  const label = `${where}node ${node.name || `#${index}`} (${node.opType})`;
  const msg: NodeMsg = {
    input: node.inputs,
    output: node.outputs,
    op_type: node.opType,
    attribute: node.attributes.map((a) => writeAttribute(a, label, file)),
  };
  if (node.name) msg.name = node.name;
  const extras = onnxExtras<OnnxNodeExtras>(node.extras);
  if (node.domain || extras?.explicitDefaultDomain) msg.domain = node.domain;
  if (node.docString !== undefined) msg.doc_string = node.docString;
  if (extras?.overload !== undefined) msg.overload = extras.overload;
  const meta = keyValueMsgs(extras?.metadataProps);
  if (meta) msg.metadata_props = meta;
  if (extras?.deviceConfigurations?.length) {
    msg.device_configurations = extras.deviceConfigurations.map((b) => decodeMessage<object>(onnxTypes().NodeDeviceConfigurationProto, b));
  }
  return msg;
}

function writeAttribute(attr: Attribute, nodeLabel: string, file: string | undefined): AttributeMsg {
  const label = `${nodeLabel} attribute "${attr.name}"`;
  const v = attr.value;
  if (v.type === 'opaque') {
    if (!isOpaqueOnnxAttribute(v.value)) throw new UnsupportedError(`${label} holds a value ONNX cannot store`, { file });
    return decodeMessage<AttributeMsg>(onnxTypes().AttributeProto, v.value.bytes);
  }
  const extras = onnxExtras<OnnxAttributeExtras>(attr.extras);
  const msg: AttributeMsg = { name: attr.name };
  if (attr.docString !== undefined) msg.doc_string = attr.docString;
  switch (v.type) {
    case 'float':
      msg.type = AttributeType.FLOAT;
      msg.f = v.value;
      break;
    case 'int':
      msg.type = AttributeType.INT;
      msg.i = int64(v.value, label, file);
      break;
    case 'string':
      msg.type = AttributeType.STRING;
      msg.s = utf8.encode(v.value);
      break;
    case 'tensor':
      msg.type = AttributeType.TENSOR;
      msg.t = writeTensor(v.value, undefined, extras?.tensor, label, file);
      break;
    case 'graph':
      msg.type = AttributeType.GRAPH;
      msg.g = writeGraphBody(v.value, `${label} graph: `, file);
      break;
    case 'floats':
      msg.type = AttributeType.FLOATS;
      msg.floats = v.value;
      break;
    case 'ints':
      msg.type = AttributeType.INTS;
      msg.ints = v.value.map((x) => int64(x, label, file));
      break;
    case 'strings':
      msg.type = AttributeType.STRINGS;
      msg.strings = v.value.map((s) => utf8.encode(s));
      break;
    case 'tensors':
      msg.type = AttributeType.TENSORS;
      msg.tensors = v.value.map((t, i) => writeTensor(t, undefined, extras?.tensors?.[i] ?? undefined, `${label} tensor ${i}`, file));
      break;
    case 'graphs':
      msg.type = AttributeType.GRAPHS;
      msg.graphs = v.value.map((g, i) => writeGraphBody(g, `${label} graph ${i}: `, file));
      break;
  }
  return msg;
}

function int64(v: number, label: string, file: string | undefined) {
  if (!Number.isInteger(v)) throw new InvalidArgumentError(`${label}: ${v} is not an integer`, { file });
  return numberToInt64(v);
}

/** ValueInfo → ValueInfoProto: dtype/shape as a tensor type, unless extras keep a non-tensor TypeProto. */
export function writeValueInfo(info: ValueInfo): ValueInfoMsg {
  const extras = onnxExtras<OnnxValueInfoExtras>(info.extras);
  const msg: ValueInfoMsg = { name: info.name };
  if (extras?.type) {
    msg.type = decodeMessage<TypeMsg>(onnxTypes().TypeProto, extras.type);
  } else if (info.dtype !== null || info.shape !== null) {
    const tensor: NonNullable<TypeMsg['tensor_type']> = {};
    if (info.dtype !== null) tensor.elem_type = codeOfDtype(info.dtype);
    if (info.shape !== null) {
      const denotations = extras?.dimDenotations?.length === info.shape.length ? extras.dimDenotations : undefined;
      tensor.shape = {
        dim: info.shape.map((d, i): DimensionMsg => {
          const dim: DimensionMsg = typeof d === 'number' ? { dim_value: numberToInt64(d) } : typeof d === 'string' ? { dim_param: d } : {};
          const den = denotations?.[i];
          if (den !== null && den !== undefined) dim.denotation = den;
          return dim;
        }),
      };
    }
    msg.type = { tensor_type: tensor };
    if (extras?.denotation !== undefined) msg.type.denotation = extras.denotation;
  }
  if (info.docString !== undefined) msg.doc_string = info.docString;
  const meta = keyValueMsgs(extras?.metadataProps);
  if (meta) msg.metadata_props = meta;
  return msg;
}
