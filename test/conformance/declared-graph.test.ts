import { describe, expect, it } from 'vitest';
import { builtinArchitectures } from '@zipit/cli';
import { deriveMergeGraph, detectArchitecture, diffMergeGraphs, validateMergeGraph } from '@zipit/core';
import { CASES } from './harness.js';

/**
 * (a) Every plugin's declared merge graph equals the automatically derived one — same points in
 * the same order, names, channels, observed values, producer/consumer parameter axes, residual
 * ties, stop points and heads — and the plugin is the one the CLI's registry picks.
 */
describe.each(CASES)('conformance (a): $title', (c) => {
  const a = c.reference.build({ seed: 1, foldedBatchNorm: c.foldedBatchNorm });

  it('is recognised by its own plugin, first among the built-in ones', () => {
    expect(c.arch.recognise(a)).toMatchObject({ match: true });
    expect(detectArchitecture(builtinArchitectures(), a).arch.name).toBe(c.arch.name);
  });

  it.each(c.arch.prepare ? ['as built', 'prepared'] : ['as built'])('declares exactly the merge graph the automatic derivation finds (%s)', (form) => {
    const g = form === 'prepared' ? c.arch.prepare!(a) : a;
    const declared = c.arch.mergeGraph(g);
    validateMergeGraph(g, declared);
    expect(diffMergeGraphs(declared, deriveMergeGraph(g))).toEqual([]);
    expect(declared.barriers).toEqual([]);
    expect(declared.heads).toHaveLength(1);
    expect(declared.points.filter((p) => p.stopPoint).length).toBeGreaterThan(0);
  });
});
