import { InvalidArgumentError, NotFoundError, ShapeError } from '../errors.js';
import { sizeOf, tensor, type DType, type Tensor } from '../tensor/tensor.js';
import type { Attribute, AttributeValue, Dim, Graph, Node, ValueInfo } from './graph.js';
import { productDims, sumDims } from './infer-shapes.js';

/**
 * Builds small models directly as graph IR, in the shapes PyTorch's ONNX exporter produces
 * (`torch.onnx.export`, TorchScript-based, eval mode), with seeded random weights, so tests and
 * reference models need no external files.
 *
 * Values are named edges (plain strings); every layer method takes value names and returns the
 * name of its output. Names follow the exporter's conventions: a module path such as
 * `layer1.0.conv1` gives the node `/layer1/layer1.0/conv1/Conv`, its output
 * `/layer1/layer1.0/conv1/Conv_output_0` and the parameters `layer1.0.conv1.weight` / `.bias`;
 * unnamed (functional) operators are `/Add`, `/Add_1`, … like `F.*` calls.
 *
 * ```ts
 * const b = new GraphBuilder({ seed: 1 });
 * let x = b.input('input', ['batch', 3, 32, 32]);
 * x = b.relu(b.batchNorm(b.conv(x, 16, { kernel: 3, pad: 1, name: 'conv1' }), { name: 'bn1' }));
 * x = b.flatten(b.globalAveragePool(x));
 * b.output(b.gemm(x, 10, { name: 'fc' }), 'logits');
 * const graph = b.build();
 * ```
 *
 * Weights: He (Kaiming) normal for Conv/Gemm/MatMul weights, PyTorch's default uniform for
 * biases, and random but well-conditioned BatchNorm/LayerNorm parameters and running statistics.
 * The same seed and the same calls give bit-identical graphs.
 */

/** Seeded pseudo-random numbers: mulberry32 for uniforms, Box–Muller for normals. */
export class SeededRandom {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A float32 tensor of normals with the given standard deviation and mean. */
  normalTensor(shape: readonly number[], std = 1, mean = 0): Tensor<'float32'> {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * this.normal();
    return tensor('float32', shape, data);
  }

  /** A float32 tensor of uniforms in [lo, hi). */
  uniformTensor(shape: readonly number[], lo: number, hi: number): Tensor<'float32'> {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = this.uniform(lo, hi);
    return tensor('float32', shape, data);
  }
}

export interface GraphBuilderOptions {
  /** Seed of the weight generator (default 0). */
  seed?: number;
  /** Default-domain opset the graph imports, 11–21 (default 13, PyTorch's usual export). */
  opset?: number;
  /** IR version (default: the one PyTorch writes for the opset). */
  irVersion?: number;
  /** Graph name (default `main_graph`, as PyTorch writes). */
  name?: string;
  /**
   * Where small shape/axes constants go: `Constant` nodes (what PyTorch emits, the default) or
   * initializers (what onnx-simplifier and other tools produce).
   */
  constants?: 'node' | 'initializer';
}

/** Options shared by every layer method. */
export interface LayerOptions {
  /**
   * Module path (`layer1.0.conv1`) naming the node, its output and its parameters. Parameter
   * layers without a name get `conv_0`, `bn_0`, `fc_0`, … in call order.
   */
  name?: string;
}

export interface ConvOptions extends LayerOptions {
  /** Kernel size, one number for all spatial axes or one per axis (default 3). */
  kernel?: number | number[];
  stride?: number | number[];
  /** Symmetric zero padding per spatial axis, or ONNX `pads` (all begins, then all ends). */
  pad?: number | number[];
  dilation?: number | number[];
  groups?: number;
  /** Whether the convolution has a bias (default true; PyTorch's `bias=False` before a BatchNorm). */
  bias?: boolean;
}

export interface PoolOptions extends LayerOptions {
  kernel: number | number[];
  /** Default: the kernel size (PyTorch's default). */
  stride?: number | number[];
  pad?: number | number[];
}

export interface NormOptions extends LayerOptions {
  epsilon?: number;
}

export interface BatchNormOptions extends NormOptions {
  /** ONNX momentum (PyTorch exports 1 − torch momentum: 0.9). */
  momentum?: number;
}

export interface DenseOptions extends LayerOptions {
  bias?: boolean;
}

export interface NodeOptions extends LayerOptions {
  attributes?: Record<string, AttributeValue>;
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Output shapes when known (one per output); unknown otherwise. */
  shapes?: (Dim[] | null)[];
  /** Output dtypes (default float32). */
  dtypes?: DType[];
  domain?: string;
}

const IR_FOR_OPSET: Record<number, number> = {
  11: 6,
  12: 7,
  13: 7,
  14: 7,
  15: 8,
  16: 8,
  17: 8,
  18: 8,
  19: 9,
  20: 9,
  21: 10,
};

interface ValueMeta {
  shape: Dim[] | null;
  dtype: DType;
}

/** Fluent construction of a Graph. See the file comment for conventions. */
export class GraphBuilder {
  readonly opset: number;
  readonly rng: SeededRandom;
  private readonly irVersion: number;
  private readonly graphName: string;
  private readonly constantMode: 'node' | 'initializer';
  private readonly nodes: Node[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers = new Map<string, Tensor>();
  private readonly values = new Map<string, ValueMeta>();
  private readonly nodeNames = new Set<string>();
  private readonly autoNames = new Map<string, number>();
  private built = false;

  constructor(opts: GraphBuilderOptions = {}) {
    this.opset = opts.opset ?? 13;
    if (!Number.isInteger(this.opset) || this.opset < 11 || this.opset > 21) {
      throw new InvalidArgumentError(`GraphBuilder supports opsets 11–21, got ${opts.opset}`);
    }
    this.irVersion = opts.irVersion ?? IR_FOR_OPSET[this.opset];
    this.graphName = opts.name ?? 'main_graph';
    this.constantMode = opts.constants ?? 'node';
    this.rng = new SeededRandom(opts.seed ?? 0);
  }

  // ---------------------------------------------------------------- interface

  /** Declares a graph input; `null` or a string marks a dynamic dimension (e.g. the batch). */
  input(name: string, shape: Dim[], dtype: DType = 'float32'): string {
    this.claimValue(name, { shape: [...shape], dtype });
    this.inputs.push({ name, dtype, shape: [...shape] });
    return name;
  }

  /**
   * Marks `x` as a graph output. With `name`, the value is renamed (as PyTorch's `output_names`
   * does), which requires `x` to be produced by a node of this builder.
   */
  output(x: string, name?: string): string {
    const meta = this.meta(x);
    let out = x;
    if (name !== undefined && name !== x) {
      if (!this.nodes.some((n) => n.outputs.includes(x))) {
        throw new InvalidArgumentError(`cannot rename "${x}" to "${name}": it is not a node output`);
      }
      if (this.values.has(name)) throw new InvalidArgumentError(`value "${name}" already exists`);
      for (const n of this.nodes) {
        n.inputs = n.inputs.map((i) => (i === x ? name : i));
        n.outputs = n.outputs.map((o) => (o === x ? name : o));
      }
      for (const o of this.outputs) if (o.name === x) o.name = name;
      this.values.delete(x);
      this.values.set(name, meta);
      out = name;
    }
    if (!this.outputs.some((o) => o.name === out)) {
      this.outputs.push({ name: out, dtype: meta.dtype, shape: meta.shape && [...meta.shape] });
    }
    return out;
  }

  /** Adds a parameter (initializer) under an explicit name and returns that name. */
  parameter(name: string, value: Tensor): string {
    if (this.initializers.has(name)) throw new InvalidArgumentError(`parameter "${name}" already exists`);
    this.claimValue(name, { shape: [...value.shape], dtype: value.dtype });
    this.initializers.set(name, value);
    return name;
  }

  /**
   * A constant value: a `Constant` node or an initializer, per the builder's `constants` option.
   * `name` is the module scope, as for layers.
   */
  constant(value: Tensor, opts: LayerOptions = {}): string {
    if (this.constantMode === 'initializer') {
      const base = `onnx::Constant_${this.initializers.size}`;
      let name = base;
      for (let k = 1; this.values.has(name); k++) name = `${base}_${k}`;
      return this.parameter(name, value);
    }
    const [out] = this.emit('Constant', [], { value: { type: 'tensor', value } }, opts.name, [{ shape: [...value.shape], dtype: value.dtype }]);
    return out;
  }

  /** Shape of a value as tracked by the builder (`null` when unknown). */
  shape(x: string): Dim[] | null {
    const s = this.meta(x).shape;
    return s && [...s];
  }

  /** The graph built so far. The builder cannot be used afterwards. */
  build(): Graph {
    if (this.built) throw new InvalidArgumentError('GraphBuilder.build() was already called');
    if (this.inputs.length === 0) throw new InvalidArgumentError('the graph has no input');
    if (this.outputs.length === 0) throw new InvalidArgumentError('the graph has no output (call output())');
    this.built = true;
    return {
      name: this.graphName,
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      valueInfo: [],
      initializers: this.initializers,
      irVersion: this.irVersion,
      opsetImports: [{ domain: '', version: this.opset }],
      producerName: 'zipit-graph-builder',
      producerVersion: '1',
      metadata: [],
    };
  }

  // ---------------------------------------------------------------- layers with parameters

  /** `nn.Conv2d` (any spatial rank): weight [out, in/groups, k…], He-normal; bias uniform ±1/√fan_in. */
  conv(x: string, outChannels: number, opts: ConvOptions = {}): string {
    const shape = this.meta(x).shape;
    const inChannels = this.knownDim(x, 1, 'Conv');
    const spatial = shape ? shape.length - 2 : 2;
    const kernel = expand(opts.kernel ?? 3, spatial, 'kernel');
    const strides = expand(opts.stride ?? 1, spatial, 'stride');
    const dilations = expand(opts.dilation ?? 1, spatial, 'dilation');
    const pads = expandPads(opts.pad ?? 0, spatial);
    const groups = opts.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new ShapeError(`Conv groups=${groups} must divide ${inChannels} input and ${outChannels} output channels`, { node: opts.name });
    }
    const name = this.moduleName(opts.name, 'conv');
    const fanIn = (inChannels / groups) * kernel.reduce((a, b) => a * b, 1);
    const weight = this.parameter(`${name}.weight`, this.rng.normalTensor([outChannels, inChannels / groups, ...kernel], Math.sqrt(2 / fanIn)));
    const inputs = [x, weight];
    if (opts.bias ?? true) {
      const bound = 1 / Math.sqrt(fanIn);
      inputs.push(this.parameter(`${name}.bias`, this.rng.uniformTensor([outChannels], -bound, bound)));
    }
    const outShape = shape && [
      shape[0],
      outChannels,
      ...shape.slice(2).map((d, i) => windowOut(d, kernel[i], strides[i], pads[i] + pads[i + spatial], dilations[i])),
    ];
    return this.emit1(
      'Conv',
      inputs,
      {
        dilations: ints(dilations),
        group: int(groups),
        kernel_shape: ints(kernel),
        pads: ints(pads),
        strides: ints(strides),
      },
      name,
      outShape,
    );
  }

  /** `nn.BatchNorm2d` in eval mode: scale ∈ [0.5, 1.5), bias ~ N(0, 0.1²), mean ~ N(0, 0.1²), var ∈ [0.5, 1.5). */
  batchNorm(x: string, opts: BatchNormOptions = {}): string {
    const c = this.knownDim(x, 1, 'BatchNormalization');
    const name = this.moduleName(opts.name, 'bn');
    const scale = this.parameter(`${name}.weight`, this.rng.uniformTensor([c], 0.5, 1.5));
    const bias = this.parameter(`${name}.bias`, this.rng.normalTensor([c], 0.1));
    const mean = this.parameter(`${name}.running_mean`, this.rng.normalTensor([c], 0.1));
    const variance = this.parameter(`${name}.running_var`, this.rng.uniformTensor([c], 0.5, 1.5));
    return this.emit1(
      'BatchNormalization',
      [x, scale, bias, mean, variance],
      {
        epsilon: float(opts.epsilon ?? 1e-5),
        momentum: float(opts.momentum ?? 0.9),
      },
      name,
      this.meta(x).shape,
    );
  }

  /**
   * `nn.Linear` on a 2-D input as PyTorch exports it: `Gemm(x, W, b)` with `transB=1`, W [out, in]
   * He-normal, b uniform ±1/√in.
   */
  gemm(x: string, outFeatures: number, opts: DenseOptions = {}): string {
    const shape = this.meta(x).shape;
    if (shape && shape.length !== 2) throw new ShapeError(`Gemm needs a 2-D input, "${x}" is [${shape.join(', ')}]`, { node: opts.name });
    const inFeatures = this.knownDim(x, 1, 'Gemm');
    const name = this.moduleName(opts.name, 'fc');
    const weight = this.parameter(`${name}.weight`, this.rng.normalTensor([outFeatures, inFeatures], Math.sqrt(2 / inFeatures)));
    const inputs = [x, weight];
    if (opts.bias ?? true) {
      const bound = 1 / Math.sqrt(inFeatures);
      inputs.push(this.parameter(`${name}.bias`, this.rng.uniformTensor([outFeatures], -bound, bound)));
    }
    return this.emit1('Gemm', inputs, { alpha: float(1), beta: float(1), transB: int(1) }, name, shape && [shape[0], outFeatures]);
  }

  /**
   * `nn.Linear` on an input of rank ≥ 3 ([B, T, C] tokens) as PyTorch exports it: `MatMul(x, Wᵀ)`
   * then `Add(b, ·)` (bias first, as the exporter writes it). The weight is stored transposed,
   * [in, out], under `<name>.weight`.
   */
  linear(x: string, outFeatures: number, opts: DenseOptions = {}): string {
    const shape = this.meta(x).shape;
    const rank = shape ? shape.length : 3;
    const inFeatures = this.knownDim(x, rank - 1, 'MatMul');
    const name = this.moduleName(opts.name, 'linear');
    const weight = this.parameter(`${name}.weight`, this.rng.normalTensor([inFeatures, outFeatures], Math.sqrt(2 / inFeatures)));
    const outShape = shape && [...shape.slice(0, -1), outFeatures];
    const y = this.emit1('MatMul', [x, weight], {}, name, outShape);
    if (!(opts.bias ?? true)) return y;
    const bound = 1 / Math.sqrt(inFeatures);
    const bias = this.parameter(`${name}.bias`, this.rng.uniformTensor([outFeatures], -bound, bound));
    return this.emit1('Add', [bias, y], {}, name, outShape);
  }

  /**
   * `nn.LayerNorm` over the last axis: `LayerNormalization` from opset 17, otherwise the
   * ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add chain older exporters emit. Scale ∈ [0.5, 1.5), bias ~ N(0, 0.1²).
   */
  layerNorm(x: string, opts: NormOptions = {}): string {
    const shape = this.meta(x).shape;
    const rank = shape ? shape.length : 3;
    const c = this.knownDim(x, rank - 1, 'LayerNormalization');
    const name = this.moduleName(opts.name, 'ln');
    const eps = opts.epsilon ?? 1e-5;
    const scale = this.parameter(`${name}.weight`, this.rng.uniformTensor([c], 0.5, 1.5));
    const bias = this.parameter(`${name}.bias`, this.rng.normalTensor([c], 0.1));
    if (this.opset >= 17) {
      return this.emit1('LayerNormalization', [x, scale, bias], { axis: int(-1), epsilon: float(eps) }, name, shape);
    }
    const mean = this.reduceMean(x, [-1], { keepdims: true, name });
    const centered = this.emit1('Sub', [x, mean], {}, name, shape);
    const squared = this.emit1('Pow', [centered, this.scalar(2, name)], {}, name, shape);
    const variance = this.reduceMean(squared, [-1], { keepdims: true, name });
    const shifted = this.emit1('Add', [variance, this.scalar(eps, name)], {}, name, this.meta(variance).shape);
    const std = this.emit1('Sqrt', [shifted], {}, name, this.meta(variance).shape);
    const normed = this.emit1('Div', [centered, std], {}, name, shape);
    const scaled = this.emit1('Mul', [normed, scale], {}, name, shape);
    return this.emit1('Add', [scaled, bias], {}, name, shape);
  }

  // ---------------------------------------------------------------- parameter-free layers

  relu(x: string, opts: LayerOptions = {}): string {
    return this.unary('Relu', x, opts);
  }

  sigmoid(x: string, opts: LayerOptions = {}): string {
    return this.unary('Sigmoid', x, opts);
  }

  /** Exact GELU as PyTorch exports it before opset 20: x · 0.5 · (1 + erf(x / √2)). */
  gelu(x: string, opts: LayerOptions = {}): string {
    const shape = this.meta(x).shape;
    const scaled = this.emit1('Div', [x, this.scalar(Math.SQRT2, opts.name)], {}, opts.name, shape);
    const erf = this.emit1('Erf', [scaled], {}, opts.name, shape);
    const shifted = this.emit1('Add', [erf, this.scalar(1, opts.name)], {}, opts.name, shape);
    const gated = this.emit1('Mul', [x, shifted], {}, opts.name, shape);
    return this.emit1('Mul', [gated, this.scalar(0.5, opts.name)], {}, opts.name, shape);
  }

  identity(x: string, opts: LayerOptions = {}): string {
    return this.unary('Identity', x, opts);
  }

  /** Element-wise sum (residual connection); shapes broadcast as in NumPy. */
  add(a: string, b: string, opts: LayerOptions = {}): string {
    return this.emit1('Add', [a, b], {}, opts.name, broadcast(this.meta(a).shape, this.meta(b).shape));
  }

  mul(a: string, b: string, opts: LayerOptions = {}): string {
    return this.emit1('Mul', [a, b], {}, opts.name, broadcast(this.meta(a).shape, this.meta(b).shape));
  }

  /** Batched matrix product of two values (attention scores, …). */
  matmul(a: string, b: string, opts: LayerOptions = {}): string {
    const sa = this.meta(a).shape;
    const sb = this.meta(b).shape;
    let shape: Dim[] | null = null;
    if (sa && sb && sa.length >= 2 && sb.length >= 2) {
      const batch = broadcast(sa.slice(0, -2), sb.slice(0, -2));
      shape = batch && [...batch, sa[sa.length - 2], sb[sb.length - 1]];
    }
    return this.emit1('MatMul', [a, b], {}, opts.name, shape);
  }

  maxPool(x: string, opts: PoolOptions): string {
    const shape = this.meta(x).shape;
    const spatial = shape ? shape.length - 2 : 2;
    const kernel = expand(opts.kernel, spatial, 'kernel');
    const strides = expand(opts.stride ?? opts.kernel, spatial, 'stride');
    const pads = expandPads(opts.pad ?? 0, spatial);
    const outShape = shape && [shape[0], shape[1], ...shape.slice(2).map((d, i) => windowOut(d, kernel[i], strides[i], pads[i] + pads[i + spatial], 1))];
    return this.emit1(
      'MaxPool',
      [x],
      {
        ceil_mode: int(0),
        kernel_shape: ints(kernel),
        pads: ints(pads),
        strides: ints(strides),
      },
      opts.name,
      outShape,
    );
  }

  /** `nn.AdaptiveAvgPool2d(1)`: [N, C, H, W] → [N, C, 1, 1]. */
  globalAveragePool(x: string, opts: LayerOptions = {}): string {
    const shape = this.meta(x).shape;
    return this.emit1('GlobalAveragePool', [x], {}, opts.name, shape && [shape[0], shape[1], ...shape.slice(2).map(() => 1)]);
  }

  /** `x.mean(dims)`: `ReduceMean` with `axes` as attribute (opset < 18) or input (opset ≥ 18). */
  reduceMean(x: string, axes: number[], opts: LayerOptions & { keepdims?: boolean } = {}): string {
    const shape = this.meta(x).shape;
    const keep = opts.keepdims ?? false;
    let outShape: Dim[] | null = null;
    if (shape) {
      const norm = axes.map((a) => (a < 0 ? a + shape.length : a));
      outShape = keep ? shape.map((d, i) => (norm.includes(i) ? 1 : d)) : shape.filter((_, i) => !norm.includes(i));
    }
    if (this.opset >= 18) {
      const axesValue = this.constant(int64Tensor(axes), { name: opts.name });
      return this.emit1('ReduceMean', [x, axesValue], { keepdims: int(keep ? 1 : 0) }, opts.name, outShape);
    }
    return this.emit1('ReduceMean', [x], { axes: ints(axes), keepdims: int(keep ? 1 : 0) }, opts.name, outShape);
  }

  /** `torch.flatten(x, axis)` / `nn.Flatten`: `Flatten` to 2-D. */
  flatten(x: string, opts: LayerOptions & { axis?: number } = {}): string {
    const shape = this.meta(x).shape;
    const axis = opts.axis ?? 1;
    let outShape: Dim[] | null = null;
    if (shape) {
      const a = axis < 0 ? axis + shape.length : axis;
      outShape = [productDims(shape.slice(0, a)), productDims(shape.slice(a))];
    }
    return this.emit1('Flatten', [x], { axis: int(axis) }, opts.name, outShape);
  }

  /**
   * `x.view(x.size(0), -1)` as PyTorch exports it: the target shape is computed at run time by
   * `Shape` → `Gather(0)` → `Unsqueeze` → `Concat(·, [-1])` → `Reshape`.
   */
  viewFlat(x: string, opts: LayerOptions = {}): string {
    const shape = this.meta(x).shape;
    const s = opts.name;
    const dims = this.emit1('Shape', [x], {}, s, shape && [shape.length], 'int64');
    const zero = this.constant(tensor('int64', [], BigInt64Array.of(0n)), { name: s });
    const batch = this.emit1('Gather', [dims, zero], { axis: int(0) }, s, [], 'int64');
    const batch1 =
      this.opset >= 13
        ? this.emit1('Unsqueeze', [batch, this.constant(int64Tensor([0]), { name: s })], {}, s, [1], 'int64')
        : this.emit1('Unsqueeze', [batch], { axes: ints([0]) }, s, [1], 'int64');
    const rest = this.constant(int64Tensor([-1]), { name: s });
    const target = this.emit1('Concat', [batch1, rest], { axis: int(0) }, s, [2], 'int64');
    const outShape = shape && [shape[0], productDims(shape.slice(1))];
    return this.emit1('Reshape', [x, target], this.opset >= 14 ? { allowzero: int(0) } : {}, s, outShape);
  }

  /** `Reshape` to a constant target shape (ONNX rules: 0 copies the input dim, -1 is inferred). */
  reshape(x: string, target: number[], opts: LayerOptions = {}): string {
    const shape = this.meta(x).shape;
    const targetValue = this.constant(int64Tensor(target), { name: opts.name });
    return this.emit1('Reshape', [x, targetValue], this.opset >= 14 ? { allowzero: int(0) } : {}, opts.name, reshapeShape(shape, target));
  }

  transpose(x: string, perm: number[], opts: LayerOptions = {}): string {
    const shape = this.meta(x).shape;
    return this.emit1('Transpose', [x], { perm: ints(perm) }, opts.name, shape && perm.map((p) => shape[p]));
  }

  softmax(x: string, opts: LayerOptions & { axis?: number } = {}): string {
    return this.emit1('Softmax', [x], { axis: int(opts.axis ?? -1) }, opts.name, this.meta(x).shape);
  }

  concat(xs: string[], axis: number, opts: LayerOptions = {}): string {
    const shapes = xs.map((x) => this.meta(x).shape);
    let outShape: Dim[] | null = null;
    if (shapes.every((s): s is Dim[] => s !== null) && shapes.length > 0) {
      const a = axis < 0 ? axis + shapes[0].length : axis;
      outShape = shapes[0].map((d, i) => (i === a ? sumDims(shapes.map((s) => s[a])) : d));
    }
    return this.emit1('Concat', xs, { axis: int(axis) }, opts.name, outShape);
  }

  /**
   * `F.pad`: `Pad` with `pads` (ONNX order: all begins, then all ends, over every axis) and the
   * constant value as inputs (opset ≥ 11).
   */
  pad(x: string, pads: number[], opts: LayerOptions & { mode?: 'constant' | 'reflect' | 'edge'; value?: number } = {}): string {
    const shape = this.meta(x).shape;
    if (shape && pads.length !== 2 * shape.length) {
      throw new ShapeError(`Pad needs ${2 * shape.length} pads for a rank-${shape.length} input, got ${pads.length}`, { node: opts.name });
    }
    const inputs = [x, this.constant(int64Tensor(pads), { name: opts.name })];
    if ((opts.mode ?? 'constant') === 'constant') {
      inputs.push(this.constant(tensor('float32', [], Float32Array.of(opts.value ?? 0)), { name: opts.name }));
    }
    const rank = pads.length / 2;
    const outShape =
      shape &&
      shape.map((d, i) => {
        const grow = pads[i] + pads[i + rank];
        if (grow === 0) return d;
        return typeof d === 'number' ? d + grow : null;
      });
    return this.emit1('Pad', inputs, { mode: { type: 'string', value: opts.mode ?? 'constant' } }, opts.name, outShape);
  }

  /**
   * Any operator: the escape hatch for what has no method. Returns the output value names;
   * shapes are unknown unless given.
   */
  node(opType: string, inputs: string[], opts: NodeOptions = {}): string[] {
    for (const i of inputs) if (i) this.meta(i);
    const count = opts.outputs ?? 1;
    const metas: ValueMeta[] = [];
    for (let k = 0; k < count; k++) metas.push({ shape: opts.shapes?.[k] ?? null, dtype: opts.dtypes?.[k] ?? 'float32' });
    return this.emit(opType, inputs, opts.attributes ?? {}, opts.name, metas, opts.domain ?? '');
  }

  // ---------------------------------------------------------------- internals

  private unary(opType: string, x: string, opts: LayerOptions): string {
    return this.emit1(opType, [x], {}, opts.name, this.meta(x).shape);
  }

  private scalar(v: number, scope: string | undefined): string {
    return this.constant(tensor('float32', [], Float32Array.of(v)), { name: scope });
  }

  private emit1(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue>,
    scope: string | undefined,
    shape: Dim[] | null,
    dtype: DType = 'float32',
  ): string {
    return this.emit(opType, inputs, attributes, scope, [{ shape, dtype }])[0];
  }

  private emit(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue>,
    scope: string | undefined,
    outputs: ValueMeta[],
    domain = '',
  ): string[] {
    if (this.built) throw new InvalidArgumentError('GraphBuilder.build() was already called');
    for (const i of inputs) if (i) this.meta(i);
    const base = `${scopePath(scope)}/${opType}`;
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}_${k}`;
    this.nodeNames.add(name);
    const outNames = outputs.map((m, k) => {
      const out = `${name}_output_${k}`;
      this.claimValue(out, m);
      return out;
    });
    const attrs: Attribute[] = Object.entries(attributes).map(([n, value]) => ({ name: n, value }));
    this.nodes.push({ name, opType, domain, inputs: [...inputs], outputs: outNames, attributes: attrs });
    return outNames;
  }

  private moduleName(name: string | undefined, kind: string): string {
    if (name !== undefined) {
      if (!name) throw new InvalidArgumentError('a module name must not be empty');
      return name;
    }
    const k = this.autoNames.get(kind) ?? 0;
    this.autoNames.set(kind, k + 1);
    return `${kind}_${k}`;
  }

  private claimValue(name: string, meta: ValueMeta): void {
    if (!name) throw new InvalidArgumentError('a value name must not be empty');
    if (this.values.has(name)) throw new InvalidArgumentError(`value "${name}" already exists`);
    this.values.set(name, meta);
  }

  private meta(x: string): ValueMeta {
    const m = this.values.get(x);
    if (!m) throw new NotFoundError(`value "${x}" does not exist in the graph being built`);
    return m;
  }

  private knownDim(x: string, axis: number, op: string): number {
    const shape = this.meta(x).shape;
    const d = shape?.[axis];
    if (typeof d !== 'number') {
      throw new ShapeError(`${op} needs a known size on axis ${axis} of "${x}" (shape ${shape ? `[${shape.join(', ')}]` : 'unknown'})`);
    }
    return d;
  }
}

/** PyTorch's scope path for a module path: `layer1.0.conv1` → `/layer1/layer1.0/conv1`. */
export function scopePath(module: string | undefined): string {
  if (!module) return '';
  const parts = module.split('.');
  const scopes: string[] = [];
  for (const p of parts) {
    if (/^\d+$/.test(p) && scopes.length > 0) scopes.push(`${scopes[scopes.length - 1]}.${p}`);
    else scopes.push(p);
  }
  return '/' + scopes.join('/');
}

function expand(v: number | number[], n: number, what: string): number[] {
  if (typeof v === 'number') return new Array<number>(n).fill(v);
  if (v.length !== n) throw new InvalidArgumentError(`${what} needs ${n} values, got ${v.length}`);
  return [...v];
}

function expandPads(v: number | number[], n: number): number[] {
  if (typeof v === 'number') return new Array<number>(2 * n).fill(v);
  if (v.length === n) return [...v, ...v];
  if (v.length === 2 * n) return [...v];
  throw new InvalidArgumentError(`pad needs 1, ${n} or ${2 * n} values, got ${v.length}`);
}

function windowOut(d: Dim, kernel: number, stride: number, pad: number, dilation: number): Dim {
  if (typeof d !== 'number') return null;
  const out = Math.floor((d + pad - dilation * (kernel - 1) - 1) / stride) + 1;
  if (out < 1) throw new ShapeError(`a window of ${kernel} (dilation ${dilation}) does not fit an axis of ${d} with padding ${pad}`);
  return out;
}

function broadcast(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b) return null;
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') throw new ShapeError(`cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

function reshapeShape(shape: Dim[] | null, target: number[]): Dim[] | null {
  const dims: Dim[] = target.map((t, i) => (t === 0 ? (shape ? shape[i] : null) : t));
  const inferred = dims.indexOf(-1);
  if (inferred < 0) return dims;
  // Dims copied by 0 cancel out, so `[batch, 8, 10, 10]` → `[0, 8, -1]` infers 100.
  const copied = (i: number): boolean => target[i] === 0;
  const total = shape ? productDims(shape.filter((_, i) => !copied(i))) : null;
  const known = productDims(dims.filter((_, i) => i !== inferred && !copied(i)));
  dims[inferred] = typeof total === 'number' && typeof known === 'number' && known > 0 ? total / known : null;
  if (dims[inferred] !== null && !Number.isInteger(dims[inferred])) {
    throw new ShapeError(`cannot reshape [${shape?.join(', ')}] to [${target.join(', ')}]`);
  }
  return dims;
}

function int64Tensor(values: number[]): Tensor<'int64'> {
  return tensor(
    'int64',
    [values.length],
    BigInt64Array.from(values, (v) => BigInt(v)),
  );
}

function int(value: number): AttributeValue {
  return { type: 'int', value };
}

function ints(value: number[]): AttributeValue {
  return { type: 'ints', value };
}

function float(value: number): AttributeValue {
  return { type: 'float', value };
}
