import { dtypeOfOnnxCode, onnxCodeOfDtype, type DType } from '@zipit/core';

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
  return dtypeOfOnnxCode(code);
}

export function codeOfDtype(dtype: DType): number {
  return onnxCodeOfDtype(dtype);
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
