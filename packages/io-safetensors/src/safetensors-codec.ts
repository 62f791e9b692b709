import { FormatError, UnsupportedError, type DType, type Tensor } from '@zipit/core';

/** safetensors dtype codes ⇄ core dtypes, with bytes per element. */
const CODES: Record<string, { dtype: DType; bytes: number }> = {
  F64: { dtype: 'float64', bytes: 8 },
  F32: { dtype: 'float32', bytes: 4 },
  F16: { dtype: 'float16', bytes: 2 },
  BF16: { dtype: 'bfloat16', bytes: 2 },
  I64: { dtype: 'int64', bytes: 8 },
  I32: { dtype: 'int32', bytes: 4 },
  I16: { dtype: 'int16', bytes: 2 },
  I8: { dtype: 'int8', bytes: 1 },
  U64: { dtype: 'uint64', bytes: 8 },
  U32: { dtype: 'uint32', bytes: 4 },
  U16: { dtype: 'uint16', bytes: 2 },
  U8: { dtype: 'uint8', bytes: 1 },
  BOOL: { dtype: 'bool', bytes: 1 },
};
const CODE_OF = new Map<DType, string>(Object.entries(CODES).map(([code, d]) => [d.dtype, code]));

const ARRAYS: Partial<Record<DType, new (buffer: ArrayBuffer) => Tensor['data']>> = {
  float64: Float64Array,
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint64: BigUint64Array,
  uint32: Uint32Array,
  uint16: Uint16Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as never;

/** Headers above this are refused as corrupt (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

/** The tensors of a safetensors file, in file order, and its `__metadata__` strings. */
export interface Safetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Whether the bytes start like a safetensors file: a plausible header length, then `{`. */
export function sniffSafetensors(bytes: Uint8Array): number {
  if (bytes.length < 10) return 0;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n < 2 || n > MAX_HEADER_BYTES) return 0;
  return bytes[8] === 0x7b ? 0.95 : 0;
}

/**
 * Decodes a safetensors file: an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, offsets relative
 * to the data after the header), then the raw little-endian tensor bytes. Every tensor is
 * copied into its own aligned typed array. Corrupt input is a FormatError naming the file and
 * the tensor.
 */
export function decodeSafetensors(bytes: Uint8Array, file?: string): Safetensors {
  if (bytes.length < 8) throw new FormatError(`${bytes.length} bytes: too short for a safetensors file (8-byte header length first)`, { file });
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES || 8 + n > bytes.length) {
    throw new FormatError(`the header claims ${n} bytes but the file has ${bytes.length - 8} after the length`, {
      file,
      hint: 'the file is truncated or not safetensors',
    });
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new FormatError(`the header is not valid JSON (${(e as Error).message})`, { file, cause: e });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new FormatError('the header is not a JSON object', { file });
  const body = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) metadata[k] = String(v);
      continue;
    }
    tensors.set(name, decodeEntry(name, entry, body, file));
  }
  return { tensors, metadata };
}

function decodeEntry(name: string, entry: unknown, body: Uint8Array, file: string | undefined): Tensor {
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const code = CODES[String(e?.dtype)];
  if (!code) throw new UnsupportedError(`tensor "${name}" has dtype ${JSON.stringify(e?.dtype)}; supported: ${Object.keys(CODES).join(', ')}`, { file });
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new FormatError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, { file });
  const offsets = e.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw new FormatError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`, { file });
  }
  const [begin, end] = offsets as number[];
  const count = (shape as number[]).reduce((p, d) => p * d, 1);
  if (end < begin || end > body.length || end - begin !== count * code.bytes) {
    throw new FormatError(
      `tensor "${name}" [${shape.join(', ')}] ${e.dtype} needs ${count * code.bytes} bytes but its data_offsets are [${begin}, ${end}] in ${body.length} bytes of data`,
      {
        file,
        hint: 'the file is truncated or corrupt',
      },
    );
  }
  const own = new Uint8Array(end - begin);
  own.set(body.subarray(begin, end));
  const data = new ARRAYS[code.dtype]!(own.buffer);
  return { dtype: code.dtype, shape: [...(shape as number[])], data } as Tensor;
}

/**
 * Encodes tensors as a safetensors file, in the given order (so the same tensors always give
 * the same bytes), the header padded with spaces to a multiple of 8 bytes as the reference
 * writer does. String tensors cannot be stored (UnsupportedError naming the tensor).
 */
export function encodeSafetensors(tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    const code = CODE_OF.get(t.dtype);
    if (!code || Array.isArray(t.data)) throw new UnsupportedError(`tensor "${name}" is ${t.dtype}, which safetensors cannot store`);
    if (name === '__metadata__' || name in header) throw new UnsupportedError(`tensor name "${name}" is taken`);
    const d = t.data;
    const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    header[name] = { dtype: code, shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
