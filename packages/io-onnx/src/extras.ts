/**
 * What the reader keeps of an ONNX file that the graph IR does not model, so that writing it back
 * loses nothing. It lives under the key `onnx` of the IR's `extras`/`modelExtras` bags. Nested
 * messages that nothing in zipit interprets (functions, training info, sparse tensors,
 * non-tensor types, multi-device annotations) are kept as their encoded protobuf bytes.
 */

export type KeyValue = [key: string, value: string];

/** How a tensor's elements were stored, when not the default (`raw_data`). */
export type TensorStorage = 'typed' | 'none';

export interface OnnxTensorExtras {
  /** A name carried by a tensor that is not an initializer (e.g. Constant's value). */
  name?: string;
  docString?: string;
  metadataProps?: KeyValue[];
  /** 'typed': float_data/int32_data/… instead of raw_data; 'none': an empty tensor with no data field. */
  storage?: TensorStorage;
}

export interface OnnxModelExtras {
  /** The default-domain opset import spelled its domain out as "" (onnx.helper does; PyTorch leaves it out). */
  explicitDefaultDomain?: boolean;
  /** Encoded FunctionProto messages (model-local functions), in file order. */
  functions?: Uint8Array[];
  /** Encoded TrainingInfoProto messages. */
  trainingInfo?: Uint8Array[];
  /** Encoded DeviceConfigurationProto messages (IR 11). */
  configuration?: Uint8Array[];
}

export interface QuantizationAnnotation {
  tensorName: string;
  quantParameterTensorNames: KeyValue[];
}

export interface OnnxGraphExtras {
  /** Encoded SparseTensorProto initializers. */
  sparseInitializers?: Uint8Array[];
  quantizationAnnotations?: QuantizationAnnotation[];
  metadataProps?: KeyValue[];
  /** Per-initializer fields beyond name/dtype/shape/data, by initializer name. */
  initializers?: Record<string, OnnxTensorExtras>;
  /** Encoded TensorProto initializers whose data type core has no dtype for (complex, float8, int4…). */
  opaqueInitializers?: Uint8Array[];
}

export interface OnnxNodeExtras {
  /** The node spelled its default domain out as "" rather than leaving the field out. */
  explicitDefaultDomain?: boolean;
  overload?: string;
  metadataProps?: KeyValue[];
  /** Encoded NodeDeviceConfigurationProto messages (IR 11). */
  deviceConfigurations?: Uint8Array[];
}

export interface OnnxValueInfoExtras {
  metadataProps?: KeyValue[];
  /** TypeProto.denotation of a tensor type. */
  denotation?: string;
  /** Per-dimension denotations of a tensor type (null where a dimension has none). */
  dimDenotations?: (string | null)[];
  /** The encoded TypeProto when it is not a plain tensor type the IR models (sequence, map, …); it wins over dtype/shape on write. */
  type?: Uint8Array;
}

export interface OnnxAttributeExtras {
  /** Extras of a TENSOR attribute's value. */
  tensor?: OnnxTensorExtras;
  /** Extras of a TENSORS attribute's values, by position. */
  tensors?: (OnnxTensorExtras | null)[];
}

/** The value of an `opaque` attribute written by this reader: the whole AttributeProto, encoded. */
export interface OpaqueOnnxAttribute {
  format: 'onnx.AttributeProto';
  bytes: Uint8Array;
}

export function isOpaqueOnnxAttribute(v: unknown): v is OpaqueOnnxAttribute {
  return (
    typeof v === 'object' && v !== null && (v as OpaqueOnnxAttribute).format === 'onnx.AttributeProto' && (v as OpaqueOnnxAttribute).bytes instanceof Uint8Array
  );
}

/** Reads the `onnx` entry of an extras bag. */
export function onnxExtras<T>(bag: Record<string, unknown> | undefined): T | undefined {
  const v = bag?.onnx;
  return typeof v === 'object' && v !== null ? (v as T) : undefined;
}

/** Returns `{ onnx: extras }`, or undefined when extras has no fields (so nothing is added to the IR). */
export function withOnnxExtras<T extends object>(extras: T): { onnx: T } | undefined {
  return Object.keys(extras).length > 0 ? { onnx: extras } : undefined;
}
