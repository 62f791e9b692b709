import { beforeAll, describe, expect, it } from 'vitest';
import type { Graph, MergeGraph } from '@zipit/core';
import { CASES, data, images, match, MATCHERS, maxAbsDiff, model, run, statistics, TOLERANCE, zipAndRun } from './harness.js';

/**
 * (b) zip(A, A) = A for every matcher, and (f) the same with three models: merging a model with
 * copies of itself, fully zipped, computes the model (max |Δlogit| ≤ 1e-4), with statistics
 * collected in onnxruntime on random images and the plugin's declared merge graph.
 *
 * Matcher parameters: two models use each matcher's defaults. Three models use zipit with
 * α = 1, β = 0: after two copies of a feature merge, zipit scales the merged feature's
 * similarity by α, so with α < 1 the third copy competes with within-model pairs whose
 * correlation exceeds α (β > 0 allows some) — a legitimate ZipIt! merge, not the identity.
 */
describe.each(CASES)('conformance (b, f): $title', (c) => {
  const feeds = images(c);
  let a: Graph;
  let mg: MergeGraph;
  let ra: Float32Array;
  beforeAll(async () => {
    a = await model(c, 1);
    mg = c.arch.mergeGraph(a);
    ra = data(await run(a, feeds), 'logits');
  });

  it.each(MATCHERS.map((m) => m.name))('(b) zip(A, A) with %s equals A', async (matcher) => {
    const stats = await statistics([a, a], mg, feeds);
    const out = await zipAndRun([a, a], mg, match(stats, mg, 2, matcher), 'all', feeds);
    for (const k of [0, 1]) expect(maxAbsDiff(data(out, `model${k}:logits`), ra)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('(f) zip(A, A, A) with every matcher equals A', async () => {
    const stats = await statistics([a, a, a], mg, feeds);
    for (const m of MATCHERS) {
      const params = m.name === 'zipit' ? { alpha: 1, beta: 0 } : undefined;
      const out = await zipAndRun([a, a, a], mg, match(stats, mg, 3, m.name, params), 'all', feeds);
      for (const k of [0, 1, 2]) expect(maxAbsDiff(data(out, `model${k}:logits`), ra), `${m.name} model${k}`).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

