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
