/** Smallest σᵢσⱼ allowed in a correlation denominator (the reference's clamp). */
export const CORRELATION_EPS = 1e-7;

/**
 * Correlation from a covariance matrix [n, n]: cov / max(σσᵀ, 1e-7), σ = sqrt(diag), computed
 * in float32 arithmetic exactly as the reference (PyTorch, float32) does, so that argmax ties
 * resolve identically. Every operation is correctly rounded to float32 (`Math.fround` of the
 * exact double result), which is bit-identical to IEEE float32 arithmetic for + − × ÷ √.
 * `out` may alias nothing; it is returned.
 */
export function correlation32(cov: Float32Array | Float64Array, n: number, out = new Float32Array(n * n)): Float32Array {
  checkSquare(cov, n);
  const std = stdDevs32(cov, n);
  for (let i = 0; i < n; i++) correlationRow32(cov, n, std, i, out, i * n);
  return out;
}

/** σ = sqrt(diag(cov)) rounded to float32, as `correlationRow32` needs it. */
export function stdDevs32(cov: Float32Array | Float64Array, n: number): Float64Array {
  const f = Math.fround;
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) std[i] = f(Math.sqrt(f(cov[i * n + i])));
  return std;
}

/** Row i of `correlation32` written to out[at … at + n). */
export function correlationRow32(cov: Float32Array | Float64Array, n: number, std: Float64Array, i: number, out: Float32Array, at: number): void {
  const f = Math.fround;
  const eps = f(CORRELATION_EPS);
  const si = std[i];
  const row = i * n;
  for (let j = 0; j < n; j++) {
    let d = f(si * std[j]);
    if (!(d >= eps)) d = eps;
    out[at + j] = f(cov[row + j]) / d;
  }
}

/** Correlation in float64: cov / max(σσᵀ, 1e-7). For reporting and analysis. */
export function correlation64(cov: Float32Array | Float64Array, n: number, out = new Float64Array(n * n)): Float64Array {
  checkSquare(cov, n);
  const std = new Float64Array(n);
  for (let i = 0; i < n; i++) std[i] = Math.sqrt(cov[i * n + i]);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) out[row + j] = cov[row + j] / Math.max(std[i] * std[j], CORRELATION_EPS);
  }
  return out;
}

function checkSquare(m: ArrayLike<number>, n: number): void {
  if (m.length !== n * n) throw new RangeError(`expected a ${n}×${n} matrix, got ${m.length} elements`);
}
