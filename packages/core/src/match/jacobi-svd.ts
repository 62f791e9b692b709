/**
 * Singular value decomposition of a square matrix by one-sided Jacobi rotations (Hestenes), in
 * float64: A = U·diag(s)·Vᵀ with U, V orthogonal. Small matrices only (a merge point's channels,
 * up to a few hundred): O(n³) per sweep, a handful of sweeps. Columns whose singular value is
 * (numerically) zero get U columns completed to an orthonormal basis, so U is always orthogonal
 * and polar factors of rank-deficient matrices (dead channels) stay well defined; singular values
 * below 10⁻⁶ of the largest count as zero.
 */
export interface Svd {
  /** [n, n] row-major. */
  u: Float64Array;
  /** Singular values, unsorted (column j of U and V belong to s[j]). */
  s: Float64Array;
  /** [n, n] row-major. */
  v: Float64Array;
}

export function jacobiSvd(a: ArrayLike<number>, n: number, maxSweeps = 60): Svd {
  if (a.length !== n * n) throw new RangeError(`expected a ${n}×${n} matrix, got ${a.length} elements`);
  const w = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          const x = w[i * n + p];
          const y = w[i * n + q];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (Math.abs(gamma) <= eps * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const x = w[i * n + p];
          const y = w[i * n + q];
          w[i * n + p] = c * x - s * y;
          w[i * n + q] = s * x + c * y;
          const vx = v[i * n + p];
          const vy = v[i * n + q];
          v[i * n + p] = c * vx - s * vy;
          v[i * n + q] = s * vx + c * vy;
        }
      }
    }
    if (!rotated) break;
  }
  const s = new Float64Array(n);
  let smax = 0;
  for (let j = 0; j < n; j++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += w[i * n + j] ** 2;
    s[j] = Math.sqrt(t);
    smax = Math.max(smax, s[j]);
  }
  const u = new Float64Array(n * n);
  // Below 1e-6 of the largest: noise of float32 statistics (a rank-deficient covariance can even
  // carry tiny negative eigenvalues, whose sign would flip a direction). Treated as null.
  const tiny = Math.max(smax * 1e-6, Number.MIN_VALUE);
  const empty: number[] = [];
  for (let j = 0; j < n; j++) {
    if (s[j] <= tiny) {
      s[j] = 0;
      empty.push(j);
      continue;
    }
    for (let i = 0; i < n; i++) u[i * n + j] = w[i * n + j] / s[j];
  }
  completeBasis(u, v, n, empty);
  return { u, s, v };
}

/**
 * Fills the given columns of U with unit vectors orthogonal to all other columns (Gram–Schmidt),
 * trying V's column j first, then e₀, e₁, …: for a symmetric positive semi-definite A (a model
 * against itself) V's null columns are orthogonal to A's range, so U·Vᵀ is exactly the identity
 * there too, and a channel that never varies maps to itself.
 */
function completeBasis(u: Float64Array, v: Float64Array, n: number, columns: readonly number[]): void {
  const filled = new Set<number>();
  for (let j = 0; j < n; j++) if (!columns.includes(j)) filled.add(j);
  const candidate = (j: number, t: number): Float64Array => {
    const x = new Float64Array(n);
    if (t < 0) for (let i = 0; i < n; i++) x[i] = v[i * n + j];
    else x[t] = 1;
    return x;
  };
  for (const j of columns) {
    for (let t = -1; t < n; t++) {
      const x = candidate(j, t);
      for (let pass = 0; pass < 2; pass++) {
        for (const k of filled) {
          let d = 0;
          for (let i = 0; i < n; i++) d += u[i * n + k] * x[i];
          for (let i = 0; i < n; i++) x[i] -= d * u[i * n + k];
        }
      }
      const norm = Math.hypot(...x);
      if (norm > 1e-6) {
        for (let i = 0; i < n; i++) u[i * n + j] = x[i] / norm;
        filled.add(j);
        break;
      }
    }
  }
}

/**
 * The orthogonal matrix R maximising ⟨A, R⟩ = tr(AᵀR) (the orthogonal Procrustes problem):
 * R = U·Vᵀ for A = U·diag(s)·Vᵀ. [n, n] row-major.
 */
export function polarFactor(a: ArrayLike<number>, n: number): Float64Array {
  const { u, v } = jacobiSvd(a, n);
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let t = 0;
      for (let k = 0; k < n; k++) t += u[i * n + k] * v[j * n + k];
      r[i * n + j] = t;
    }
  }
  return r;
}
