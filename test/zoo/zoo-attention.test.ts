import { describe, expect, it } from 'vitest';
import { builtinArchitectures, loadForMerge } from '@zipit/cli';
import { surveyArchitectures } from '@zipit/core';
import { mergeModels, refitPlan } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { FIXTURES, images, merge, run, TOLERANCE, worstError, zooCase } from './harness.js';

describe('torchvision zoo: transformers and ConvNeXt', () => {
  // nn.MultiheadAttention and the class token: declared by the vit plugin (heads kept whole).
  zooCase({ file: 'vit.dyn.onnx', plugin: 'vit', size: 32 });
  // The default export bakes batch 1 into the attention reshapes ([65, 1·heads, 16]): kept as
  // exported, every pass (and the harness) feeds it one image at a time.
  zooCase({ file: 'vit.fixed.onnx', plugin: 'vit', size: 32 });
  // LayerNorm over channels-last, layer scale, GELU: derived.
  zooCase({ file: 'convnext.fixed.onnx', plugin: null, size: 32 });

  it('swin.dyn.onnx: derived through window partition, shift and patch merging; stops at the attention head split (partial)', async () => {
    const file = `${FIXTURES}swin.dyn.onnx`;
    const inputs = await loadForMerge([file, file]);
    const mg = inputs.mergeGraph;
    expect(inputs.architecture).toBeNull();
    // The stream and MLP spaces of both stages are found…
    expect(mg.points.map((p) => p.name)).toEqual(['features.1.0.mlp.3:in', 'features.1.0:stream', 'features.3.0.mlp.3:in', 'features.3.0:stream']);
    // …but each block's Q/K/V split into heads is a barrier, named, and no trunk closes before it.
    expect(mg.barriers.map((b) => [b.opType, b.node])).toEqual([
      ['Reshape', '/features/features.1/features.1.0/attn/Reshape_4'],
      ['Reshape', '/features/features.3/features.3.0/attn/Reshape_4'],
    ]);
    expect(mg.barriers[0].reason).toMatch(/mixing channels with other axes/);
    expect(mg.points.some((p) => p.stopPoint)).toBe(false);
    // So a merge zips nothing: the result is the ensemble, exactly.
    const x = images(32);
    const r = await merge(inputs, inputs.models, x, 'zipit');
    expect(r.stop).toBe(-1);
    expect(await worstError(r.graph, inputs.models, (await run(inputs.models[0].graph, x)).logits, x)).toBeLessThan(TOLERANCE);
  });

  // The least-squares refit (`--refit`) on the torchvision exports: the zipped layers, the
  // unmerge after a partial stop (the first junction of each model) and the heads are solved on
  // the data; merged with itself, the model must come back (the targets are what it computes).
  for (const file of ['vit.dyn.onnx', 'vit.fixed.onnx'])
    it(`${file}: a self-merge with the least-squares refit is the model, fully zipped and after the first block`, async () => {
      const inputs = await loadForMerge([`${FIXTURES}${file}`, `${FIXTURES}${file}`]);
      const g = inputs.models[0].graph;
      const plan = refitPlan(surveyArchitectures(builtinArchitectures(), g).found?.arch, g);
      const x = images(32);
      const want = (await run(g, x)).logits;
      for (const [stopAt, refitted] of [
        ['all', { layers: 8, unmerged: 0 }],
        ['encoder.layers.encoder_layer_0:stream', { layers: 4, unmerged: 2 }],
      ] as const) {
        const r = await mergeModels(inputs.models, {
          executor: ortExecutor,
          method: 'zipit',
          stopAt,
          data: () => [{ x }],
          mergeGraph: inputs.mergeGraph,
          threads: 1,
          refit: { ridge: 1e-3, heads: true, plan },
        });
        expect([r.refit?.layers.length, r.refit?.unmerged.length, r.refit?.refittedHeads.length]).toEqual([refitted.layers, refitted.unmerged, 2]);
        expect(await worstError(r.graph, inputs.models, want, x)).toBeLessThan(1e-3);
      }
    });
});
