/**
 * An example of third-party ZipIt plugins, built on the public entry points of @zipit/core
 * only: the `tiny-mlp` architecture (recognises Linear → ReLU chains, declares their merge
 * graph) and the `weight-matching` matcher (Git Re-Basin, a graph-level matcher reading
 * weights). Both pass @zipit/conformance from `conformance.test.ts`. See README.md.
 */
export { buildTinyMlp, tinyMlpArch, type TinyMlpOptions } from './mlp-arch.js';
export { MlpReader, readMlpLayout, type MlpLayer, type MlpLayout } from './mlp-layout.js';
export { weightMatchingMatcher } from './weight-matching.js';
