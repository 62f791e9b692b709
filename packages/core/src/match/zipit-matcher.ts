import { correlation32 } from '../stats/correlation.js';
import { checkCovariance, fromAssignment, param, squareSize, type Matcher, type MatcherParams, type MatchResult } from './matcher.js';

/**
 * ZipIt! matching (Stoica, Bolya et al., ICLR 2024) of N models with C features each: greedily
 * merge the most correlated pair of features — across models and within a model — until C
 * remain. Reproduces the reference implementation decision for decision (see
 * fixtures/golden/README.md for the exact rules, including its α ≤ 0 and budget quirks), except
 * where the reference degenerates (see the −∞ note in the loop).
 *
 * The reference scans and copies the whole similarity matrix at every step (O(n³) time and
 * traffic). Here the matrix stays in place, removed features are only marked dead, and every
 * row caches its best candidate (value and first column attaining it). A merge rewrites one
 * row and one column, so each step costs O(n) plus a rescan of the few rows whose cached best
 * pointed at the merged pair: O(n²) in practice, same result.
 */
export function zipitMatch(covariance: Float32Array | Float64Array, numModels: number, alpha: number, beta: number): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const S = correlation32(covariance, o);
  for (let i = 0; i < o; i++) S[i * o + i] = -Infinity;

  const a32 = Math.fround(alpha);
  const useAlpha = alpha > 0;
  const toRemove = o - c;
  const budget = new Int32Array(numModels).fill(Math.floor(Math.floor(toRemove / numModels) * beta + 1e-4));
  const origin = new Int32Array(o);
  for (let i = 0; i < o; i++) origin[i] = Math.floor(i / c);

  // Alive features in original order: position p in the reference's shrunk matrix is act[p].
  const act = new Int32Array(o);
  for (let i = 0; i < o; i++) act[i] = i;
  let len = o;
  // Union of merged features: next[] links members of a group, head is the surviving index.
  const next = new Int32Array(o).fill(-1);
  const tail = new Int32Array(o);
  for (let i = 0; i < o; i++) tail[i] = i;

  const bestVal = new Float64Array(o);
  const bestCol = new Int32Array(o);
  const rescan = (k: number): void => {
    const row = k * o;
    let bc = act[0];
    let bv = S[row + bc];
    for (let q = 1; q < len; q++) {
      const j = act[q];
      const v = S[row + j];
      if (v > bv) {
        bv = v;
        bc = j;
      }
    }
    bestVal[k] = bv;
    bestCol[k] = bc;
  };
  for (let i = 0; i < o; i++) rescan(i);

  const forbidColumn = (col: number, from: number): void => {
    const end = Math.min(from + c, len);
    for (let p = from; p < end; p++) S[act[p] * o + col] = -Infinity;
  };
  const forbidRow = (row: number, from: number): void => {
    const end = Math.min(from + c, len);
    for (let p = from; p < end; p++) S[row * o + act[p]] = -Infinity;
  };

  while (len > c) {
    // First maximum in row-major order of the shrunk matrix.
    let bi = act[0];
    for (let p = 1; p < len; p++) {
      const i = act[p];
      if (bestVal[i] > bestVal[bi]) bi = i;
    }
    // When every remaining similarity is −∞ (α ≤ 0 or an exhausted budget forbids all pairs),
    // the reference's argmax lands on the diagonal and silently drops a feature. We merge the
    // first remaining pair in row-major order instead, so every feature stays assigned.
    const exhausted = bestVal[bi] === -Infinity;
    const bj = exhausted ? act[1] : bestCol[bi];
    if (exhausted) bi = act[0];
    const lo = bi < bj ? bi : bj;
    const hi = bi < bj ? bj : bi;
    const ro = origin[lo];
    const co = origin[hi];

    // Column `lo` becomes min(col lo, col hi)·α (or is forbidden against both origin ranges).
    for (let p = 0; p < len; p++) {
      const k = act[p] * o;
      let v = Math.min(S[k + lo], S[k + hi]);
      if (useAlpha) v *= a32;
      S[k + lo] = v;
    }
    if (!useAlpha) {
      forbidColumn(lo, ro * c);
      forbidColumn(lo, co * c);
    }
    // Drop `hi`.
    let hp = 0;
    while (act[hp] !== hi) hp++;
    act.copyWithin(hp, hp + 1, len);
    len--;
    // Row `lo` becomes min(row lo, row hi)·α (ranges now refer to the matrix without `hi`).
    const rl = lo * o;
    const rh = hi * o;
    for (let p = 0; p < len; p++) {
      const j = act[p];
      let v = Math.min(S[rl + j], S[rh + j]);
      if (useAlpha) v *= a32;
      S[rl + j] = v;
    }
    if (!useAlpha) {
      forbidRow(lo, ro * c);
      forbidRow(lo, co * c);
    }
    next[tail[lo]] = hi;
    tail[lo] = tail[hi];

    let killed = -1;
    if (ro === co) {
      budget[ro]--;
      if (budget[ro] <= 0) {
        killed = ro;
        for (let p = 0; p < len; p++) {
          const i = act[p];
          if (origin[i] !== ro) continue;
          const row = i * o;
          for (let q = 0; q < len; q++) if (origin[act[q]] === ro) S[row + act[q]] = -Infinity;
        }
      }
    }

    // Refresh cached row maxima.
    rescan(lo);
    for (let p = 0; p < len; p++) {
      const k = act[p];
      if (k === lo) continue;
      const b = bestCol[k];
      if (killed >= 0 && origin[k] === killed && origin[b] === killed) {
        rescan(k);
        continue;
      }
      const v = S[k * o + lo];
      if (b === lo || b === hi) {
        if (v >= bestVal[k]) {
          bestVal[k] = v;
          bestCol[k] = lo;
        } else {
          rescan(k);
        }
      } else if (v > bestVal[k] || (v === bestVal[k] && lo < b)) {
        bestVal[k] = v;
        bestCol[k] = lo;
      }
    }
  }

  const groupOf = new Int32Array(o);
  for (let p = 0; p < len; p++) {
    for (let m = act[p]; m >= 0; m = next[m]) groupOf[m] = p;
  }
  return fromAssignment(groupOf, c, numModels);
}

export const zipitMatcher: Matcher = {
  name: 'zipit',
  description: 'ZipIt!: greedily merge the most correlated features across and within models (alpha, beta)',
  defaults: { alpha: 0.3, beta: 0.125 },
  match(covariance: Float32Array | Float64Array, numModels: number, params?: MatcherParams): MatchResult {
    return zipitMatch(covariance, numModels, param(params, 'alpha', 0.3), param(params, 'beta', 0.125));
  },
};
