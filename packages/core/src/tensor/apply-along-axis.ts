import { ShapeError } from '../errors.js';

/** A dense float array, row-major. */
export type FloatArray = Float32Array | Float64Array;

export interface ApplyAlongAxisOptions {
  /** Use Aᵀ instead of A (A stays stored as [rows, cols]). Default false. */
  transpose?: boolean;
  /** Add into `out` instead of overwriting it. Default false. */
  accumulate?: boolean;
}

/**
 * Multiplies a matrix into one axis of an N-d tensor:
 * `out[o, i, n] = Σ_j E[i, j] · x[o, j, n]`, where `x` of shape `shape` is viewed as
 * [outer, K, inner] around `axis`, and E = A ([rows, cols], row-major) or Aᵀ with `transpose`.
 * `out` has `shape` with `shape[axis]` replaced by E's row count. This is how merge matrices are
 * folded into producers (E = M along the output-channel axis) and unmerge matrices into consumers
 * (E = Uᵀ along the input-channel axis). Zero entries of E are skipped, so permutation and
 * block-sparse merges cost O(nnz · inner) per outer index. Allocates nothing; returns `out`.
 */
export function applyAlongAxis<T extends FloatArray>(
  out: T,
  a: FloatArray,
  rows: number,
  cols: number,
  x: FloatArray,
  shape: readonly number[],
  axis: number,
  opts: ApplyAlongAxisOptions = {},
): T {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  if (a.length !== rows * cols) {
    throw new ShapeError(`matrix of ${rows}×${cols} needs ${rows * cols} elements, got ${a.length}`);
  }
  const transpose = opts.transpose === true;
  const outDim = transpose ? cols : rows;
  const inDim = transpose ? rows : cols;
  const k = shape[axis];
  if (k !== inDim) {
    throw new ShapeError(
      `cannot apply a ${transpose ? `transposed ${rows}×${cols}` : `${rows}×${cols}`} matrix along axis ${axis} of size ${k} (shape [${shape.join(', ')}])`,
    );
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < rank; d++) inner *= shape[d];
  if (x.length !== outer * k * inner) {
    throw new ShapeError(`tensor of shape [${shape.join(', ')}] needs ${outer * k * inner} elements, got ${x.length}`);
  }
  if (out.length !== outer * outDim * inner) {
    throw new ShapeError(`output needs ${outer * outDim * inner} elements, got ${out.length}`);
  }
  if (out === (x as FloatArray) || (out.buffer === x.buffer && overlaps(out, x))) {
    throw new ShapeError('applyAlongAxis: out must not alias the input tensor');
  }
  if (opts.accumulate !== true) out.fill(0);
  // E[i, j] sits at a[i * cols + j] (plain) or a[j * cols + i] (transposed).
  const rowStride = transpose ? 1 : cols;
  const colStride = transpose ? cols : 1;
  for (let o = 0; o < outer; o++) {
    const xBase = o * k * inner;
    const outBase = o * outDim * inner;
    for (let i = 0; i < outDim; i++) {
      const dst = outBase + i * inner;
      const eRow = i * rowStride;
      for (let j = 0; j < inDim; j++) {
        const e = a[eRow + j * colStride];
        if (e === 0) continue;
        const src = xBase + j * inner;
        for (let n = 0; n < inner; n++) out[dst + n] += e * x[src + n];
      }
    }
  }
  return out;
}

function overlaps(p: FloatArray, q: FloatArray): boolean {
  const p0 = p.byteOffset;
  const p1 = p0 + p.byteLength;
  const q0 = q.byteOffset;
  const q1 = q0 + q.byteLength;
  return p0 < q1 && q0 < p1;
}

/**
 * A matrix stored by rows with only its non-zero entries (CSR): row i holds
 * `values[rowPtr[i] … rowPtr[i+1])` at columns `colIdx[…]`. Merge/unmerge matrices have about
 * one or two non-zeros per row, so applying them this way costs O(nnz) instead of O(rows·cols).
 */
export interface SparseRows {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

/** The non-zero structure of A ([rows, cols], row-major), or of Aᵀ with `transpose`. */
export function sparseRows(a: ArrayLike<number>, rows: number, cols: number, transpose = false): SparseRows {
  if (a.length !== rows * cols) {
    throw new ShapeError(`matrix of ${rows}×${cols} needs ${rows * cols} elements, got ${a.length}`);
  }
  const outRows = transpose ? cols : rows;
  const outCols = transpose ? rows : cols;
  const at = (i: number, j: number) => (transpose ? a[j * cols + i] : a[i * cols + j]);
  let nnz = 0;
  for (let k = 0; k < a.length; k++) if (a[k] !== 0) nnz++;
  const rowPtr = new Int32Array(outRows + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < outRows; i++) {
    rowPtr[i] = p;
    for (let j = 0; j < outCols; j++) {
      const e = at(i, j);
      if (e === 0) continue;
      colIdx[p] = j;
      values[p++] = e;
    }
  }
  rowPtr[outRows] = p;
  return { rows: outRows, cols: outCols, rowPtr, colIdx, values };
}

/**
 * {@link applyAlongAxis} with a sparse matrix E: `out[o, i, n] = Σ_j E[i, j] · x[o, j, n]`.
 * Allocates nothing; returns `out`.
 */
export function applySparseAlongAxis<T extends FloatArray>(
  out: T,
  e: SparseRows,
  x: FloatArray,
  shape: readonly number[],
  axis: number,
  opts: { accumulate?: boolean } = {},
): T {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank) {
    throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  const k = shape[axis];
  if (k !== e.cols) {
    throw new ShapeError(`cannot apply a ${e.rows}×${e.cols} matrix along axis ${axis} of size ${k} (shape [${shape.join(', ')}])`);
  }
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= shape[d];
  let inner = 1;
  for (let d = axis + 1; d < rank; d++) inner *= shape[d];
  if (x.length !== outer * k * inner) {
    throw new ShapeError(`tensor of shape [${shape.join(', ')}] needs ${outer * k * inner} elements, got ${x.length}`);
  }
  if (out.length !== outer * e.rows * inner) {
    throw new ShapeError(`output needs ${outer * e.rows * inner} elements, got ${out.length}`);
  }
  if (out === (x as FloatArray) || (out.buffer === x.buffer && overlaps(out, x))) {
    throw new ShapeError('applySparseAlongAxis: out must not alias the input tensor');
  }
  if (opts.accumulate !== true) out.fill(0);
  const { rowPtr, colIdx, values } = e;
  for (let o = 0; o < outer; o++) {
    const xBase = o * k * inner;
    const outBase = o * e.rows * inner;
    for (let i = 0; i < e.rows; i++) {
      const dst = outBase + i * inner;
      for (let p = rowPtr[i]; p < rowPtr[i + 1]; p++) {
        const w = values[p];
        const src = xBase + colIdx[p] * inner;
        for (let n = 0; n < inner; n++) out[dst + n] += w * x[src + n];
      }
    }
  }
  return out;
}
