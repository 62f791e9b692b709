import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { nearTwins, permuteMatch, pointSignatures, zipitMatch, type MatchResult } from '@zipit/core';
import { openDataset } from '@zipit/data';
import { computeStatistics } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { loadForMerge } from './load.js';
import { REPO_ROOT } from './testing/run-cli.js';

/**
 * The twin rules of the built-in zipit and permute (core/src/match/zipit-ties.ts, near-twins.ts,
 * feature-signatures.ts) exist so that a self-merge or a copy with permuted hidden units is
 * recovered exactly; they must leave a real merge alone. On the fixture pairs — each trained from
 * a different seed on disjoint classes — and 64 merge images, no rule fires: no near twins, no
 * features identical across models (centred distance δ ≤ 2⁻²¹), no dead features with equal
 * weight signatures (these pairs have no dead features on their data at all), so with the means
 * and signatures the matchings equal the reference's, which the golden vectors pin.
 */
const PAIRS: [string, string, string][] = [
  ['resnet20_mnist_0-4.onnx', 'resnet20_mnist_5-9.onnx', 'mnist'],
  ['vgg11_fashion_0-4.onnx', 'vgg11_fashion_5-9.onnx', 'fashion'],
];

function groups(r: MatchResult): number[] {
  const c = r.channels;
  return Array.from({ length: r.numModels * c }, (_, i) => r.unmerge.subarray(i * c, (i + 1) * c).indexOf(1));
}

describe('twin rules on independently trained pairs', () => {
  for (const [a, b, data] of PAIRS) {
    it(`${a} + ${b} on ${data}: no twins found, matchings unchanged by signatures`, async () => {
      const inputs = await loadForMerge([a, b].map((f) => join(REPO_ROOT, 'fixtures', 'models', f)));
      const mg = inputs.mergeGraph;
      const input = inputs.models[0].graph.inputs.find((i) => !inputs.models[0].graph.initializers.has(i.name))!;
      const ds = await openDataset(data, { defaultSplit: 'train', input });
      const stats = await computeStatistics(inputs.models, mg, ds.batches({ batchSize: 32, limit: 64 }), { executor: ortExecutor, threads: 1 });
      for (const p of mg.points) {
        if (p.shareTransform !== undefined || (p.blocks && p.blocks.count > 1)) continue;
        const c = p.channels;
        const n = 2 * c;
        const cov = stats.covariance(p.index);
        const means = stats.mean(p.index);
        const origin = Int32Array.from({ length: n }, (_, i) => (i < c ? 0 : 1));
        expect(
          nearTwins(cov, means, origin, 2).twin.every((t) => t < 0),
          p.name,
        ).toBe(true);
        for (let i = 0; i < c; i++) {
          for (let j = c; j < n; j++) {
            const s = cov[i * n + i] + cov[j * n + j];
            if (s > 0) expect((s - 2 * cov[i * n + j]) / s, `${p.name} ${i}/${j - c}`).toBeGreaterThan(2 ** -21);
          }
        }
        const signatures = pointSignatures(
          inputs.models.map((m) => m.graph),
          p,
        );
        const w = signatures.width;
        const dead = (i: number) => !(cov[i * n + i] > 0);
        const key = (i: number) => Array.from(signatures.values.subarray(i * w, (i + 1) * w), Math.fround).join(',');
        const keysA = new Set(
          Array.from({ length: c }, (_, i) => i)
            .filter(dead)
            .map(key),
        );
        for (let j = c; j < n; j++) if (dead(j)) expect(keysA.has(key(j)), `${p.name} dead ${j - c}`).toBe(false);
        // Without a context the matchers are the reference's (golden parity).
        expect(groups(permuteMatch(cov, 2, { means, signatures }))).toEqual(groups(permuteMatch(cov, 2)));
        expect(groups(zipitMatch(cov, 2, 0.5, 1, { means, signatures }))).toEqual(groups(zipitMatch(cov, 2, 0.5, 1)));
      }
    }, 60_000);
  }
});
