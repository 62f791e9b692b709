import { GraphBuilder, InvalidArgumentError, type Graph, type GraphBuilderOptions } from '@zipit/core';

/**
 * Conv widths in order, `'M'` a 2×2 max-pool: the configurations of kuangliu/pytorch-cifar,
 * which gstoica27/ZipIt's `models/vgg.py` uses (its width multiplier scales every number).
 */
export const VGG_CONFIGS = {
  vgg11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  vgg16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  vgg19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const satisfies Record<string, readonly (number | 'M')[]>;

export type VggVariant = keyof typeof VGG_CONFIGS;

export const VGG_VARIANTS = Object.keys(VGG_CONFIGS) as VggVariant[];

/**
 * How BatchNorm appears in the exported graph: `kept` (Conv → BatchNormalization → Relu, an
 * export without constant folding), `folded` (the same model exported in eval mode with
 * constant folding: Conv with fused weights named `onnx::Conv_N`, module indices as with BN), or
 * `none` (the VGG without BatchNorm: Conv → Relu).
 */
export type VggBatchNorm = 'kept' | 'folded' | 'none';

export interface VggOptions extends GraphBuilderOptions {
  variant: VggVariant;
  /** Width multiplier: layer widths are round(cfg · width), at least 1 (default 1). */
  width?: number;
  batchNorm?: VggBatchNorm;
  /** Classes of the `classifier` head (default 10). */
  classes?: number;
  /** Input height and width; 32 (CIFAR) leaves 1×1 after the five max-pools (default 32). */
  imageSize?: number;
  /** Input channels (default 3). */
  inChannels?: number;
}

/** Conv widths of a variant at a width multiplier, in layer order. */
export function vggWidths(variant: VggVariant, width: number): number[] {
  return VGG_CONFIGS[variant].filter((c): c is Exclude<typeof c, 'M'> => c !== 'M').map((c) => scaled(c, width));
}

function scaled(channels: number, width: number): number {
  return Math.max(1, Math.round(channels * width));
}

/**
 * A seeded random-init CIFAR-style VGG as graph IR, named as `torch.onnx.export` names the
 * reference model: `features.N` for the layers of the `nn.Sequential` (Conv, BatchNorm, ReLU,
 * MaxPool and the final `AvgPool2d(1)`), `out.view(out.size(0), -1)` as the Shape → Gather →
 * Unsqueeze → Concat → Reshape chain, and one `classifier` Linear (Gemm). Input `input`
 * [batch, 3, S, S], output `logits` [batch, classes].
 */
export function buildVgg(opts: VggOptions): Graph {
  const cfg = VGG_CONFIGS[opts.variant];
  if (!cfg) throw new InvalidArgumentError(`unknown VGG variant "${String(opts.variant)}"`, { hint: `use one of ${VGG_VARIANTS.join(', ')}` });
  const width = opts.width ?? 1;
  if (!(width > 0) || !Number.isFinite(width)) throw new InvalidArgumentError(`VGG width must be a positive number, got ${width}`);
  const size = opts.imageSize ?? 32;
  const pools = cfg.filter((c) => c === 'M').length;
  if (!Number.isInteger(size) || size < 2 ** pools) {
    throw new InvalidArgumentError(`a ${opts.variant} needs images of at least ${2 ** pools}×${2 ** pools} for its ${pools} max-pools, got ${size}`);
  }
  const bn = opts.batchNorm ?? 'kept';
  const b = new GraphBuilder(opts);
  let x = b.input('input', ['batch', opts.inChannels ?? 3, size, size]);
  let index = 0;
  const module = () => `features.${index++}`;
  for (const c of cfg) {
    if (c === 'M') {
      x = b.maxPool(x, { kernel: 2, stride: 2, name: module() });
      continue;
    }
    x = b.conv(x, scaled(c, width), { kernel: 3, pad: 1, name: module() });
    if (bn === 'kept') x = b.batchNorm(x, { name: module() });
    else if (bn === 'folded') index++;
    x = b.relu(x, { name: module() });
  }
  const shape = b.shape(x);
  x = b.node('AveragePool', [x], {
    name: module(),
    attributes: {
      ceil_mode: { type: 'int', value: 0 },
      kernel_shape: { type: 'ints', value: [1, 1] },
      pads: { type: 'ints', value: [0, 0, 0, 0] },
      strides: { type: 'ints', value: [1, 1] },
    },
    shapes: [shape],
  })[0];
  x = b.viewFlat(x);
  b.output(b.gemm(x, opts.classes ?? 10, { name: 'classifier' }), 'logits');
  const graph = b.build();
  return bn === 'folded' ? renameFoldedConvParameters(graph) : graph;
}

/**
 * Renames Conv weights and biases to `onnx::Conv_N`, as PyTorch names the tensors it creates
 * when it folds BatchNorm into convolutions (the module names survive only in node names).
 */
function renameFoldedConvParameters(graph: Graph): Graph {
  const renames = new Map<string, string>();
  let next = graph.nodes.length;
  for (const node of graph.nodes) {
    if (node.opType !== 'Conv') continue;
    for (const p of node.inputs.slice(1)) if (p && graph.initializers.has(p)) renames.set(p, `onnx::Conv_${next++}`);
  }
  const initializers = new Map([...graph.initializers].map(([k, v]) => [renames.get(k) ?? k, v]));
  const nodes = graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => renames.get(i) ?? i) }));
  return { ...graph, nodes, initializers };
}
