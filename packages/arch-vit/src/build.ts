import { GraphBuilder, InvalidArgumentError, tensor, type Graph, type GraphBuilderOptions } from '@zipit/core';

/** A Vision Transformer of any size, as {@link buildVit} builds it. */
export interface VitSpec {
  /** Input height and width (default 16) and channels (default 1). */
  imageSize?: number;
  inChannels?: number;
  /** Patch size; the image size must be a multiple (default 4). */
  patch?: number;
  /** Width of the residual stream D (default 16). */
  dim?: number;
  /** Number of transformer blocks (default 2). */
  depth?: number;
  /** Attention heads; D must be a multiple (default 2). */
  heads?: number;
  /** MLP hidden width as a multiple of D (default 2). */
  mlpRatio?: number;
  /** Classes of the head (default 10). */
  classes?: number;
  /** One Linear per projection (default) or one fused QKV Linear (timm). */
  qkv?: 'separate' | 'fused';
  /** Classify from the class token (default) or the mean of the tokens (no class token then). */
  pool?: 'cls' | 'mean';
  /** Patch embedding: Conv with stride = kernel (default) or a Linear on flattened patches. */
  patchEmbed?: 'conv' | 'linear';
}

/**
 * A seeded random-init ViT as a Graph, in the shapes PyTorch's exporter writes for a plain
 * timm-style ViT (pre-norm blocks, explicit Linear layers, GELU MLP): input `input`
 * [batch, C, S, S], output `logits` [batch, classes]. LayerNorm is a `LayerNormalization`
 * node from opset 17 and the ReduceMean/Sub/Pow/Sqrt/Div chain below (pass `opset`).
 * Module names follow timm: `patch_embed.proj`, `cls_token`, `pos_embed`,
 * `blocks.<i>.{norm1,attn.{q,k,v|qkv,proj},norm2,mlp.{fc1,fc2}}`, `norm`, `head`.
 * Weights are initialised as PyTorch does (uniform, std 1/√(3·fan_in)); class token and position
 * embedding are N(0, 0.5²) so that they matter.
 */
export function buildVit(spec: VitSpec & GraphBuilderOptions = {}): Graph {
  const size = spec.imageSize ?? 16;
  const channels = spec.inChannels ?? 1;
  const p = spec.patch ?? 4;
  const d = spec.dim ?? 16;
  const depth = spec.depth ?? 2;
  const heads = spec.heads ?? 2;
  const hidden = Math.round((spec.mlpRatio ?? 2) * d);
  const classes = spec.classes ?? 10;
  const pool = spec.pool ?? 'cls';
  if (size % p !== 0) throw new InvalidArgumentError(`image size ${size} is not a multiple of the patch size ${p}`);
  if (d % heads !== 0) throw new InvalidArgumentError(`width ${d} is not a multiple of the head count ${heads}`);
  const hd = d / heads;
  const patches = (size / p) ** 2;
  const tokens = patches + (pool === 'cls' ? 1 : 0);

  const b = new GraphBuilder(spec);
  const int64 = (values: number[], name?: string) =>
    b.constant(
      tensor(
        'int64',
        [values.length],
        BigInt64Array.from(values, (v) => BigInt(v)),
      ),
      { name },
    );
  const x = b.input('input', ['batch', channels, size, size]);
  let t: string;
  if ((spec.patchEmbed ?? 'conv') === 'conv') {
    const conv = b.conv(x, d, { kernel: p, stride: p, name: 'patch_embed.proj' });
    t = b.transpose(b.reshape(conv, [0, d, -1], { name: 'patch_embed' }), [0, 2, 1], { name: 'patch_embed' });
  } else {
    const g = size / p;
    const split = b.reshape(x, [0, channels, g, p, g, p], { name: 'patch_embed' });
    const moved = b.transpose(split, [0, 2, 4, 1, 3, 5], { name: 'patch_embed' });
    t = b.linear(b.reshape(moved, [0, patches, channels * p * p], { name: 'patch_embed' }), d, { name: 'patch_embed.proj' });
  }
  if (pool === 'cls') {
    const cls = b.parameter('cls_token', b.rng.normalTensor([1, 1, d], 0.5));
    const [dims] = b.node('Shape', [t], { dtypes: ['int64'], shapes: [[3]] });
    const [batch] = b.node('Gather', [dims, b.constant(tensor('int64', [], BigInt64Array.of(0n)))], {
      attributes: { axis: { type: 'int', value: 0 } },
      dtypes: ['int64'],
      shapes: [[]],
    });
    const [batch1] =
      b.opset >= 13
        ? b.node('Unsqueeze', [batch, int64([0])], { dtypes: ['int64'], shapes: [[1]] })
        : b.node('Unsqueeze', [batch], { attributes: { axes: { type: 'ints', value: [0] } }, dtypes: ['int64'], shapes: [[1]] });
    const [target] = b.node('Concat', [batch1, int64([1, d])], { attributes: { axis: { type: 'int', value: 0 } }, dtypes: ['int64'], shapes: [[3]] });
    const [expanded] = b.node('Expand', [cls, target], { shapes: [['batch', 1, d]] });
    t = b.concat([expanded, t], 1);
  }
  t = b.add(t, b.parameter('pos_embed', b.rng.normalTensor([1, tokens, d], 0.5)));

  for (let i = 0; i < depth; i++) {
    const blk = `blocks.${i}`;
    const y = b.layerNorm(t, { name: `${blk}.norm1` });
    const attn = `${blk}.attn`;
    let q: string;
    let k: string;
    let v: string;
    if (spec.qkv === 'fused') {
      const qkv = b.linear(y, 3 * d, { name: `${attn}.qkv` });
      const split = b.transpose(b.reshape(qkv, [0, 0, 3, heads, hd], { name: attn }), [2, 0, 3, 1, 4], { name: attn });
      const pick = (j: number) =>
        b.node('Gather', [split, b.constant(tensor('int64', [], BigInt64Array.of(BigInt(j))), { name: attn })], {
          name: attn,
          attributes: { axis: { type: 'int', value: 0 } },
          shapes: [['batch', heads, tokens, hd]],
        })[0];
      q = pick(0);
      k = b.transpose(pick(1), [0, 1, 3, 2], { name: attn });
      v = pick(2);
    } else {
      const headsOf = (z: string, perm: number[]) => b.transpose(b.reshape(z, [0, 0, heads, hd], { name: attn }), perm, { name: attn });
      q = headsOf(b.linear(y, d, { name: `${attn}.q` }), [0, 2, 1, 3]);
      k = headsOf(b.linear(y, d, { name: `${attn}.k` }), [0, 2, 3, 1]);
      v = headsOf(b.linear(y, d, { name: `${attn}.v` }), [0, 2, 1, 3]);
    }
    const scale = b.constant(tensor('float32', [], Float32Array.of(1 / Math.sqrt(hd))), { name: attn });
    const weights = b.softmax(b.mul(b.matmul(q, k, { name: attn }), scale, { name: attn }), { name: attn, axis: -1 });
    const mixed = b.reshape(b.transpose(b.matmul(weights, v, { name: attn }), [0, 2, 1, 3], { name: attn }), [0, 0, d], { name: attn });
    t = b.add(t, b.linear(mixed, d, { name: `${attn}.proj` }), { name: blk });
    const y2 = b.layerNorm(t, { name: `${blk}.norm2` });
    const h = b.gelu(b.linear(y2, hidden, { name: `${blk}.mlp.fc1` }), { name: `${blk}.mlp.act` });
    t = b.add(t, b.linear(h, d, { name: `${blk}.mlp.fc2` }), { name: blk });
  }
  t = b.layerNorm(t, { name: 'norm' });
  const pooled =
    pool === 'cls'
      ? b.node('Gather', [t, b.constant(tensor('int64', [], BigInt64Array.of(0n)))], {
          attributes: { axis: { type: 'int', value: 1 } },
          shapes: [['batch', d]],
        })[0]
      : b.reduceMean(t, [1], { keepdims: false });
  b.output(b.gemm(pooled, classes, { name: 'head' }), 'logits');
  const graph = b.build();
  // PyTorch's default init of Linear/Conv weights (kaiming_uniform, a = √5: std 1/√(3·fan_in))
  // instead of the builder's He-normal (std √(2/fan_in)), which makes attention needlessly sharp.
  const factor = 1 / Math.sqrt(6);
  for (const [name, t] of graph.initializers) {
    if (!name.endsWith('.weight') || t.shape.length < 2) continue;
    graph.initializers.set(
      name,
      tensor(
        'float32',
        t.shape,
        (t.data as Float32Array).map((v) => v * factor),
      ),
    );
  }
  return graph;
}
