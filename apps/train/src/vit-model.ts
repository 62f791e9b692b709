import * as tf from '@tensorflow/tfjs';
import { buildVit } from '@zipit/arch-vit';
import { InvalidArgumentError, SeededRandom, ShapeError, tensor, type Graph, type Tensor } from '@zipit/core';

/**
 * The fixture ViT in tfjs, computing exactly what `buildVit` (arch-vit) exports: Conv patch
 * embedding (here a MatMul on flattened patches with the Conv's weight), class token, position
 * embedding, pre-norm blocks with separate q/k/v Linear layers and exact-erf GELU MLP, final
 * LayerNorm, Linear head on the class token. Parameters are kept in their ONNX layouts and
 * names (`patch_embed.proj.weight` [D, C, p, p], Linear weights [in, out], head [classes, D]),
 * so export is a lookup.
 */
export interface VitConfig {
  imageSize: number;
  channels: number;
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlpRatio: number;
  classes: number;
}

const LN_EPSILON = 1e-5;

export class VitParameters {
  readonly variables = new Map<string, tf.Variable>();

  /** timm's initialisation: truncated N(0, 0.02²) weights and embeddings, zero biases, LayerNorm 1/0. */
  constructor(
    readonly config: VitConfig,
    seed: number,
  ) {
    const rng = new SeededRandom(seed);
    const { dim: d, channels: c, patch: p, depth, classes } = config;
    const hidden = d * config.mlpRatio;
    const tokens = (config.imageSize / p) ** 2 + 1;
    const trunc = (shape: number[]) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) {
        let v = rng.normal();
        while (Math.abs(v) > 2) v = rng.normal();
        data[i] = 0.02 * v;
      }
      return data;
    };
    const add = (name: string, shape: number[], data: Float32Array) => this.variables.set(name, tf.variable(tf.tensor(data, shape), true, name));
    const zeros = (shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1));
    const ones = (n: number) => new Float32Array(n).fill(1);
    add('patch_embed.proj.weight', [d, c, p, p], trunc([d, c, p, p]));
    add('patch_embed.proj.bias', [d], zeros([d]));
    add('cls_token', [1, 1, d], trunc([1, 1, d]));
    add('pos_embed', [1, tokens, d], trunc([1, tokens, d]));
    const linear = (name: string, inF: number, outF: number) => {
      add(`${name}.weight`, [inF, outF], trunc([inF, outF]));
      add(`${name}.bias`, [outF], zeros([outF]));
    };
    const norm = (name: string) => {
      add(`${name}.weight`, [d], ones(d));
      add(`${name}.bias`, [d], zeros([d]));
    };
    for (let i = 0; i < depth; i++) {
      const b = `blocks.${i}`;
      norm(`${b}.norm1`);
      for (const k of ['q', 'k', 'v', 'proj']) linear(`${b}.attn.${k}`, d, d);
      norm(`${b}.norm2`);
      linear(`${b}.mlp.fc1`, d, hidden);
      linear(`${b}.mlp.fc2`, hidden, d);
    }
    norm('norm');
    add('head.weight', [classes, d], trunc([classes, d]));
    add('head.bias', [classes], zeros([classes]));
  }

  get(name: string): tf.Variable {
    const v = this.variables.get(name);
    if (!v) throw new InvalidArgumentError(`no parameter ${name}`);
    return v;
  }

  /** Weights that get weight decay: matrices and the patch kernel, not biases, norms or embeddings. */
  decayed(name: string): boolean {
    return name.endsWith('.weight') && this.get(name).shape.length >= 2;
  }

  count(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }
}

/** Logits [B, classes] of images x [B, C, S, S]. */
export function vitForward(params: VitParameters, x: tf.Tensor4D): tf.Tensor2D {
  const { imageSize: s, channels: c, patch: p, dim: d, depth, heads } = params.config;
  const b = x.shape[0];
  const g = s / p;
  const t = g * g;
  const hd = d / heads;
  const linear = (v: tf.Tensor, name: string): tf.Tensor => {
    const w = params.get(`${name}.weight`);
    const flat = tf.reshape(v, [-1, v.shape[v.shape.length - 1]]);
    const y = tf.add(tf.matMul(flat as tf.Tensor2D, w as tf.Tensor2D), params.get(`${name}.bias`));
    return tf.reshape(y, [...v.shape.slice(0, -1), w.shape[1] as number]);
  };
  const layerNorm = (v: tf.Tensor, name: string): tf.Tensor => {
    const { mean, variance } = tf.moments(v, -1, true);
    const normed = tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, LN_EPSILON)));
    return tf.add(tf.mul(normed, params.get(`${name}.weight`)), params.get(`${name}.bias`));
  };
  const gelu = (v: tf.Tensor) => tf.mul(tf.mul(v, tf.add(tf.erf(tf.div(v, Math.SQRT2)), 1)), 0.5);

  const patches = tf.reshape(tf.transpose(tf.reshape(x, [b, c, g, p, g, p]), [0, 2, 4, 1, 3, 5]), [b * t, c * p * p]);
  const kernel = tf.transpose(tf.reshape(params.get('patch_embed.proj.weight'), [d, c * p * p]));
  let z: tf.Tensor = tf.reshape(tf.add(tf.matMul(patches, kernel as tf.Tensor2D), params.get('patch_embed.proj.bias')), [b, t, d]);
  z = tf.add(tf.concat([tf.tile(params.get('cls_token'), [b, 1, 1]), z], 1), params.get('pos_embed'));
  const tokens = t + 1;
  const split = (v: tf.Tensor) => tf.transpose(tf.reshape(v, [b, tokens, heads, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
  for (let i = 0; i < depth; i++) {
    const blk = `blocks.${i}`;
    const y = layerNorm(z, `${blk}.norm1`);
    const q = split(linear(y, `${blk}.attn.q`));
    const k = split(linear(y, `${blk}.attn.k`));
    const v = split(linear(y, `${blk}.attn.v`));
    const weights = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hd)));
    const mixed = tf.reshape(tf.transpose(tf.matMul(weights, v), [0, 2, 1, 3]), [b, tokens, d]);
    z = tf.add(z, linear(mixed, `${blk}.attn.proj`));
    z = tf.add(z, linear(gelu(linear(layerNorm(z, `${blk}.norm2`), `${blk}.mlp.fc1`)), `${blk}.mlp.fc2`));
  }
  const cls = tf.reshape(tf.slice(layerNorm(z, 'norm'), [0, 0, 0], [b, 1, d]), [b, d]);
  return tf.add(tf.matMul(cls as tf.Tensor2D, params.get('head.weight') as tf.Tensor2D, false, true), params.get('head.bias')) as tf.Tensor2D;
}

/**
 * The trained model as a graph: `buildVit` of the same configuration (opset 13: LayerNorm
 * written out as PyTorch exports it) with every parameter replaced by the trained one. A
 * parameter missing, left over or of another shape is an error, so the export is exactly the
 * trained model.
 */
export function exportVit(params: VitParameters, metadata: Record<string, string> = {}): Graph {
  const c = params.config;
  const graph = buildVit({
    imageSize: c.imageSize,
    inChannels: c.channels,
    patch: c.patch,
    dim: c.dim,
    depth: c.depth,
    heads: c.heads,
    mlpRatio: c.mlpRatio,
    classes: c.classes,
    pool: 'cls',
    qkv: 'separate',
    opset: 13,
    seed: 0,
  });
  const unused = new Set(params.variables.keys());
  for (const [name, placeholder] of graph.initializers) {
    if (placeholder.dtype !== 'float32') continue;
    const v = params.variables.get(name);
    if (!v) throw new InvalidArgumentError(`no trained value for parameter ${name}`);
    if (v.shape.join() !== placeholder.shape.join()) {
      throw new ShapeError(`parameter ${name} is [${v.shape.join(', ')}], the graph needs [${placeholder.shape.join(', ')}]`);
    }
    graph.initializers.set(name, tensor('float32', placeholder.shape, v.dataSync() as Float32Array) as Tensor);
    unused.delete(name);
  }
  if (unused.size > 0) throw new InvalidArgumentError(`trained parameters not in the graph: ${[...unused].join(', ')}`);
  graph.producerName = 'zipit-train';
  graph.metadata = Object.entries(metadata);
  return graph;
}
