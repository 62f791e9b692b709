import { FormatError, UnsupportedError } from '../errors.js';
import { sizeOf, type DType, type Tensor } from '../tensor/tensor.js';

/**
 * NumPy `.npy` files, versions 1.0–3.0: little-endian, C order. Reading refuses Fortran order,
 * big-endian and unsupported dtypes with a typed error naming the file. Writing emits version
 * 1.0 (2.0 when the header needs it) with the header padded to 64 bytes, as NumPy does.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR_TO_DTYPE: Record<string, DType> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<f2': 'float16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '<i2': 'int16',
  '<u2': 'uint16',
  '<i4': 'int32',
  '<u4': 'uint32',
  '<i8': 'int64',
  '<u8': 'uint64',
  '|b1': 'bool',
};
const DTYPE_TO_DESCR: Partial<Record<DType, string>> = Object.fromEntries(Object.entries(DESCR_TO_DTYPE).map(([k, v]) => [v, k]));
const BYTES: Partial<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
};

export function decodeNpy(bytes: Uint8Array, file?: string): Tensor {
  const fail = (msg: string): never => {
    throw new FormatError(msg, { file });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file (bad magic)');
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw new UnsupportedError(`.npy format version ${major}.${minor} is not supported (1.0–3.0 are)`, { file });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) fail('truncated .npy header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > bytes.length) fail('truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') {
    throw new UnsupportedError('.npy array is in Fortran order', { file, hint: 'save it in C order, e.g. np.save(path, np.ascontiguousarray(a))' });
  }
  const dtype = DESCR_TO_DTYPE[descr!];
  if (!dtype) {
    const hint = descr!.startsWith('>')
      ? 'convert it to little-endian, e.g. a.astype(a.dtype.newbyteorder("<"))'
      : `supported: ${Object.keys(DESCR_TO_DTYPE).join(' ')}`;
    throw new UnsupportedError(`.npy dtype ${descr} is not supported`, { file, hint });
  }
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`malformed .npy shape (${shapeText})`);
  const count = sizeOf(shape);
  const nbytes = count * BYTES[dtype]!;
  if (bytes.length - dataStart < nbytes) {
    fail(`truncated .npy data: shape [${shape.join(', ')}] needs ${nbytes} bytes, file has ${bytes.length - dataStart}`);
  }
  // Copy into a fresh, aligned buffer (the data offset need not be aligned for the element size).
  const copy = new Uint8Array(nbytes);
  copy.set(bytes.subarray(dataStart, dataStart + nbytes));
  const buf = copy.buffer;
  return { dtype, shape, data: typedArray(dtype, buf, count) } as unknown as Tensor;
}

export function encodeNpy(t: Tensor): Uint8Array {
  const descr = DTYPE_TO_DESCR[t.dtype];
  if (!descr) throw new UnsupportedError(`cannot write dtype ${t.dtype} to .npy`);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const v1 = 10 + dict.length + 1 <= 65535 + 10;
  const pre = v1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, ' ') + '\n';
  const data = t.data as ArrayBufferView;
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (v1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

function typedArray(dtype: DType, buf: ArrayBuffer, n: number): ArrayBufferView {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, 0, n);
    case 'float64':
      return new Float64Array(buf, 0, n);
    case 'float16':
    case 'uint16':
      return new Uint16Array(buf, 0, n);
    case 'int8':
      return new Int8Array(buf, 0, n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, 0, n);
    case 'int16':
      return new Int16Array(buf, 0, n);
    case 'int32':
      return new Int32Array(buf, 0, n);
    case 'uint32':
      return new Uint32Array(buf, 0, n);
    case 'int64':
      return new BigInt64Array(buf, 0, n);
    case 'uint64':
      return new BigUint64Array(buf, 0, n);
    default:
      throw new UnsupportedError(`dtype ${dtype} has no .npy representation`);
  }
}
