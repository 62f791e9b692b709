import type { DType } from './tensor.js';

/**
 * ONNX TensorProto.DataType codes ⇄ core dtypes: the graph IR keeps ONNX's codes where an
 * attribute holds one (`Cast.to`), and the ONNX codec stores them. Codes without a core dtype
 * (complex, 8-bit and 4-bit floats, 4-bit ints) have none here, and are not guessed at.
 */
const CODE_TO_DTYPE: Readonly<Record<number, DType>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};

const DTYPE_TO_CODE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
};

/** The core dtype of an ONNX data type code, or undefined when core has none. */
export function dtypeOfOnnxCode(code: number): DType | undefined {
  return CODE_TO_DTYPE[code];
}

/** The ONNX data type code of a core dtype. */
export function onnxCodeOfDtype(dtype: DType): number {
  return DTYPE_TO_CODE[dtype];
}

/**
 * The core dtypes an onnxruntime JavaScript `Tensor` holds (onnxruntime-node and -web alike):
 * every one but bfloat16. Executors refuse the rest by name rather than hand them over.
 */
export const ONNXRUNTIME_DTYPES: ReadonlySet<DType> = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);
