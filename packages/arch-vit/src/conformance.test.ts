import { describe } from 'vitest';
import { buildVit } from './build.js';
import { defineConformance } from './harness.js';

/**
 * The conformance invariants (see `defineConformance`) for seeded builder ViTs of 2 and 4
 * blocks and 2 and 4 heads: separate and fused Q/K/V, class-token and mean-token heads,
 * LayerNorm written out (opset 13) and as one op (opset 17).
 */
const SPECS: [string, NonNullable<Parameters<typeof buildVit>[0]>][] = [
  ['2 blocks, 2 heads', { depth: 2, heads: 2 }],
  ['2 blocks, 4 heads, fused QKV', { depth: 2, heads: 4, qkv: 'fused' }],
  ['4 blocks, 2 heads, mean token, opset 17', { depth: 4, heads: 2, pool: 'mean', opset: 17 }],
  ['4 blocks, 4 heads', { depth: 4, heads: 4 }],
];

describe.each(SPECS)('ViT conformance: %s', (_title, spec) => {
  defineConformance(
    async () => buildVit({ ...spec, seed: 1 }),
    async () => buildVit({ ...spec, seed: 2 }),
    async () => buildVit({ ...spec, seed: 3 }),
  );
});
