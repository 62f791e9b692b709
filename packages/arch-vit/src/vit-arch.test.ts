import { describe, expect, it } from 'vitest';
import { createArchitectureRegistry, detectArchitecture, type Graph } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { buildVit } from './build.js';
import { prepareVit } from './prepare.js';
import { registerVit, vitArch } from './vit-arch.js';

/** Replaces node `name`'s attributes/constant inputs (graphs from the builder are plain data). */
function mutate(g: Graph, edit: (g: Graph) => void): Graph {
  const copy: Graph = {
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], attributes: n.attributes.map((a) => ({ ...a })) })),
    initializers: new Map(g.initializers),
  };
  edit(copy);
  return copy;
}

describe('vitArch', () => {
  it('recognises builder ViTs of any depth, width and head count, fused or not', () => {
    expect(vitArch.recognise(buildVit({ seed: 1, depth: 3, heads: 4, dim: 32 }))).toEqual({
      match: true,
      variant: 'vit-d3-h4',
      summary: 'ViT: 3 blocks, width 32, 4 heads of 8 (separate Q/K/V), MLP 64, 17 tokens, class-token head',
    });
    expect(vitArch.recognise(buildVit({ seed: 1, qkv: 'fused', pool: 'mean', patchEmbed: 'linear', opset: 17 }))).toMatchObject({
      match: true,
      summary: 'ViT: 2 blocks, width 16, 2 heads of 8 (fused QKV), MLP 32, 16 tokens, mean-token head',
    });
  });

  it('declares Q·Kᵀ with Q producing and K consuming, V with the output projection consuming, heads as blocks', () => {
    const mg = vitArch.mergeGraph(buildVit({ seed: 1, heads: 4, qkv: 'fused' }));
    const [qk, v, mlp] = mg.points;
    expect(qk).toMatchObject({ name: 'blocks.0.attn:qk', channels: 16, blocks: { count: 4, size: 4, group: 'blocks.0.attn' } });
    expect(qk.producers.map((r) => [r.param, r.axis, r.offset ?? 0])).toEqual([
      ['blocks.0.attn.qkv.weight', 1, 0],
      ['blocks.0.attn.qkv.bias', 0, 0],
    ]);
    expect(qk.consumers.map((r) => [r.param, r.axis, r.offset ?? 0])).toEqual([
      ['blocks.0.attn.qkv.weight', 1, 16],
      ['blocks.0.attn.qkv.bias', 0, 16],
    ]);
    expect(qk.observe).toEqual({ value: '/blocks/blocks.0/attn/qkv/Add_output_0', axis: 2, offset: 0 });
    expect(v.producers.map((r) => [r.param, r.axis, r.offset ?? 0])).toEqual([
      ['blocks.0.attn.qkv.weight', 1, 32],
      ['blocks.0.attn.qkv.bias', 0, 32],
    ]);
    expect(v.consumers.map((r) => [r.param, r.axis])).toEqual([['blocks.0.attn.proj.weight', 0]]);
    expect(v.blocks).toEqual(qk.blocks);
    expect(mlp).toMatchObject({ name: 'blocks.0.mlp.fc2:in', channels: 32 });
    expect(mlp.blocks).toBeUndefined();
    const stream = mg.points[mg.points.length - 1];
    expect(stream.name).toBe('blocks:stream');
    expect(stream.ties.map((t) => t.node)).toEqual(['/blocks/blocks.0/Add', '/blocks/blocks.0/Add_1', '/blocks/blocks.1/Add', '/blocks/blocks.1/Add_1']);
    expect(stream.producers.map((r) => r.param)).toEqual(
      expect.arrayContaining(['patch_embed.proj.weight', 'cls_token', 'pos_embed', 'norm.weight', 'blocks.1.norm2.bias']),
    );
    expect(mg.points.filter((p) => p.stopPoint).map((p) => p.name)).toEqual(['blocks:stream']);
  });

  it('prepares a model with stream junctions (idempotently), which cut the stream into one stop point per block', () => {
    const g = buildVit({ seed: 1, depth: 3 });
    const p = prepareVit(g);
    expect(prepareVit(p)).toBe(p);
    expect(p.nodes.filter((n) => n.name.endsWith('/junction/MatMul')).map((n) => n.name)).toEqual([
      '/blocks/blocks.0/junction/MatMul',
      '/blocks/blocks.1/junction/MatMul',
      '/blocks/blocks.2/junction/MatMul',
    ]);
    const mg = vitArch.mergeGraph(p);
    expect(mg.points.filter((q) => q.stopPoint).map((q) => q.name)).toEqual(['embed:stream', 'blocks.0:stream', 'blocks.1:stream', 'blocks.2:stream']);
    expect(mg.points[0].consumers.map((r) => r.param)).toEqual(['blocks.0.junction.weight']);
    expect(mg.points[4].producers[0]).toMatchObject({ param: 'blocks.0.junction.weight', axis: 1 });
    expect(mg.points.filter((q) => q.shareTransform === 'stream').map((q) => q.name)).toEqual([
      'embed:stream',
      'blocks.0:stream',
      'blocks.1:stream',
      'blocks.2:stream',
    ]);
  });

  it('registers and is detected; other models are declined with the reason', () => {
    const registry = createArchitectureRegistry();
    registerVit(registry);
    registerVit(registry);
    expect(detectArchitecture(registry, buildVit({ seed: 1 })).variant).toBe('vit-d2-h2');
    expect(vitArch.recognise(buildSmallCnn({ seed: 1 }))).toEqual({
      match: false,
      reason: 'node /conv1/Conv (Conv) is not a patch embedding (it needs stride = kernel, no padding, group 1)',
    });
  });

  it('refuses attention whose heads are not contiguous channels of their projections', () => {
    // q.reshape(B, T, d, H).permute(0, 3, 1, 2): head h takes channels h, h + H, h + 2H, …
    const g = mutate(buildVit({ seed: 1, heads: 2, dim: 16 }), (m) => {
      const reshape = m.nodes.find((n) => n.name === '/blocks/blocks.0/attn/Reshape')!;
      const target = m.nodes.find((n) => n.outputs[0] === reshape.inputs[1])!;
      target.attributes = [{ name: 'value', value: { type: 'tensor', value: { dtype: 'int64', shape: [4], data: BigInt64Array.of(0n, 0n, 8n, 2n) } } }];
      const transpose = m.nodes.find((n) => n.inputs[0] === reshape.outputs[0])!;
      transpose.attributes = [{ name: 'perm', value: { type: 'ints', value: [0, 3, 1, 2] } }];
    });
    expect(vitArch.recognise(g)).toEqual({
      match: false,
      reason: "node /blocks/blocks.0/attn/MatMul (MatMul) does not contract whole heads: a head's channels must be contiguous in its projection",
    });
  });

  it('explains parameters the exporter merged into one (equal LayerNorm defaults read through Identity)', () => {
    const g = mutate(buildVit({ seed: 1 }), (m) => {
      m.initializers.delete('blocks.1.norm1.weight');
      m.nodes.unshift({
        name: 'Identity_0',
        opType: 'Identity',
        domain: '',
        inputs: ['blocks.0.norm1.weight'],
        outputs: ['blocks.1.norm1.weight'],
        attributes: [],
      });
    });
    const r = vitArch.recognise(g);
    expect(r.match).toBe(false);
    expect(!r.match && r.reason).toMatch(/"blocks.1.norm1.weight"\) is an alias of the parameter "blocks.0.norm1.weight"/);
  });
});
