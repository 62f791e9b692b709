/**
 * Tensors: a typed array plus an explicit shape, C (row-major) order. Numbers never live in
 * JS arrays. `float16`/`bfloat16` keep their raw bits in a Uint16Array; `bool` uses Uint8Array.
 */
export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int16: Int16Array;
  uint16: Uint16Array;
  int32: Int32Array;
  uint32: Uint32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
  string: string[];
}

export type TensorData = DataTypeMap[DType];

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  /** Dimensions, outermost first. `[]` is a scalar. */
  readonly shape: readonly number[];
  readonly data: DataTypeMap[D];
}

export type FloatTensor = Tensor<'float32'> | Tensor<'float64'>;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function tensor<D extends DType>(dtype: D, shape: readonly number[], data: DataTypeMap[D]): Tensor<D> {
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new RangeError(`tensor of shape [${shape.join(', ')}] needs ${n} elements, got ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

export function zeros(dtype: 'float32', shape: readonly number[]): Tensor<'float32'>;
export function zeros(dtype: 'float64', shape: readonly number[]): Tensor<'float64'>;
export function zeros(dtype: 'float32' | 'float64', shape: readonly number[]): FloatTensor {
  const n = sizeOf(shape);
  return dtype === 'float32' ? { dtype, shape: [...shape], data: new Float32Array(n) } : { dtype, shape: [...shape], data: new Float64Array(n) };
}

/** Identity matrix [n, n]. */
export function eye(dtype: 'float32' | 'float64', n: number): FloatTensor {
  const t = dtype === 'float32' ? zeros('float32', [n, n]) : zeros('float64', [n, n]);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}

export function isFloatTensor(t: Tensor): t is FloatTensor {
  return t.dtype === 'float32' || t.dtype === 'float64';
}
