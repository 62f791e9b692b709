import type { DType } from '@zipit/core';

/**
 * ONNX TensorProto.DataType codes ⇄ core dtypes. Codes without a core dtype (complex, 8-bit and
 * 4-bit floats, 4-bit ints) are kept opaque by the reader rather than guessed at.
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

const CODE_NAMES: readonly string[] = [
  'UNDEFINED',
  'FLOAT',
  'UINT8',
  'INT8',
  'UINT16',
  'INT16',
  'INT32',
  'INT64',
  'STRING',
  'BOOL',
  'FLOAT16',
  'DOUBLE',
  'UINT32',
  'UINT64',
  'COMPLEX64',
  'COMPLEX128',
  'BFLOAT16',
  'FLOAT8E4M3FN',
  'FLOAT8E4M3FNUZ',
  'FLOAT8E5M2',
  'FLOAT8E5M2FNUZ',
  'UINT4',
  'INT4',
  'FLOAT4E2M1',
  'FLOAT8E8M0',
];

/** The core dtype of an ONNX data type code, or undefined when core has none. */
export function dtypeOfCode(code: number): DType | undefined {
  return CODE_TO_DTYPE[code];
}

export function codeOfDtype(dtype: DType): number {
  return DTYPE_TO_CODE[dtype];
}

/** "FLOAT8E4M3FN (17)" — for messages. */
export function codeName(code: number): string {
  return `${CODE_NAMES[code] ?? 'unknown data type'} (${code})`;
}

/** Bytes per element in raw_data (strings have no fixed width: 0). */
export function elementBytes(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
    case 'uint64':
      return 8;
    case 'float32':
    case 'int32':
    case 'uint32':
      return 4;
    case 'float16':
    case 'bfloat16':
    case 'int16':
    case 'uint16':
      return 2;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
    case 'string':
      return 0;
  }
}
