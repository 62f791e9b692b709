import { FormatError, UnsupportedError, type DType, type Tensor, type TensorData } from '@zipit/core';
import { codeName, dtypeOfCode, elementBytes } from './dtypes.js';
import type { ExternalDataSource } from './external-data.js';
import type { KeyValue, OnnxTensorExtras } from './extras.js';
import { int64ToNumber, int64Words } from './int64.js';
import { DATA_LOCATION_EXTERNAL, type Int64, type StringStringEntryMsg, type TensorMsg } from './schema/types.js';

export interface TensorReadContext {
  file?: string;
  external?: ExternalDataSource;
}

/** A decoded tensor, or the ONNX data type code when core has no dtype for it. */
export type TensorReadResult = { tensor: Tensor; extras: OnnxTensorExtras } | { unsupportedCode: number };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextDecoder('utf-8');

export function has(msg: object, field: string): boolean {
  return Object.hasOwn(msg, field);
}

export function keyValues(entries: StringStringEntryMsg[] | undefined): KeyValue[] | undefined {
  if (!entries || entries.length === 0) return undefined;
  return entries.map((e) => [e.key ?? '', e.value ?? '']);
}

/**
 * TensorProto → core Tensor. Elements come from external data, `raw_data` (little-endian; the
 * typed array views the input bytes when aligned, else one copy), or the typed repeated fields, in
 * that order of precedence, as the specification orders them. `where` names the tensor in errors.
 */
export function readTensor(msg: TensorMsg, where: string, ctx: TensorReadContext): TensorReadResult {
  const code = msg.data_type ?? 0;
  const dtype = dtypeOfCode(code);
  if (dtype === undefined) {
    if (code === 0) throw new FormatError(`${where} has no data type`, { file: ctx.file });
    return { unsupportedCode: code };
  }
  const shape = readDims(msg.dims ?? [], where, ctx.file);
  const size = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(size)) throw new FormatError(`${where} has an impossible shape [${shape.join(', ')}]`, { file: ctx.file });
  if (msg.segment !== undefined && has(msg, 'segment')) {
    throw new UnsupportedError(`${where} is a segment of a larger tensor; segmented tensors are not supported`, { file: ctx.file });
  }

  const extras: OnnxTensorExtras = {};
  if (has(msg, 'doc_string')) extras.docString = msg.doc_string ?? '';
  const meta = keyValues(msg.metadata_props);
  if (meta) extras.metadataProps = meta;

  let data: TensorData;
  if (msg.data_location === DATA_LOCATION_EXTERNAL && has(msg, 'data_location')) {
    if (dtype === 'string') throw new FormatError(`${where}: string tensors cannot be stored externally`, { file: ctx.file });
    if (!ctx.external) throw new FormatError(`${where} is stored externally, which is not allowed here`, { file: ctx.file });
    const bytes = ctx.external.read(where, msg.external_data ?? [], size * elementBytes(dtype));
    data = fromLittleEndian(dtype, bytes, size);
  } else if (has(msg, 'raw_data') && msg.raw_data) {
    if (dtype === 'string') throw new FormatError(`${where}: string tensors cannot use raw_data`, { file: ctx.file });
    const bytes = msg.raw_data;
    const want = size * elementBytes(dtype);
    if (bytes.byteLength !== want) {
      throw new FormatError(`${where}: raw_data holds ${bytes.byteLength} bytes, shape [${shape.join(', ')}] of ${dtype} needs ${want}`, { file: ctx.file });
    }
    data = fromLittleEndian(dtype, bytes, size);
  } else {
    const typed = fromTypedFields(dtype, msg, size, where, ctx.file);
    if (typed === undefined) {
      if (size !== 0) {
        throw new FormatError(`${where} (${codeName(code)}, shape [${shape.join(', ')}]) carries no data`, { file: ctx.file });
      }
      extras.storage = 'none';
      data = emptyData(dtype);
    } else {
      data = typed;
      extras.storage = 'typed';
    }
  }
  return { tensor: { dtype, shape, data }, extras };
}

export function readDims(dims: Int64[], where: string, file: string | undefined): number[] {
  const shape = new Array<number>(dims.length);
  for (let i = 0; i < dims.length; i++) {
    const d = int64ToNumber(dims[i]);
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${where} has an invalid dimension ${d}`, { file });
    shape[i] = d;
  }
  return shape;
}

/** Little-endian bytes → typed array: a view when the bytes are suitably aligned, else one copy. */
export function fromLittleEndian(dtype: Exclude<DType, 'string'>, bytes: Uint8Array, size: number): TensorData {
  const width = elementBytes(dtype);
  if (!LITTLE_ENDIAN && width > 1) return fromBigEndianHost(dtype, bytes, size);
  const aligned = bytes.byteOffset % width === 0;
  const buffer = aligned ? bytes.buffer : copyBytes(bytes);
  const offset = aligned ? bytes.byteOffset : 0;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, offset, size);
    case 'float64':
      return new Float64Array(buffer, offset, size);
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return new Uint16Array(buffer, offset, size);
    case 'int16':
      return new Int16Array(buffer, offset, size);
    case 'int32':
      return new Int32Array(buffer, offset, size);
    case 'uint32':
      return new Uint32Array(buffer, offset, size);
    case 'int64':
      return new BigInt64Array(buffer, offset, size);
    case 'uint64':
      return new BigUint64Array(buffer, offset, size);
    case 'int8':
      return new Int8Array(buffer, offset, size);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, offset, size);
  }
}

function copyBytes(bytes: Uint8Array): ArrayBuffer {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out.buffer;
}

function fromBigEndianHost(dtype: Exclude<DType, 'string'>, bytes: Uint8Array, size: number): TensorData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = <T extends { [i: number]: number | bigint }>(out: T, get: (i: number) => number | bigint): T => {
    for (let i = 0; i < size; i++) out[i] = get(i);
    return out;
  };
  switch (dtype) {
    case 'float32':
      return read(new Float32Array(size), (i) => view.getFloat32(i * 4, true));
    case 'float64':
      return read(new Float64Array(size), (i) => view.getFloat64(i * 8, true));
    case 'float16':
    case 'bfloat16':
    case 'uint16':
      return read(new Uint16Array(size), (i) => view.getUint16(i * 2, true));
    case 'int16':
      return read(new Int16Array(size), (i) => view.getInt16(i * 2, true));
    case 'int32':
      return read(new Int32Array(size), (i) => view.getInt32(i * 4, true));
    case 'uint32':
      return read(new Uint32Array(size), (i) => view.getUint32(i * 4, true));
    case 'int64':
      return read(new BigInt64Array(size), (i) => view.getBigInt64(i * 8, true));
    case 'uint64':
      return read(new BigUint64Array(size), (i) => view.getBigUint64(i * 8, true));
    case 'int8':
      return new Int8Array(bytes.slice().buffer, 0, size);
    case 'uint8':
    case 'bool':
      return bytes.slice();
  }
}

function emptyData(dtype: DType): TensorData {
  return dtype === 'string' ? [] : fromLittleEndian(dtype, new Uint8Array(0), 0);
}

/** The typed repeated field the specification assigns to a dtype, converted; undefined when empty. */
function fromTypedFields(dtype: DType, msg: TensorMsg, size: number, where: string, file: string | undefined): TensorData | undefined {
  const check = (field: string, n: number) => {
    if (n !== size) throw new FormatError(`${where}: ${field} holds ${n} values, its shape needs ${size}`, { file });
  };
  switch (dtype) {
    case 'float32': {
      const v = msg.float_data ?? [];
      if (v.length === 0) return undefined;
      check('float_data', v.length);
      return Float32Array.from(v);
    }
    case 'float64': {
      const v = msg.double_data ?? [];
      if (v.length === 0) return undefined;
      check('double_data', v.length);
      return Float64Array.from(v);
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint16':
    case 'uint8':
    case 'bool':
    case 'float16':
    case 'bfloat16': {
      const v = msg.int32_data ?? [];
      if (v.length === 0) return undefined;
      check('int32_data', v.length);
      switch (dtype) {
        case 'int32':
          return Int32Array.from(v);
        case 'int16':
          return Int16Array.from(v);
        case 'int8':
          return Int8Array.from(v);
        case 'uint8':
        case 'bool':
          return Uint8Array.from(v);
        default:
          return Uint16Array.from(v);
      }
    }
    case 'int64': {
      const v = msg.int64_data ?? [];
      if (v.length === 0) return undefined;
      check('int64_data', v.length);
      const out = new BigInt64Array(size);
      fillWords(out.buffer, v);
      return out;
    }
    case 'uint32':
    case 'uint64': {
      const v = msg.uint64_data ?? [];
      if (v.length === 0) return undefined;
      check('uint64_data', v.length);
      if (dtype === 'uint32') return Uint32Array.from(v, (x) => int64Words(x)[0] >>> 0);
      const out = new BigUint64Array(size);
      fillWords(out.buffer, v);
      return out;
    }
    case 'string': {
      const v = msg.string_data ?? [];
      if (v.length === 0) return undefined;
      check('string_data', v.length);
      return v.map((b) => utf8.decode(b));
    }
  }
}

/** Writes 64-bit values as (low, high) 32-bit word pairs in host order. */
function fillWords(buffer: ArrayBufferLike, values: Int64[]): void {
  const words = new Int32Array(buffer);
  const [lo, hi] = LITTLE_ENDIAN ? [0, 1] : [1, 0];
  for (let i = 0; i < values.length; i++) {
    const [low, high] = int64Words(values[i]);
    words[2 * i + lo] = low;
    words[2 * i + hi] = high;
  }
}
