import protobuf from 'protobufjs';
import { ZipitError } from '@zipit/core';
import { readOnnx } from '../src/read.js';
import { validateGraph } from '../src/validate-graph.js';
import { onnxTypes } from '../src/schema/onnx-root.js';
import { writeOnnx } from '../src/write.js';

/** mulberry32: a seeded generator, so every fuzz case can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MUTATIONS = ['truncate', 'flip', 'edge', 'insert', 'delete', 'duplicate', 'bigVarint', 'field', 'field', 'field'] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** One random corruption of `bytes` (never modifies the input): the kinds a damaged download or a bad tool produces. */
export function mutate(input: Uint8Array, seed: number): { kind: Mutation; bytes: Uint8Array } {
  // A private copy: Buffer#slice (and subarray) would share memory with, and corrupt, the caller's seed model.
  const bytes = new Uint8Array(input);
  const rand = seeded(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const kind = MUTATIONS[int(MUTATIONS.length)];
  const n = bytes.length;
  switch (kind) {
    case 'truncate':
      return { kind, bytes: bytes.subarray(0, int(n)) };
    case 'flip': {
      const out = bytes;
      for (let k = 1 + int(8); k > 0; k--) out[int(n)] = int(256);
      return { kind, bytes: out };
    }
    case 'edge': {
      const out = bytes;
      out[int(n)] = [0x00, 0x7f, 0x80, 0xff][int(4)];
      return { kind, bytes: out };
    }
    case 'insert': {
      const at = int(n + 1);
      const extra = Uint8Array.from({ length: 1 + int(16) }, () => int(256));
      return { kind, bytes: concat(bytes.subarray(0, at), extra, bytes.subarray(at)) };
    }
    case 'delete': {
      const at = int(n);
      return { kind, bytes: concat(bytes.subarray(0, at), bytes.subarray(Math.min(n, at + 1 + int(64)))) };
    }
    case 'duplicate': {
      const from = int(n);
      const chunk = bytes.subarray(from, Math.min(n, from + 1 + int(256)));
      const at = int(n + 1);
      return { kind, bytes: concat(bytes.subarray(0, at), chunk, bytes.subarray(at)) };
    }
    case 'field':
      return { kind, bytes: mutateField(bytes, rand) };
    case 'bigVarint': {
      // A length or value varint near the 32/64-bit limits, where decoders overflow or over-allocate.
      const out = bytes;
      const at = int(n);
      const varint = [0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x01].slice(int(2) * 5);
      for (let i = 0; i < varint.length && at + i < n; i++) out[at + i] = varint[i];
      return { kind, bytes: out };
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export type Outcome = { ok: true } | { ok: false; code: string };

/**
 * Reads `bytes` as an ONNX model. Allowed outcomes: a typed ZipitError, or a graph that writes
 * without error and reads back to the same bytes (write∘read is idempotent). Anything else — a
 * TypeError, a RangeError, a protobufjs error escaping — is thrown as a crash for the caller.
 */
export function fuzzOnce(bytes: Uint8Array): Outcome {
  let first: Uint8Array;
  try {
    // The codec round trip is checked on every decodable graph; the structural validation that
    // readOnnx applies by default is fuzzed separately below (it must end in a typed error too).
    const graph = readOnnx(bytes, { file: 'fuzz.onnx', validate: false });
    first = writeOnnx(graph);
    try {
      validateGraph(graph, 'fuzz.onnx');
    } catch (e) {
      if (!(e instanceof ZipitError)) throw e;
    }
  } catch (e) {
    if (e instanceof ZipitError) return { ok: false, code: e.code };
    throw e;
  }
  const second = writeOnnx(readOnnx(first, { file: 'fuzz-rewritten.onnx', validate: false }));
  if (!Buffer.from(first).equals(Buffer.from(second))) throw new Error('write(read(bytes)) is not stable under a second round trip');
  return { ok: true };
}

type Slot = { owner: Record<string, unknown>; field: protobuf.Field };

const INTS = [0, 1, -1, 2, 3, 7, 17, 255, 65536, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, -(2 ** 40), 2 ** 53 + 2];
const FLOATS = [0, -0, 1, -1, Number.NaN, Number.POSITIVE_INFINITY, 3.4e38, 1e-45];
const STRINGS = ['', 'x', 'ai.onnx', 'com.microsoft', 'ai.onnx.ml', 'batch', '../../etc/passwd', 'é\u0000\uffff'];

/**
 * A schema-aware mutation: decode the model, change one field anywhere in the message tree (a
 * dimension, a data type, an attribute kind, a tensor's bytes, a name, a nested message) to an
 * edge value, and encode it again — this reaches the reader's conversion code, where byte noise
 * mostly stops at the protobuf layer.
 */
function mutateField(bytes: Uint8Array, rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const types = onnxTypes();
  let model: Record<string, unknown>;
  try {
    model = types.ModelProto.decode(bytes) as unknown as Record<string, unknown>;
  } catch {
    return bytes;
  }
  const slots: Slot[] = [];
  const walk = (msg: Record<string, unknown>, type: protobuf.Type, depth: number) => {
    for (const field of type.fieldsArray) {
      slots.push({ owner: msg, field });
      if (depth > 6 || !(field.resolvedType instanceof protobuf.Type)) continue;
      const v = msg[field.name];
      const children = field.repeated ? (v as Record<string, unknown>[]) : v && Object.hasOwn(msg, field.name) ? [v as Record<string, unknown>] : [];
      for (const child of children.slice(0, 64)) walk(child, field.resolvedType, depth + 1);
    }
  };
  walk(model, types.ModelProto, 0);
  const { owner, field } = pick(slots);
  const scalar = (): unknown => {
    if (field.resolvedType instanceof protobuf.Enum) return int(30);
    switch (field.type) {
      case 'string':
        return pick(STRINGS);
      case 'bytes':
        return Uint8Array.from({ length: pick([0, 1, 2, 3, 4, 8, 16]) }, () => int(256));
      case 'float':
      case 'double':
        return pick(FLOATS);
      case 'bool':
        return rand() < 0.5;
      default:
        return field.type.startsWith('u') ? Math.abs(pick(INTS)) : pick(INTS);
    }
  };
  const isMessage = field.resolvedType instanceof protobuf.Type;
  if (field.repeated) {
    const list = [...((owner[field.name] as unknown[]) ?? [])];
    const op = int(4);
    if (op === 0) list.length = 0;
    else if (op === 1 && list.length) list.splice(int(list.length), 1);
    else if (op === 2 && list.length) list.push(list[int(list.length)]);
    else list.push(isMessage ? {} : scalar());
    owner[field.name] = list;
  } else if (isMessage || rand() < 0.25) {
    if (rand() < 0.5) delete owner[field.name];
    else owner[field.name] = isMessage ? {} : scalar();
  } else {
    owner[field.name] = scalar();
  }
  try {
    return types.ModelProto.encode(model as never).finish();
  } catch {
    return bytes;
  }
}
