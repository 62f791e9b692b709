import { correlation32 } from '../stats/correlation.js';
import { linearSumAssignment } from './lap.js';
import { checkCovariance, fromAssignment, squareSize, type MatchContext, type Matcher, type MatchResult } from './matcher.js';
import { pairTwins } from './permute-twins.js';
import { TwinTies } from './zipit-ties.js';

/**
 * Permutation matching (Git Re-Basin style): model 0 keeps its features; each other model k is
 * permuted onto model 0 by the linear sum assignment maximising Σ corr(model 0 feature r,
 * model k feature π(r)). Every merged feature averages exactly one feature of each model.
 * Exact twins across models (identical on the data, or both constant — of equal mean when the
 * means are given) are paired first and the
 * assignment runs on the rest, so that a self-merge or a permuted copy is recovered exactly
 * (permute-twins.ts has why); without twins this is the reference's assignment.
 */
export function permuteMatch(
  covariance: Float32Array | Float64Array,
  numModels: number,
  /** Feature means and signatures (optional): tell near-constant and constant features apart (zipit-ties.ts). */
  context?: MatchContext,
): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const corr = correlation32(covariance, o);
  const origin = new Int32Array(o);
  for (let i = 0; i < o; i++) origin[i] = Math.floor(i / c);
  const ties = new TwinTies(covariance, o, origin, context);
  const groupOf = new Int32Array(o);
  for (let r = 0; r < c; r++) groupOf[r] = r;
  for (let k = 1; k < numModels; k++) {
    const paired = pairTwins(ties, c, k);
    // The rows and columns no twin took, in order: the assignment's sub-problem.
    const taken = new Uint8Array(c);
    for (let r = 0; r < c; r++) if (paired[r] >= 0) taken[paired[r]] = 1;
    const rows: number[] = [];
    const cols: number[] = [];
    for (let r = 0; r < c; r++) if (paired[r] < 0) rows.push(r);
    for (let j = 0; j < c; j++) if (!taken[j]) cols.push(j);
    const m = rows.length;
    const block = new Float32Array(m * m);
    for (let a = 0; a < m; a++) {
      const row = rows[a] * o + k * c;
      for (let b = 0; b < m; b++) block[a * m + b] = corr[row + cols[b]];
    }
    const colForRow = m > 0 ? linearSumAssignment(block, m, true) : new Int32Array(0);
    for (let a = 0; a < m; a++) paired[rows[a]] = cols[colForRow[a]];
    for (let r = 0; r < c; r++) groupOf[k * c + paired[r]] = r;
  }
  return fromAssignment(groupOf, c, numModels);
}

export const permuteMatcher: Matcher = {
  name: 'permute',
  description: 'permutation onto model 0 by linear sum assignment of correlations (Git Re-Basin style)',
  defaults: {},
  match: (covariance, numModels, _params, context) => permuteMatch(covariance, numModels, context),
};
