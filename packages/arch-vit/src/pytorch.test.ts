import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { SeededRandom, tensor, type Graph, type ReferenceModel } from '@zipit/core';
import { describeArchitecture } from '@zipit/conformance';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { vitArch } from './vit-arch.js';

/**
 * ViTs exported by PyTorch's `torch.onnx.export` (fixtures/make_fixtures.py): explicit q/k/v
 * Linear layers, a fused qkv Linear (timm), `nn.MultiheadAttention` (heads folded into the
 * batch axis, Gemm output projection), LayerNorm written out (opset 13) or as one op (opset 17),
 * class-token and mean-token heads. Each is recognised, declares the expected points, and
 * passes the conformance invariants; B and C are A with seeded noise on every parameter.
 */
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

const FIXTURES: [string, string, string, string[]][] = [
  [
    'vit_d2_h2_separate_opset13.onnx',
    'vit-d2-h2',
    'ViT: 2 blocks, width 16, 2 heads of 8 (separate Q/K/V), MLP 32, 17 tokens, class-token head',
    ['blocks.0.attn:qk', 'blocks.0.attn.proj:in', 'blocks.0.mlp.2:in', 'blocks.1.attn:qk', 'blocks.1.attn.proj:in', 'blocks.1.mlp.2:in', 'blocks:stream'],
  ],
  [
    'vit_d2_h4_mha_opset13.onnx',
    'vit-d2-h4',
    'ViT: 2 blocks, width 16, 4 heads of 4 (fused QKV), MLP 32, 17 tokens, class-token head',
    [
      'blocks.0.attn:qk',
      'blocks.0.attn.out_proj:in',
      'blocks.0.mlp.2:in',
      'blocks.1.attn:qk',
      'blocks.1.attn.out_proj:in',
      'blocks.1.mlp.2:in',
      'blocks:stream',
    ],
  ],
  [
    'vit_d4_h4_fused_opset17.onnx',
    'vit-d4-h4',
    'ViT: 4 blocks, width 16, 4 heads of 4 (fused QKV), MLP 32, 17 tokens, class-token head',
    [0, 1, 2, 3].flatMap((i) => [`blocks.${i}.attn:qk`, `blocks.${i}.attn.proj:in`, `blocks.${i}.mlp.2:in`]).concat('blocks:stream'),
  ],
  [
    'vit_d4_h2_separate_mean_opset17.onnx',
    'vit-d4-h2',
    'ViT: 4 blocks, width 16, 2 heads of 8 (separate Q/K/V), MLP 32, 16 tokens, mean-token head',
    [0, 1, 2, 3].flatMap((i) => [`blocks.${i}.attn:qk`, `blocks.${i}.attn.proj:in`, `blocks.${i}.mlp.2:in`]).concat('blocks:stream'),
  ],
];

/** `g` with N(0, 0.05²) noise added to every float parameter: the same structure, another model. */
function noisy(g: Graph, seed: number): Graph {
  const rng = new SeededRandom(seed);
  const inits = new Map(g.initializers);
  for (const [name, t] of g.initializers) {
    if (t.dtype !== 'float32' || t.data.length < 2) continue;
    inits.set(
      name,
      tensor(
        'float32',
        t.shape,
        (t.data as Float32Array).map((v) => v + 0.05 * rng.normal()),
      ),
    );
  }
  return { ...g, initializers: inits };
}

describe.each(FIXTURES)('PyTorch export %s', (file, variant, summary, points) => {
  it('is recognised and declares one QK, one V and one MLP point per block, and the stream', async () => {
    const g = await readOnnxFile(fixture(file));
    expect(vitArch.recognise(g)).toEqual({ match: true, variant, summary });
    const mg = vitArch.mergeGraph(g);
    expect(mg.points.map((p) => p.name)).toEqual(points);
    expect(mg.heads).toEqual([{ name: 'head', node: '/head/Gemm', outputs: ['logits'], classes: 10, input: points.length - 1 }]);
    const qk = mg.points[0];
    expect(qk.blocks).toEqual({ count: Number(variant.slice(-1)), size: 16 / Number(variant.slice(-1)), group: 'blocks.0.attn' });
    expect(mg.points[1].blocks).toEqual(qk.blocks);
  });
});

/** Each export as a reference model: seed 1 is the export, other seeds the export with seeded noise. */
const exported: ReferenceModel[] = await Promise.all(
  FIXTURES.map(async ([file]) => {
    const g = await readOnnxFile(fixture(file));
    const input = g.inputs.find((i) => !g.initializers.has(i.name))!;
    return {
      name: file,
      input: { name: input.name, shape: (input.shape ?? []).map((d) => d ?? 'batch') },
      build: ({ seed }) => (seed === 1 ? g : noisy(g, seed)),
    };
  }),
);

describeArchitecture(vitArch, { references: exported, foldedBatchNorm: [false], derivable: false, calibrate: false });
