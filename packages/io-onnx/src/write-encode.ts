import type protobuf from 'protobufjs';
import { encodeMessage, onnxTypes } from './schema/onnx-root.js';
import type { GraphMsg, ModelMsg, TensorMsg } from './schema/types.js';

/**
 * Encodes a ModelProto with the main graph's initializer data copied exactly once, straight
 * into an output buffer allocated at its final size. protobufjs' own encoder grows its buffer
 * by doubling and shifts every length-delimited message once its size is known, which costs
 * 5–8 copies of the weights. Here every message is still encoded by protobufjs, only in
 * pieces split around the big fields (field order is by number, as protobufjs writes it), so
 * the bytes are identical to `ModelProto.encode(model)` — a test holds the two together.
 */
export function encodeModel(model: ModelMsg): Uint8Array {
  const types = onnxTypes();
  const graph = model.graph;
  if (!graph) return encodeMessage(types.ModelProto, model);
  const pieces: Uint8Array[] = [];
  // ModelProto: fields 1–6, graph (7), then 8 and up.
  pieces.push(encodeMessage(types.ModelProto, pick(model, ['ir_version', 'producer_name', 'producer_version', 'domain', 'model_version', 'doc_string'])));
  const graphPieces = encodeGraphPieces(graph, types);
  pieces.push(tagAndLength(7, total(graphPieces)), ...graphPieces);
  pieces.push(encodeMessage(types.ModelProto, pick(model, ['opset_import', 'metadata_props', 'training_info', 'functions', 'configuration'])));
  const out = new Uint8Array(total(pieces));
  let offset = 0;
  for (const p of pieces) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function encodeGraphPieces(graph: GraphMsg, types: ReturnType<typeof onnxTypes>): Uint8Array[] {
  // GraphProto: node (1), name (2), initializer (5), then 10 and up.
  const pieces = [encodeMessage(types.GraphProto, pick(graph, ['node', 'name']))];
  for (const t of graph.initializer ?? []) {
    const tensorPieces = encodeTensorPieces(t, types.TensorProto);
    pieces.push(tagAndLength(5, total(tensorPieces)), ...tensorPieces);
  }
  pieces.push(
    encodeMessage(
      types.GraphProto,
      pick(graph, ['doc_string', 'input', 'output', 'value_info', 'quantization_annotation', 'sparse_initializer', 'metadata_props']),
    ),
  );
  return pieces;
}

function encodeTensorPieces(t: TensorMsg, type: protobuf.Type): Uint8Array[] {
  if (!Object.hasOwn(t, 'raw_data') || !t.raw_data) return [encodeMessage(type, t)];
  // TensorProto: fields 1–8, raw_data (9), then 10 and up; raw_data is referenced, not re-encoded.
  return [
    encodeMessage(type, pick(t, ['dims', 'data_type', 'segment', 'float_data', 'int32_data', 'string_data', 'int64_data', 'name'])),
    tagAndLength(9, t.raw_data.length),
    t.raw_data,
    encodeMessage(type, pick(t, ['double_data', 'uint64_data', 'doc_string', 'external_data', 'data_location', 'metadata_props'])),
  ];
}

/** The own (present) properties of `msg` among `keys`. */
function pick<T extends object>(msg: T, keys: readonly string[]): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (Object.hasOwn(msg, k)) out[k] = (msg as Record<string, unknown>)[k];
  return out as Partial<T>;
}

function total(pieces: Uint8Array[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

/** The key of a length-delimited field and the varint length that follows it. */
function tagAndLength(field: number, length: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = (field << 3) | 2; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      bytes.push(v);
      break;
    }
    bytes.push((v % 128) | 128);
  }
  for (let v = length; ; v = Math.floor(v / 128)) {
    if (v < 128) {
      bytes.push(v);
      break;
    }
    bytes.push((v % 128) | 128);
  }
  return Uint8Array.from(bytes);
}
