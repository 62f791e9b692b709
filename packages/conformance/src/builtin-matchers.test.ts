import { builtinMatchers } from '@zipit/core';
import { describeMatcher } from './describe-matcher.js';

/**
 * Core's built-in matchers pass the matcher suite. Dense methods (rotations: `orthogonal`) do
 * not assign features to groups, so they face the functional checks only; `average` pairs
 * features by index, so it is not asked to recover a permutation.
 */
const DENSE = new Set(['orthogonal']);

for (const m of builtinMatchers) describeMatcher(m, { assignment: !DENSE.has(m.name), recoversPermutations: m.name !== 'average' });
