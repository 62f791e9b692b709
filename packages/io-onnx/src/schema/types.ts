/**
 * TypeScript views of the decoded ONNX messages (field names as in the specification, since the
 * schema is parsed with `keepCase`). protobufjs decodes 64-bit integers to `Long`-like objects
 * ({low, high}); a field is present when it is an own property of the decoded message.
 * Only the fields this package reads are typed; the schema itself is complete.
 */

/** A 64-bit integer as protobufjs hands it over (or accepts it for encoding). */
export type Int64 = number | { low: number; high: number; unsigned?: boolean };

export interface StringStringEntryMsg {
  key?: string;
  value?: string;
}

export interface OperatorSetIdMsg {
  domain?: string;
  version?: Int64;
}

export interface TensorMsg {
  dims?: Int64[];
  data_type?: number;
  segment?: { begin?: Int64; end?: Int64 };
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryMsg[];
  data_location?: number;
  double_data?: number[];
  uint64_data?: Int64[];
  metadata_props?: StringStringEntryMsg[];
}

export interface DimensionMsg {
  dim_value?: Int64;
  dim_param?: string;
  denotation?: string;
}

export interface TensorShapeMsg {
  dim?: DimensionMsg[];
}

export interface TypeMsg {
  tensor_type?: { elem_type?: number; shape?: TensorShapeMsg };
  sequence_type?: { elem_type?: TypeMsg };
  map_type?: { key_type?: number; value_type?: TypeMsg };
  optional_type?: { elem_type?: TypeMsg };
  sparse_tensor_type?: { elem_type?: number; shape?: TensorShapeMsg };
  opaque_type?: { domain?: string; name?: string };
  denotation?: string;
}

export interface ValueInfoMsg {
  name?: string;
  type?: TypeMsg;
  doc_string?: string;
  metadata_props?: StringStringEntryMsg[];
}

/** Values of AttributeProto.type. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export interface AttributeMsg {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorMsg;
  g?: GraphMsg;
  sparse_tensor?: unknown;
  tp?: TypeMsg;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorMsg[];
  graphs?: GraphMsg[];
  sparse_tensors?: unknown[];
  type_protos?: TypeMsg[];
}

export interface NodeMsg {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeMsg[];
  doc_string?: string;
  metadata_props?: StringStringEntryMsg[];
  device_configurations?: unknown[];
}

export interface TensorAnnotationMsg {
  tensor_name?: string;
  quant_parameter_tensor_names?: StringStringEntryMsg[];
}

export interface GraphMsg {
  node?: NodeMsg[];
  name?: string;
  initializer?: TensorMsg[];
  sparse_initializer?: unknown[];
  doc_string?: string;
  input?: ValueInfoMsg[];
  output?: ValueInfoMsg[];
  value_info?: ValueInfoMsg[];
  quantization_annotation?: TensorAnnotationMsg[];
  metadata_props?: StringStringEntryMsg[];
}

export interface FunctionMsg {
  name?: string;
  domain?: string;
  node?: NodeMsg[];
  opset_import?: OperatorSetIdMsg[];
}

export interface ModelMsg {
  ir_version?: Int64;
  opset_import?: OperatorSetIdMsg[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphMsg;
  metadata_props?: StringStringEntryMsg[];
  training_info?: unknown[];
  functions?: FunctionMsg[];
  configuration?: unknown[];
}

/** TensorProto.DataLocation.EXTERNAL */
export const DATA_LOCATION_EXTERNAL = 1;
