import { stdDevs32 } from '../stats/correlation.js';
import { TwinTies } from './zipit-ties.js';
import { checkCovariance, squareSize } from './matcher.js';

/**
 * A straightforward port of the reference ZipIt! loop: every step takes the argmax of the whole
 * shrunk matrix, then builds a copy without the merged column and row, as the reference's
 * `remove_col` does — with the same tie rules as `zipitMatch` (zipit-ties.ts). O(n³) time. Kept only as the baseline of `apps/bench` and as an
 * independent oracle in randomized tests; use `zipitMatch`.
 * Returns `groupOf[r]`: the merged feature of stacked feature r.
 */
export function zipitMatchReferencePort(covariance: Float32Array | Float64Array, numModels: number, alpha: number, beta: number): Int32Array {
  const o = squareSize(covariance);
  const om = checkCovariance(covariance, o, numModels);
  let n = o;
  const ties = new TwinTies(
    covariance,
    o,
    Int32Array.from({ length: o }, (_, i) => Math.floor(i / om)),
  );
  let sims: Float32Array = new Float32Array(o * o);
  const std = stdDevs32(covariance, o);
  for (let i = 0; i < o; i++) ties.similarityRow(std, i, sims, i * o);
  for (let i = 0; i < o; i++) sims[i * o + i] = -Infinity;
  // Original index of the feature at each position of the shrunk matrix (for the tie rules).
  let orig = Int32Array.from({ length: o }, (_, i) => i);
  const a = Math.fround(alpha);
  const remainder = om;
  const toRemove = o - remainder;
  // Float64 like Python's unbounded ints (an Int32Array wraps a large β·toRemove around 2³²).
  const budget = new Float64Array(numModels).fill(Math.floor(Math.floor(toRemove / numModels) * beta + 1e-4));
  let originalModel = new Int32Array(o);
  for (let i = 0; i < o; i++) originalModel[i] = Math.floor(i / om);
  // permutation_matrix [O, n]: stacked feature × current merged feature.
  let perm: Float32Array = new Float32Array(o * o);
  for (let i = 0; i < o; i++) perm[i * o + i] = 1;

  while (n > remainder) {
    let best = 0;
    for (let k = 1; k < n * n; k++) {
      const v = sims[k];
      const b = sims[best];
      if (v > b || (v === 1 && b === 1 && ties.before(orig[Math.floor(k / n)], orig[k % n], orig[Math.floor(best / n)], orig[best % n]))) best = k;
    }
    // All −∞: the reference would merge feature 0 with itself and drop it; take the first pair instead (as zipitMatch does).
    if (sims[best] === -Infinity) best = 1;
    let row = best % n;
    let col = Math.floor(best / n);
    if (col < row) [row, col] = [col, row];
    const rowOrigin = originalModel[row];
    const colOrigin = originalModel[col];
    ties.merged[orig[row]] = 1;

    for (let i = 0; i < o; i++) perm[i * n + row] += perm[i * n + col];
    perm = removeColumn(perm, o, n, col);

    for (let i = 0; i < n; i++) sims[i * n + row] = Math.min(sims[i * n + row], sims[i * n + col]);
    if (alpha <= 0) {
      for (const org of [rowOrigin, colOrigin]) {
        for (let i = org * om; i < Math.min((org + 1) * om, n); i++) sims[i * n + row] = -Infinity;
      }
    } else {
      for (let i = 0; i < n; i++) sims[i * n + row] *= a;
    }
    sims = removeColumn(sims, n, n, col);
    const m = n - 1;
    for (let j = 0; j < m; j++) sims[row * m + j] = Math.min(sims[row * m + j], sims[col * m + j]);
    if (alpha <= 0) {
      for (const org of [rowOrigin, colOrigin]) {
        for (let j = org * om; j < Math.min((org + 1) * om, m); j++) sims[row * m + j] = -Infinity;
      }
    } else {
      for (let j = 0; j < m; j++) sims[row * m + j] *= a;
    }
    sims = removeRow(sims, n, m, col);
    n = m;

    const next = new Int32Array(n);
    for (let i = 0, k = 0; i <= n; i++) if (i !== col) next[k++] = originalModel[i];
    originalModel = next;
    const nextOrig = new Int32Array(n);
    for (let i = 0, k = 0; i <= n; i++) if (i !== col) nextOrig[k++] = orig[i];
    orig = nextOrig;
    if (rowOrigin === colOrigin) {
      const origin = originalModel[row];
      budget[origin]--;
      if (budget[origin] <= 0) {
        for (let i = 0; i < n; i++) {
          if (originalModel[i] !== origin) continue;
          for (let j = 0; j < n; j++) if (originalModel[j] === origin) sims[i * n + j] = -Infinity;
        }
      }
    }
  }
  const groupOf = new Int32Array(o);
  for (let i = 0; i < o; i++) for (let j = 0; j < n; j++) if (perm[i * n + j] > 0) groupOf[i] = j;
  return groupOf;
}

function removeColumn(m: Float32Array, rows: number, cols: number, col: number): Float32Array {
  const out = new Float32Array(rows * (cols - 1));
  for (let i = 0; i < rows; i++) {
    out.set(m.subarray(i * cols, i * cols + col), i * (cols - 1));
    out.set(m.subarray(i * cols + col + 1, (i + 1) * cols), i * (cols - 1) + col);
  }
  return out;
}

function removeRow(m: Float32Array, rows: number, cols: number, row: number): Float32Array {
  const out = new Float32Array((rows - 1) * cols);
  out.set(m.subarray(0, row * cols), 0);
  out.set(m.subarray((row + 1) * cols), row * cols);
  return out;
}
