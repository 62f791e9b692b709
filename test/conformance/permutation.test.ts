import { beforeAll, describe, expect, it } from 'vitest';
import { permuteModel, SeededRandom, type Graph, type MergeGraph } from '@zipit/core';
import { CASES, data, images, match, maxAbsDiff, model, pairing, permutation, run, statistics, TOLERANCE, zipAndRun } from './harness.js';

/**
 * (c) zip(A, P(A)) = A, where P permutes the hidden units of every merge point at random (one
 * permutation per residual stream, shared by every layer on it): `permute` and `zipit`
 * (α = 0.01, β = 0) find exactly P from statistics of random images, and the fully zipped
 * model computes A.
 */
describe.each(CASES)('conformance (c): $title', (c) => {
  const feeds = images(c);
  let a: Graph;
  let mg: MergeGraph;
  let perms: Int32Array[];
  let pa: Graph;
  let ra: Float32Array;
  beforeAll(async () => {
    a = await model(c, 1);
    mg = c.arch.mergeGraph(a);
    const rng = new SeededRandom(99);
    perms = mg.points.map((p) => permutation(p.channels, rng));
    pa = permuteModel(a, mg, perms);
    ra = data(await run(a, feeds), 'logits');
  });

  // A wrong permutation (a tie not respected) changes the logits by O(1); P(A) sums every
  // layer's inputs in another order, which over ResNet-50's 53 convolutions moves them by ~3e-4.
  it('P(A) computes A (the permutation respects every tie)', async () => {
    expect(maxAbsDiff(data(await run(pa, feeds), 'logits'), ra)).toBeLessThanOrEqual(1e-3);
    expect(perms.some((p) => p.some((v, i) => v !== i))).toBe(true);
  });

  it.each([
    ['permute', undefined],
    ['zipit', { alpha: 0.01, beta: 0 }],
  ] as const)('%s recovers P at every point, and zip(A, P(A)) equals A', async (matcher, params) => {
    const stats = await statistics([a, pa], mg, feeds);
    const transforms = match(stats, mg, 2, matcher, params);
    mg.points.forEach((p, i) => {
      const mine = pairing(transforms[i].unmerge, 2, p.channels, 0)!;
      const theirs = pairing(transforms[i].unmerge, 2, p.channels, 1)!;
      expect(mine, p.name).not.toBeNull();
      expect(theirs, p.name).not.toBeNull();
      for (let f = 0; f < p.channels; f++) expect(perms[i][theirs[f]], `${p.name} feature ${f}`).toBe(mine[f]);
    });
    const out = await zipAndRun([a, pa], mg, transforms, 'all', feeds);
    for (const k of [0, 1]) expect(maxAbsDiff(data(out, `model${k}:logits`), ra)).toBeLessThanOrEqual(TOLERANCE);
  });
});
