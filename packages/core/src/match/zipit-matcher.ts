import { stdDevs32 } from '../stats/correlation.js';
import { RowMaxima } from './row-maxima.js';
import { TwinTies } from './zipit-ties.js';
import { checkCovariance, fromAssignment, param, squareSize, type MatchContext, type Matcher, type MatcherParams, type MatchResult } from './matcher.js';

/**
 * ZipIt! matching (Stoica, Bolya et al., ICLR 2024) of N models with C features each: greedily
 * merge the most correlated pair of features — across models and within a model — until C
 * remain. Reproduces the reference implementation decision for decision (see
 * fixtures/golden/README.md for the exact rules, including its α ≤ 0 and budget quirks), except
 * where the reference degenerates (see the −∞ note in the loop) and where similarities tie at 1:
 * twins across models win those ties, so that a self-merge or a permuted copy is recovered
 * exactly (zipit-ties.ts has the rules and why).
 *
 * The reference scans and copies the whole similarity matrix at every step: O(n³) time and
 * memory traffic. Here the matrix stays in place and dead features are skipped. Every row
 * caches its maximum (value and first column attaining it; `RowMaxima` also finds the global
 * one and the rows watching a column). A merge of (lo, hi) rewrites row lo eagerly, but its
 * column update — min(col lo, col hi)·α for every row — is only logged: a row replays the log
 * when it is next read, so no step walks a column of the row-major matrix (a cache and TLB
 * miss per row). A row must be read at once only if its cached maximum could change: when it
 * sat in column lo or hi, when it is not positive (α < 1 raises negative values), or always
 * when α > 1. Each step is O(n) for row lo plus those few rows: O(n²) overall, same answer.
 */
export function zipitMatch(
  covariance: Float32Array | Float64Array,
  numModels: number,
  alpha: number,
  beta: number,
  /** Feature means and signatures (optional): tell near-constant and constant features apart (zipit-ties.ts). */
  context?: MatchContext,
): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const origin = new Int32Array(o);
  for (let i = 0; i < o; i++) origin[i] = Math.floor(i / c);
  // Correlation in float32 (as the reference, with the twin rules of zipit-ties.ts), diagonal
  // −∞, and each row's maximum in one pass.
  const ties = new TwinTies(covariance, o, origin, context);
  const S = new Float32Array(o * o);
  const maxima = new RowMaxima(o, (v, a, ca, b, cb) => v === 1 && ties.before(a, ca, b, cb));
  const std = stdDevs32(covariance, o);
  for (let i = 0; i < o; i++) {
    const row = i * o;
    ties.similarityRow(std, i, S, row);
    S[row + i] = -Infinity;
    let bc = 0;
    let bv = S[row];
    for (let j = 1; j < o; j++) {
      const v = S[row + j];
      if (v > bv || (v === 1 && bv === 1 && ties.before(i, j, i, bc))) {
        bv = v;
        bc = j;
      }
    }
    maxima.init(i, bv, bc);
  }
  maxima.build();

  const a32 = Math.fround(alpha);
  const useAlpha = alpha > 0;
  const everyRow = useAlpha && a32 > 1;
  const toRemove = o - c;
  const budget = new Int32Array(numModels).fill(zipitBudget(toRemove, numModels, beta));

  // Alive features in original order: position p in the reference's shrunk matrix is act[p].
  const act = new Int32Array(o);
  for (let i = 0; i < o; i++) act[i] = i;
  let len = o;
  // Members of merged features: next[] links a group, whose head is its surviving index.
  const next = new Int32Array(o).fill(-1);
  const tail = new Int32Array(o);
  for (let i = 0; i < o; i++) tail[i] = i;

  // Log of column updates: step t set column lo[t] := min(col lo[t], col hi[t]) (·α, or −∞ for
  // rows whose original index lies in one of two forbidden intervals when α ≤ 0).
  const logLo = new Int32Array(o);
  const logHi = new Int32Array(o);
  const logForbid = new Int32Array(4 * o);
  let logLen = 0;
  const synced = new Int32Array(o);
  const affected = new Int32Array(o);
  const seen = new Int32Array(o).fill(-1);
  const pending = new Int32Array(o);
  const bestVal = maxima.value;
  const bestCol = maxima.column;

  while (len > c) {
    // First maximum in row-major order of the shrunk matrix. When every remaining similarity
    // is −∞ (α ≤ 0 or an exhausted budget forbids all pairs), the reference's argmax lands on the
    // diagonal and silently drops a feature; we merge the first remaining pair instead, so
    // every feature stays assigned.
    let bi = maxima.top();
    const exhausted = bi < 0 || bestVal[bi] === -Infinity;
    const bj = exhausted ? act[1] : bestCol[bi];
    if (exhausted) bi = act[0];
    const lo = bi < bj ? bi : bj;
    const hi = bi < bj ? bj : bi;
    const ro = origin[lo];
    const co = origin[hi];
    // From now on lo is a merged feature: its pairs lose the twin tie-break (see zipit-ties.ts).
    const loWasMerged = ties.merged[lo];
    ties.merged[lo] = 1;

    // Column `lo` becomes min(col lo, col hi)·α, or −∞ against both origin ranges (logged).
    logLo[logLen] = lo;
    logHi[logLen] = hi;
    if (!useAlpha) {
      forbiddenInterval(act, len, ro * c, c, logForbid, 4 * logLen);
      forbiddenInterval(act, len, co * c, c, logForbid, 4 * logLen + 2);
    }
    logLen++;
    // Rows whose cached maximum may change read their new column-lo value now: those whose best
    // sat in column lo or hi, those with a non-positive best (α < 1 raises negative values), or
    // all rows when α > 1. Any other row's new column-lo value cannot exceed its maximum.
    let nAffected = 0;
    if (everyRow) {
      affected.set(act.subarray(0, len));
      nAffected = len;
    } else {
      nAffected = maxima.collectWatchers(lo, affected, nAffected);
      nAffected = maxima.collectWatchers(hi, affected, nAffected);
      if (useAlpha) nAffected = maxima.collectNonPositive(affected, nAffected);
    }
    let pendingLen = 0;
    for (let q = 0; q < nAffected; q++) {
      const k = affected[q];
      if (k === lo || k === hi || seen[k] === logLen) continue;
      seen[k] = logLen;
      replay(S, o, k, synced, logLen, logLo, logHi, logForbid, useAlpha, a32);
      const v = S[k * o + lo];
      const b = bestCol[k];
      if (b === lo || b === hi) {
        // Strictly larger: the new maximum. Equal: still the first best, unless a tie at 1
        // changed its key (any other column with that key lies after hi); then rescan.
        if (v > bestVal[k] || (v === bestVal[k] && (v !== 1 || ties.keepsKey(k, b, lo, b === lo ? loWasMerged : ties.merged[hi])))) maxima.set(k, v, lo);
        else pending[pendingLen++] = k;
      } else if (v > bestVal[k] || (v === bestVal[k] && (v === 1 ? ties.precedes(k, lo, k, b) : lo < b))) {
        maxima.set(k, v, lo);
      }
    }
    replay(S, o, lo, synced, logLen, logLo, logHi, logForbid, useAlpha, a32);
    replay(S, o, hi, synced, logLen, logLo, logHi, logForbid, useAlpha, a32);
    // Drop `hi`.
    maxima.remove(hi);
    let hp = 0;
    while (act[hp] !== hi) hp++;
    act.copyWithin(hp, hp + 1, len);
    len--;
    // Row `lo` becomes min(row lo, row hi)·α (ranges now refer to the matrix without `hi`).
    const rl = lo * o;
    const rh = hi * o;
    for (let p = 0; p < len; p++) {
      const j = act[p];
      const x = S[rl + j];
      const y = S[rh + j];
      S[rl + j] = useAlpha ? (y < x ? y : x) * a32 : y < x ? y : x;
    }
    if (!useAlpha) {
      for (const from of [ro * c, co * c]) {
        const end = Math.min(from + c, len);
        for (let p = from; p < end; p++) S[rl + act[p]] = -Infinity;
      }
    }
    next[tail[lo]] = hi;
    tail[lo] = tail[hi];

    let killed = -1;
    if (ro === co) {
      budget[ro]--;
      if (budget[ro] <= 0) {
        // The model's budget is spent: forbid every remaining pair of features it owns.
        killed = ro;
        for (let p = 0; p < len; p++) {
          const i = act[p];
          if (origin[i] !== ro) continue;
          replay(S, o, i, synced, logLen, logLo, logHi, logForbid, useAlpha, a32);
          const row = i * o;
          for (let q = 0; q < len; q++) if (origin[act[q]] === ro) S[row + act[q]] = -Infinity;
        }
      }
    }

    rescan(S, o, act, len, lo, maxima, ties);
    for (let q = 0; q < pendingLen; q++) rescan(S, o, act, len, pending[q], maxima, ties);
    if (killed >= 0) {
      for (let p = 0; p < len; p++) {
        const k = act[p];
        if (k !== lo && origin[k] === killed && origin[bestCol[k]] === killed) rescan(S, o, act, len, k, maxima, ties);
      }
    }
  }

  const groupOf = new Int32Array(o);
  for (let p = 0; p < len; p++) {
    for (let m = act[p]; m >= 0; m = next[m]) groupOf[m] = p;
  }
  return fromAssignment(groupOf, c, numModels);
}

/** Recomputes row k's maximum over alive columns (tie order of zipit-ties.ts, then first column). Row k must be replayed. */
function rescan(S: Float32Array, o: number, act: Int32Array, len: number, k: number, maxima: RowMaxima, ties: TwinTies): void {
  const row = k * o;
  let bc = act[0];
  let bv = S[row + bc];
  for (let q = 1; q < len; q++) {
    const j = act[q];
    const v = S[row + j];
    if (v > bv || (v === 1 && bv === 1 && ties.before(k, j, k, bc))) {
      bv = v;
      bc = j;
    }
  }
  maxima.set(k, bv, bc);
}

/** Applies the logged column updates that row k has not seen yet. */
function replay(
  S: Float32Array,
  o: number,
  k: number,
  synced: Int32Array,
  logLen: number,
  logLo: Int32Array,
  logHi: Int32Array,
  logForbid: Int32Array,
  useAlpha: boolean,
  a32: number,
): void {
  const row = k * o;
  const from = synced[k];
  // A long replay hits most cache lines of the row in random order; streaming the row in first
  // (independent sequential loads) is cheaper. The check keeps the loads from being elided;
  // `synced[k]` is overwritten below either way.
  if (logLen - from > 48) {
    let touch = 0;
    for (let j = row, end = row + o; j < end; j += 16) touch += S[j];
    if (Number.isNaN(touch)) synced[k] = 0;
  }
  for (let t = from; t < logLen; t++) {
    const lo = logLo[t];
    const x = S[row + lo];
    const y = S[row + logHi[t]];
    let v = y < x ? y : x;
    if (useAlpha) v *= a32;
    else {
      const f = 4 * t;
      if ((k >= logForbid[f] && k <= logForbid[f + 1]) || (k >= logForbid[f + 2] && k <= logForbid[f + 3])) v = -Infinity;
    }
    S[row + lo] = v;
  }
  synced[k] = logLen;
}

/**
 * Within-model merges each model may make: ⌊⌊toRemove / N⌋·β + 1e-4⌋ as in the reference
 * (Python integers), clamped to [0, toRemove + 1] so it fits an Int32Array: no run makes more
 * than toRemove merges, so the clamp changes no decision, while an unclamped β = 1e9 wrapped
 * around 2³² and acted like β = 0. A NaN product (0·∞) counts as 0.
 */
export function zipitBudget(toRemove: number, numModels: number, beta: number): number {
  const b = Math.floor(Math.floor(toRemove / numModels) * beta + 1e-4);
  if (Number.isNaN(b)) return 0;
  return Math.max(0, Math.min(b, toRemove + 1));
}

/** Writes the original-index interval of positions [from, from + c) of the shrunk matrix (empty: [1, 0]). */
function forbiddenInterval(act: Int32Array, len: number, from: number, c: number, out: Int32Array, at: number): void {
  const end = Math.min(from + c, len);
  out[at] = from < end ? act[from] : 1;
  out[at + 1] = from < end ? act[end - 1] : 0;
}

export const zipitMatcher: Matcher = {
  name: 'zipit',
  description: 'ZipIt!: greedily merge the most correlated features across and within models (alpha, beta)',
  defaults: { alpha: 0.5, beta: 1 },
  parameters: {
    alpha: {
      description:
        'similarity decay of a merged feature (its similarities become min · α); any finite number, ≤ 0 forbids re-merging it with its origin models (the reference uses 0.5)',
    },
    beta: {
      description:
        'within-model merges each model may make, as a share of ⌊(N−1)·C/N⌋: 0 = only across models, 1 = the reference default; larger values are clamped by the budget',
      min: 0,
    },
  },
  match(covariance: Float32Array | Float64Array, numModels: number, params?: MatcherParams, context?: MatchContext): MatchResult {
    return zipitMatch(covariance, numModels, param(params, 'alpha', 0.5), param(params, 'beta', 1), context);
  },
};
