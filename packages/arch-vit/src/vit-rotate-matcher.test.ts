import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { defaultMatcherRegistry, SeededRandom, UnsupportedError, type Graph } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { computeStatistics, mergeModels } from '@zipit/pipeline';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { foldNormAffine } from './fold-norms.js';
import { prepareVit } from './prepare.js';
import { vitArch } from './vit-arch.js';
import { vitRotateMatcher } from './vit-rotate-matcher.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

async function logits(graph: Graph, x: ReturnType<SeededRandom['normalTensor']>, output: string): Promise<Float32Array> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    return (await s.run({ [graph.inputs[0].name]: x }))[output].data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('vit-rotate matcher', () => {
  it('merges a ViT with itself into itself at every stop point, through mergeModels', async () => {
    const a = foldNormAffine(prepareVit(await readOnnxFile(fixture('vit_d4_h4_fused_opset17.onnx'))));
    const mg = vitArch.mergeGraph(a);
    const x = new SeededRandom(1).normalTensor([8, ...(a.inputs[0].shape as number[]).slice(1)]);
    const models = ['A', 'B'].map((name) => ({ name, graph: a, file: `${name}.onnx` }));
    const batches = [{ x: new SeededRandom(2).normalTensor([16, ...(a.inputs[0].shape as number[]).slice(1)]) }];
    const stats = await computeStatistics(models, mg, batches, { executor, threads: 1 });
    const want = await logits(a, x, 'logits');
    const matchers = defaultMatcherRegistry();
    matchers.register(vitRotateMatcher);
    // heads = 1: heads rotated; 2: heads zipped as units (each head finds its copy, not a sibling).
    for (const heads of [1, 2]) {
      for (const stop of mg.points.filter((p) => p.stopPoint).map((p) => p.index)) {
        const r = await mergeModels(models, {
          method: 'vit-rotate',
          matchers,
          mergeGraph: mg,
          stats,
          stopAt: stop,
          data: () => batches,
          executor,
          threads: 1,
          params: { heads },
        });
        const got = await logits(r.graph, x, 'A:logits');
        let err = 0;
        for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
        expect(err, `heads = ${heads}, ${mg.points[stop].name}`).toBeLessThan(1e-3);
      }
    }
  });

  it('refuses a model that is not a ViT', () => {
    const g = buildSmallCnn({ seed: 1, imageSize: 16, classes: [3] });
    expect(() =>
      vitRotateMatcher.matchGraph({
        mergeGraph: { points: [], heads: [], barriers: [] },
        numModels: 2,
        graphs: [g, g],
        covariance: () => new Float64Array(0),
        params: vitRotateMatcher.defaults,
        upTo: -1,
        alignBlocks: true,
      }),
    ).toThrow(UnsupportedError);
  });
});
