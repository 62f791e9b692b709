import { InvalidArgumentError, ShapeError, sizeOf, type Tensor } from '@zipit/core';
import { codeOfDtype, elementBytes } from './dtypes.js';
import type { KeyValue, OnnxTensorExtras } from './extras.js';
import type { Int64, StringStringEntryMsg, TensorMsg } from './schema/types.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

export function keyValueMsgs(kv: KeyValue[] | undefined): StringStringEntryMsg[] | undefined {
  return kv && kv.length > 0 ? kv.map(([key, value]) => ({ key, value })) : undefined;
}

/**
 * core Tensor → TensorProto. Numbers go to `raw_data` as little-endian bytes viewing the tensor's
 * own memory (protobufjs copies them once into the output), unless the source stored them in the
 * typed fields (`extras.storage`), which is then reproduced. Strings always use `string_data`.
 */
export function writeTensor(t: Tensor, name: string | undefined, extras: OnnxTensorExtras | undefined, where: string, file?: string): TensorMsg {
  const size = sizeOf(t.shape);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`${where} has an invalid shape [${t.shape.join(', ')}]`, { file });
  }
  if (t.data.length !== size) {
    throw new ShapeError(`${where} has ${t.data.length} elements, its shape [${t.shape.join(', ')}] needs ${size}`, { file });
  }
  if (codeOfDtype(t.dtype) === undefined) throw new InvalidArgumentError(`${where} has unknown dtype "${t.dtype}"`, { file });
  const msg: TensorMsg = { dims: [...t.shape], data_type: codeOfDtype(t.dtype) };
  if (name !== undefined) msg.name = name;
  else if (extras?.name !== undefined) msg.name = extras.name;
  if (extras?.docString !== undefined) msg.doc_string = extras.docString;
  const meta = keyValueMsgs(extras?.metadataProps);
  if (meta) msg.metadata_props = meta;

  if (t.dtype === 'string') {
    if (size > 0) msg.string_data = (t.data as string[]).map((s) => utf8.encode(s));
    return msg;
  }
  if (extras?.storage === 'none' && size === 0) return msg;
  if (extras?.storage === 'typed' && size > 0) {
    writeTypedFields(t, msg);
    return msg;
  }
  msg.raw_data = littleEndianBytes(t);
  return msg;
}

/** The tensor's elements as little-endian bytes: a view of its memory on little-endian hosts. */
function littleEndianBytes(t: Tensor): Uint8Array {
  const data = t.data as Exclude<Tensor['data'], string[]>;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const width = elementBytes(t.dtype);
  if (LITTLE_ENDIAN || width === 1) return bytes;
  const out = new Uint8Array(bytes.byteLength);
  for (let i = 0; i < bytes.byteLength; i += width) {
    for (let k = 0; k < width; k++) out[i + k] = bytes[i + width - 1 - k];
  }
  return out;
}

function writeTypedFields(t: Tensor, msg: TensorMsg): void {
  switch (t.dtype) {
    case 'float32':
      msg.float_data = Array.from(t.data as Float32Array);
      return;
    case 'float64':
      msg.double_data = Array.from(t.data as Float64Array);
      return;
    case 'int64':
      msg.int64_data = words64(t.data as BigInt64Array);
      return;
    case 'uint64':
      msg.uint64_data = words64(t.data as BigUint64Array, true);
      return;
    case 'uint32':
      msg.uint64_data = Array.from(t.data as Uint32Array);
      return;
    case 'string':
      return;
    default:
      msg.int32_data = Array.from(t.data as Int32Array | Int16Array | Int8Array | Uint16Array | Uint8Array);
      return;
  }
}

function words64(data: BigInt64Array | BigUint64Array, unsigned = false): Int64[] {
  const out = new Array<Int64>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = BigInt.asUintN(64, data[i]);
    out[i] = { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned };
  }
  return out;
}
