import { correlation32 } from '../stats/correlation.js';
import { linearSumAssignment } from './lap.js';
import { checkCovariance, fromAssignment, squareSize, type Matcher, type MatchResult } from './matcher.js';

/**
 * Permutation matching (Git Re-Basin style): model 0 keeps its features; each other model k is
 * permuted onto model 0 by the linear sum assignment maximising Σ corr(model 0 feature r,
 * model k feature π(r)). Every merged feature averages exactly one feature of each model.
 */
export function permuteMatch(covariance: Float32Array | Float64Array, numModels: number): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const corr = correlation32(covariance, o);
  const groupOf = new Int32Array(o);
  for (let r = 0; r < c; r++) groupOf[r] = r;
  const block = new Float32Array(c * c);
  for (let k = 1; k < numModels; k++) {
    for (let r = 0; r < c; r++) block.set(corr.subarray(r * o + k * c, r * o + (k + 1) * c), r * c);
    const colForRow = linearSumAssignment(block, c, true);
    for (let r = 0; r < c; r++) groupOf[k * c + colForRow[r]] = r;
  }
  return fromAssignment(groupOf, c, numModels);
}

export const permuteMatcher: Matcher = {
  name: 'permute',
  description: 'permutation onto model 0 by linear sum assignment of correlations (Git Re-Basin style)',
  defaults: {},
  match: (covariance, numModels) => permuteMatch(covariance, numModels),
};
