import type { Graph } from '../graph/graph.js';
import { GraphBuilder, scopePath, type ConvOptions, type GraphBuilderOptions } from '../graph/builder.js';

/**
 * Small seeded models for tests (exported from `@zipit/core/testing`, not from the package's
 * main entry): a ResNet-like CNN and a token MLP that cover the operators the merge-graph
 * derivation, the zip operator and the passes are tested on.
 */
export interface SmallCnnOptions extends GraphBuilderOptions {
  /** Input channels (default 3). */
  inChannels?: number;
  /** Input height and width (default 32). */
  imageSize?: number;
  /** Channels of the first stage; the second stage has twice as many (default 8). */
  width?: number;
  /** Classes of the head; an array makes one `Gemm` head and one output per entry (default 10). */
  classes?: number | number[];
  /** Flatten before the head with `Flatten` (default) or the `x.view(x.size(0), -1)` chain. */
  flatten?: 'flatten' | 'view';
  /** Pool spatially with `GlobalAveragePool` (default) or `ReduceMean` over H, W. */
  pool?: 'global' | 'reduceMean';
  /** Convolutions with BatchNorm folded in (Conv + bias, no BatchNormalization), as exported in eval mode with constant folding. */
  foldedBatchNorm?: boolean;
}

/**
 * A ResNet-like CNN covering the operators PyTorch exports for such models: a stem
 * (`conv1`/`bn1`/ReLU/MaxPool), one residual block (`layer1.0`, Add), an explicit `Pad`
 * before a strided convolution (`layer2.0`), `Identity`, pooling, flatten and `Gemm` head(s)
 * (`fc`, or `heads.0`, `heads.1`, … for several). Input `input` [batch, C, S, S]; outputs
 * `logits` (or `logits_0`, `logits_1`, …).
 */
export function buildSmallCnn(opts: SmallCnnOptions = {}): Graph {
  const b = new GraphBuilder(opts);
  const w = opts.width ?? 8;
  const size = opts.imageSize ?? 32;
  const folded = opts.foldedBatchNorm ?? false;
  const convBn = (x: string, out: number, name: string, bn: string, conv: ConvOptions): string =>
    folded ? b.conv(x, out, { ...conv, name, bias: true }) : b.batchNorm(b.conv(x, out, { ...conv, name, bias: false }), { name: bn });
  let x = b.input('input', ['batch', opts.inChannels ?? 3, size, size]);
  x = b.relu(convBn(x, w, 'conv1', 'bn1', { kernel: 3, pad: 1 }), { name: 'relu' });
  x = b.maxPool(x, { kernel: 2, name: 'maxpool' });
  const shortcut = x;
  let y = b.relu(convBn(x, w, 'layer1.0.conv1', 'layer1.0.bn1', { kernel: 3, pad: 1 }), { name: 'layer1.0.relu' });
  y = convBn(y, w, 'layer1.0.conv2', 'layer1.0.bn2', { kernel: 3, pad: 1 });
  x = b.relu(b.add(y, shortcut, { name: 'layer1.0' }), { name: 'layer1.0.relu' });
  x = b.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], { name: 'layer2.0.pad' });
  x = b.relu(convBn(x, 2 * w, 'layer2.0.conv1', 'layer2.0.bn1', { kernel: 3, stride: 2 }), { name: 'layer2.0.relu' });
  x = b.identity(x, { name: 'layer2.0.drop' });
  x = opts.pool === 'reduceMean' ? b.reduceMean(x, [2, 3], { keepdims: true, name: 'avgpool' }) : b.globalAveragePool(x, { name: 'avgpool' });
  x = opts.flatten === 'view' ? b.viewFlat(x) : b.flatten(x, { axis: 1 });
  const classes = opts.classes ?? 10;
  if (typeof classes === 'number') {
    b.output(b.gemm(x, classes, { name: 'fc' }), 'logits');
  } else {
    classes.forEach((c, k) => b.output(b.gemm(x, c, { name: `heads.${k}` }), `logits_${k}`));
  }
  return b.build();
}

export interface TokenMlpOptions extends GraphBuilderOptions {
  /** Tokens per sample (default 8). */
  tokens?: number;
  /** Input features per token (default 12). */
  inFeatures?: number;
  /** Hidden features per token (default 16). */
  hidden?: number;
  /** Hidden layers (default 2). */
  depth?: number;
  /** Classes of the head (default 5). */
  classes?: number;
}

/**
 * A token model: input `tokens` [batch, T, C] → `layers.k` (MatMul + Add, ReLU) × depth →
 * mean over tokens → `head` (Gemm) → output `logits`. The [batch, T, hidden] activation after
 * layer k is named by {@link tokenMlpActivation}.
 */
export function buildTokenMlp(opts: TokenMlpOptions = {}): Graph {
  const b = new GraphBuilder(opts);
  const hidden = opts.hidden ?? 16;
  let x = b.input('tokens', ['batch', opts.tokens ?? 8, opts.inFeatures ?? 12]);
  for (let k = 0; k < (opts.depth ?? 2); k++) {
    x = b.relu(b.linear(x, hidden, { name: `layers.${k}` }), { name: `layers.${k}.act` });
  }
  x = b.reduceMean(x, [1], { keepdims: false, name: 'pool' });
  b.output(b.gemm(x, opts.classes ?? 5, { name: 'head' }), 'logits');
  return b.build();
}

/** Name of the activation after hidden layer `k` of {@link buildTokenMlp}. */
export function tokenMlpActivation(k: number): string {
  return `${scopePath(`layers.${k}.act`)}/Relu_output_0`;
}
