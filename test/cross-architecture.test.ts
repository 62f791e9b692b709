import { describe, expect, it } from 'vitest';
import { builtinArchitectures } from '@zipit/cli';
import { detectArchitecture } from '@zipit/core';

/**
 * Across the plugins the CLI registers (ViT included): every reference model of every plugin,
 * with BatchNorm kept and folded, is recognised by its own plugin and by no plugin registered
 * before it, so `detectArchitecture` picks the right one. Each plugin's own invariants run in
 * its package (`describeArchitecture` from @zipit/conformance).
 */
const registry = builtinArchitectures();
const cases = registry
  .list()
  .flatMap((arch) =>
    arch.references.flatMap((reference) =>
      [false, true].map((folded) => ({ arch, reference, folded, title: `${arch.name}/${reference.name}, BN ${folded ? 'folded' : 'kept'}` })),
    ),
  );

describe.each(cases)('cross-architecture: $title', ({ arch, reference, folded }) => {
  it('is detected as its own family', () => {
    const g = reference.build({ seed: 1, foldedBatchNorm: folded });
    const prepared = arch.prepare ? arch.prepare(g) : g;
    for (const form of [g, prepared]) expect(detectArchitecture(registry, form).arch.name).toBe(arch.name);
  });
});
