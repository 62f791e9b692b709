import Long from 'long';
import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-proto.js';

/** The message types this package encodes and decodes directly. */
export interface OnnxTypes {
  root: protobuf.Root;
  ModelProto: protobuf.Type;
  GraphProto: protobuf.Type;
  NodeProto: protobuf.Type;
  AttributeProto: protobuf.Type;
  TensorProto: protobuf.Type;
  SparseTensorProto: protobuf.Type;
  TypeProto: protobuf.Type;
  ValueInfoProto: protobuf.Type;
  FunctionProto: protobuf.Type;
  TrainingInfoProto: protobuf.Type;
  DeviceConfigurationProto: protobuf.Type;
  NodeDeviceConfigurationProto: protobuf.Type;
}

let cached: OnnxTypes | undefined;

/** Parses the schema on first use (importing the package has no side effects). */
export function onnxTypes(): OnnxTypes {
  if (cached) return cached;
  // int64 fields (int64_data, dims, attribute ints) must decode exactly. protobufjs finds `long`
  // through require(), which some loaders (vitest's, bundlers) defeat; without it int64 values
  // silently become doubles. Give it the class explicitly.
  if (!protobuf.util.Long) {
    protobuf.util.Long = Long;
    protobuf.configure();
  }
  const root = protobuf.parse(ONNX_PROTO, { keepCase: true }).root;
  root.resolveAll();
  const t = (name: string) => root.lookupType(`onnx.${name}`);
  cached = {
    root,
    ModelProto: t('ModelProto'),
    GraphProto: t('GraphProto'),
    NodeProto: t('NodeProto'),
    AttributeProto: t('AttributeProto'),
    TensorProto: t('TensorProto'),
    SparseTensorProto: t('SparseTensorProto'),
    TypeProto: t('TypeProto'),
    ValueInfoProto: t('ValueInfoProto'),
    FunctionProto: t('FunctionProto'),
    TrainingInfoProto: t('TrainingInfoProto'),
    DeviceConfigurationProto: t('DeviceConfigurationProto'),
    NodeDeviceConfigurationProto: t('NodeDeviceConfigurationProto'),
  };
  return cached;
}

/** Encodes one message (a plain object shaped like the schema) to bytes. */
export function encodeMessage(type: protobuf.Type, message: object): Uint8Array {
  return type.encode(message as protobuf.Message).finish();
}

/** Decodes one message; throws protobufjs' own errors on malformed input (callers wrap them). */
export function decodeMessage<T>(type: protobuf.Type, bytes: Uint8Array): T {
  return type.decode(bytes) as unknown as T;
}
