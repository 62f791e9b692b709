import { checkCovariance, fromAssignment, squareSize, type Matcher, type MatchResult } from './matcher.js';

/** Identity matching: feature r of every model merges with feature r of the others (plain weight averaging). */
export function averageMatch(covariance: Float32Array | Float64Array, numModels: number): MatchResult {
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  const groupOf = new Int32Array(o);
  for (let r = 0; r < o; r++) groupOf[r] = r % c;
  return fromAssignment(groupOf, c, numModels);
}

export const averageMatcher: Matcher = {
  name: 'average',
  description: 'identity matching: plain weight averaging',
  defaults: {},
  match: (covariance, numModels) => averageMatch(covariance, numModels),
};
