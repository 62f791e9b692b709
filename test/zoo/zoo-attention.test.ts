import { describe, expect, it } from 'vitest';
import { loadForMerge } from '@zipit/cli';
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
});
