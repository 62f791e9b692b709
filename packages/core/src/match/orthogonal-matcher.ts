import { correlation64 } from '../stats/correlation.js';
import { polarFactor } from './jacobi-svd.js';
import { checkCovariance, param, squareSize, type Matcher, type MatcherParams, type MatchResult } from './matcher.js';
import { zipitMatch } from './zipit-matcher.js';

/**
 * Orthogonal alignment (orthogonal Procrustes): model 0 keeps its features; every other model k
 * is rotated onto model 0 by the orthogonal Rₖ maximising E[x₀ᵀ·Rₖ·xₖ] (the polar factor of
 * the cross-covariance block), and the merged feature is the average (x₀ + Σₖ Rₖxₖ)/N. So
 * merge = [I, R₁, …]/N and unmerge = [I; R₁ᵀ; …] (dense, not 0/1).
 *
 * Why: a space that no element-wise nonlinearity reads — a transformer's residual stream, the
 * per-head query/key and value spaces — is not tied to its basis. Any orthogonal map of it keeps
 * the model's function (q·k and attention-weighted values are rotation invariant, and
 * LayerNorm with its gain and bias folded into the next layers commutes with orthogonal maps
 * that fix the all-ones vector), so a rotation aligns two models far better than a permutation
 * can. Not for spaces read by ReLU/GELU, which only commute with permutations.
 *
 * Parameters:
 * - `fixMean` (default 1): Rₖ fixes the all-ones direction (Rₖ·1 = 1), so it commutes with
 *   LayerNorm's centring; it is the Procrustes solution on the complement 1⊥;
 * - `correlation` (default 0): align correlations instead of covariances (every channel counts
 *   the same rather than in proportion to its variance);
 * - `zip` (default 0): after rotating, merge the aligned features with ZipIt! (α = `alpha`,
 *   β = `beta`) instead of averaging them one to one.
 */
export function orthogonalMatch(covariance: Float32Array | Float64Array, numModels: number, params?: MatcherParams): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const fixMean = param(params, 'fixMean', 1) !== 0;
  const stats = param(params, 'correlation', 0) !== 0 ? correlation64(covariance, o) : covariance;
  const rotations: Float64Array[] = [identity(c)];
  for (let k = 1; k < numModels; k++) {
    const a = new Float64Array(c * c);
    for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) a[i * c + j] = stats[i * o + k * c + j];
    rotations.push(fixMean ? procrustesFixingOnes(a, c) : polarFactor(a, c));
  }
  if (param(params, 'zip', 0) !== 0) return zipAligned(covariance, o, c, numModels, rotations, param(params, 'alpha', 0.5), param(params, 'beta', 1));
  const merge = new Float32Array(c * o);
  const unmerge = new Float32Array(o * c);
  for (let k = 0; k < numModels; k++) {
    const r = rotations[k];
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) {
        merge[i * o + k * c + j] = r[i * c + j] / numModels;
        unmerge[(k * c + j) * c + i] = r[i * c + j];
      }
    }
  }
  return { merge, unmerge, channels: c, numModels };
}

/**
 * The orthogonal R with R·1 = 1 maximising ⟨A, R⟩: with B an orthonormal basis of 1⊥ (the last
 * n − 1 columns of the Householder reflection that swaps e₀ and 1/√n), R = B·polar(BᵀAB)·Bᵀ + 11ᵀ/n.
 */
export function procrustesFixingOnes(a: Float64Array, n: number): Float64Array {
  if (n === 1) return Float64Array.of(1);
  // Householder H = I − 2vvᵀ/(vᵀv), v = e₀ − 1/√n; column j of B is column j + 1 of H.
  const v = new Float64Array(n).fill(-1 / Math.sqrt(n));
  v[0] += 1;
  const vv = v.reduce((s, x) => s + x * x, 0);
  const m = n - 1;
  const b = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) b[i * m + j] = (i === j + 1 ? 1 : 0) - (2 * v[i] * v[j + 1]) / vv;
  const ab = multiply(a, n, n, b, m);
  const bt = transpose(b, n, m);
  const r1 = polarFactor(multiply(bt, m, n, ab, m), m);
  const r = multiply(multiply(b, n, m, r1, m), n, m, bt, n);
  for (let i = 0; i < n * n; i++) r[i] += 1 / n;
  return r;
}

/** ZipIt! on the rotated features y = T·x, T = diag(R₀, R₁, …): merge = M'·T, unmerge = Tᵀ·U'. */
function zipAligned(cov: Float32Array | Float64Array, o: number, c: number, n: number, rotations: Float64Array[], alpha: number, beta: number): MatchResult {
  const t = new Float64Array(o * o);
  for (let k = 0; k < n; k++) for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) t[(k * c + i) * o + k * c + j] = rotations[k][i * c + j];
  const rotated = multiply(multiply(t, o, o, cov, o), o, o, transpose(t, o, o), o);
  const zipped = zipitMatch(rotated, n, alpha, beta);
  const merge = Float32Array.from(multiply(zipped.merge, c, o, t, o));
  const unmerge = Float32Array.from(multiply(transpose(t, o, o), o, o, zipped.unmerge, c));
  return { merge, unmerge, channels: c, numModels: n };
}

function identity(n: number): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1;
  return r;
}

/** [r, k] × [k, cols] row-major. */
function multiply(a: ArrayLike<number>, rows: number, k: number, b: ArrayLike<number>, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      for (let j = 0; j < cols; j++) out[i * cols + j] += x * b[p * cols + j];
    }
  }
  return out;
}

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

export const orthogonalMatcher: Matcher = {
  name: 'orthogonal',
  description: 'orthogonal alignment onto model 0 (Procrustes on cross-covariances), for spaces no element-wise nonlinearity reads',
  defaults: { fixMean: 1, correlation: 0, zip: 0, alpha: 0.5, beta: 1 },
  match: (covariance, numModels, params) => orthogonalMatch(covariance, numModels, params),
};
