import { averageMatcher } from './average-matcher.js';
import { createMatcherRegistry, type Matcher, type MatcherRegistry } from './matcher.js';
import { orthogonalMatcher } from './orthogonal-matcher.js';
import { permuteMatcher } from './permute-matcher.js';
import { zipitMatcher } from './zipit-matcher.js';

/** The matchers that ship with core, in the order help texts list them. */
export const builtinMatchers: readonly Matcher[] = [zipitMatcher, permuteMatcher, averageMatcher, orthogonalMatcher];

/** A fresh registry holding the built-in matchers; add your own with `register`. */
export function defaultMatcherRegistry(): MatcherRegistry {
  return createMatcherRegistry(builtinMatchers);
}
