/**
 * `@zipit/conformance`: the shared conformance suites of ZipIt plugins, as vitest `describe`
 * blocks a plugin runs from its own tests (see README.md). Also exports the few helpers the
 * suites are written in, for plugin authors' own checks.
 */
export { describeArchitecture, type ArchitectureSuiteOptions } from './describe-architecture.js';
export { describeMatcher, type MatcherSuiteOptions } from './describe-matcher.js';
export { calibrate } from './calibrate.js';
export { matchAll } from './match.js';
export { exactAverages, maxAbsDiff, pairing } from './numerics.js';
export { suiteRuntime, type SuiteRuntime } from './runtime.js';
