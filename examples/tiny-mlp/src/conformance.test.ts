import { builtinMatchers, zipitMatcher, permuteMatcher } from '@zipit/core';
import { describeArchitecture, describeMatcher } from '@zipit/conformance';
import { tinyMlpArch, weightMatchingMatcher } from './index.js';

// The plugins run the shared suites exactly as the built-in ones do. No BatchNorm in this
// family, so one build per reference; the weight matcher joins the matchers and must recover
// a permuted copy exactly, like permute and zipit.
describeArchitecture(tinyMlpArch, {
  foldedBatchNorm: [false],
  matchers: [...builtinMatchers, weightMatchingMatcher],
  recovers: [{ matcher: permuteMatcher }, { matcher: zipitMatcher, params: { alpha: 0.01, beta: 0 } }, { matcher: weightMatchingMatcher }],
});

describeMatcher(weightMatchingMatcher);
