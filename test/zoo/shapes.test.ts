import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inferShapes, inlineParameters } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';

/**
 * Issue 9 item 5: shape inference covers what PyTorch exports. Every value of every zoo export
 * (torchvision models, fixed and dynamic batch) gets a shape of known rank — REPAIR's channel
 * moments and the propagation rules need at least the rank, and nn.MultiheadAttention's
 * computed reshape targets, `expand(n, -1, -1)` of the class token and the Q/K/V slices of the
 * fused projection used to lose it.
 */
const FIXTURES = new URL('./fixtures/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as { file: string }[];

describe('shape inference on the torchvision zoo', () => {
  it.each(manifest.map((m) => m.file))('%s: every value has a shape of known rank', async (file) => {
    const g = inlineParameters(await readOnnxFile(new URL(file, FIXTURES).pathname));
    const { shapes } = inferShapes(g);
    const unknown = g.nodes.flatMap((n) => n.outputs.filter((o) => o && !shapes.get(o)).map((o) => `${n.opType} ${o}`));
    expect(unknown).toEqual([]);
  });

  it('follows torchvision ViT attention: class token, fused Q/K/V slices, out projection', async () => {
    for (const [file, batch] of [
      ['vit.fixed.onnx', 1],
      ['vit.dyn.onnx', 'batch'],
    ] as const) {
      const g = inlineParameters(await readOnnxFile(new URL(file, FIXTURES).pathname));
      const { shapes } = inferShapes(g);
      const out = (name: string) => shapes.get(g.nodes.find((n) => n.name === name)!.outputs[0]);
      expect(out('/Expand')).toEqual([batch, 1, 32]);
      const withToken = g.nodes.find((n) => n.opType === 'Concat' && n.inputs.includes('/Expand_output_0'))!;
      expect(shapes.get(withToken.outputs[0])).toEqual([batch, 17, 32]);
      expect(out('/encoder/layers/encoder_layer_0/self_attention/Slice_1')?.length).toBe(3);
      const gemm = out('/encoder/layers/encoder_layer_0/self_attention/Gemm');
      expect(gemm?.length).toBe(2);
      expect(gemm?.[1]).toBe(32);
    }
  });
});
