import { describe, expect, it } from 'vitest';
import { describeArchitecture } from '@zipit/conformance';
import { buildVit } from './build.js';
import { prepareVit } from './prepare.js';
import { vitArch } from './vit-arch.js';

/**
 * The shared architecture suite (see @zipit/conformance) on the seeded builder ViTs of 2 and 4
 * blocks and 2 and 4 heads — separate and fused Q/K/V, class-token and mean-token heads,
 * LayerNorm written out (opset 13) and as one op (opset 17). ViTs have no BatchNorm, and their
 * attention spaces are declared, not derived (derivation stops at attention).
 */
describeArchitecture(vitArch, {
  references: [
    ...vitArch.references,
    {
      name: 'vit-d4-h2-mean-opset17',
      input: { name: 'input', shape: ['batch', 1, 16, 16] },
      build: ({ seed, classes }) => buildVit({ depth: 4, heads: 2, dim: 16, pool: 'mean', opset: 17, seed, classes }),
    },
  ],
  foldedBatchNorm: [false],
  derivable: false,
  calibrate: false,
});

describe('prepared ViT stop points', () => {
  it('a prepared ViT stops after the embedding and after every block; a plain one only at the end', () => {
    const g = buildVit({ depth: 2, heads: 2, dim: 16, seed: 1 });
    expect(
      vitArch
        .mergeGraph(prepareVit(g))
        .points.filter((p) => p.stopPoint)
        .map((p) => p.name),
    ).toEqual(['embed:stream', 'blocks.0:stream', 'blocks.1:stream']);
    expect(
      vitArch
        .mergeGraph(g)
        .points.filter((p) => p.stopPoint)
        .map((p) => p.name),
    ).toEqual(['blocks:stream']);
  });
});
