import * as tf from '@tensorflow/tfjs';
import { SeededRandom, tensor, type Tensor } from '@zipit/core';
import type { ConvSpec, Ops } from './models.js';

/** BatchNorm constants of PyTorch (`nn.BatchNorm2d` defaults). */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * The parameters of a model by PyTorch name, created on first use with seeded initial values
 * (so the same seed gives the same model). Layouts are tfjs': conv weights [kh, kw, in, out]
 * (HWIO), linear weights [in, out]; {@link toOnnxParameters} converts them.
 */
export class ParameterStore {
  readonly variables = new Map<string, tf.Variable>();
  /** Names of the weights that get weight decay (conv and linear weights, not biases or BN). */
  readonly decayed = new Set<string>();
  private readonly rng: SeededRandom;

  constructor(seed: number) {
    this.rng = new SeededRandom(seed);
  }

  /** Trainable variables, in creation order. */
  trainable(): tf.Variable[] {
    return [...this.variables.values()].filter((v) => v.trainable);
  }

  get(name: string, shape: number[], init: (rng: SeededRandom, shape: number[]) => Float32Array, trainable = true): tf.Variable {
    let v = this.variables.get(name);
    if (!v) {
      v = tf.variable(tf.tensor(init(this.rng, shape), shape, 'float32'), trainable, name);
      this.variables.set(name, v);
    }
    return v;
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

const heNormal = (fanIn: number) => (rng: SeededRandom, shape: number[]) => rng.normalTensor(shape, Math.sqrt(2 / fanIn)).data;
const uniform = (bound: number) => (rng: SeededRandom, shape: number[]) => rng.uniformTensor(shape, -bound, bound).data;
const constant = (value: number) => (_: SeededRandom, shape: number[]) => new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value);

/** Batch statistics of one BatchNorm in a training step, to fold into its running statistics. */
interface BatchStats {
  name: string;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Values per channel (N·H·W), for the unbiased variance. */
  count: number;
}

/**
 * {@link Ops} on tfjs tensors in NHWC. In training mode BatchNorm normalises with the batch
 * statistics and records them (kept past the step's tidy) for {@link updateRunningStats}; in
 * inference mode it uses the running statistics, as an exported model does.
 */
export class TfOps implements Ops<tf.Tensor> {
  private stats: BatchStats[] = [];

  constructor(
    readonly params: ParameterStore,
    readonly training: boolean,
  ) {}

  conv(x: tf.Tensor, name: string, outChannels: number, spec: ConvSpec): tf.Tensor {
    const inChannels = x.shape[3]!;
    const fanIn = inChannels * spec.kernel * spec.kernel;
    const w = this.params.get(`${name}.weight`, [spec.kernel, spec.kernel, inChannels, outChannels], heNormal(fanIn));
    this.params.decayed.add(`${name}.weight`);
    const p = spec.pad;
    const pad =
      p === 0
        ? 'valid'
        : ([
            [0, 0],
            [p, p],
            [p, p],
            [0, 0],
          ] as tf.backend_util.ExplicitPadding);
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, spec.stride, pad);
    if (!spec.bias) return y;
    return tf.add(y, this.params.get(`${name}.bias`, [outChannels], uniform(1 / Math.sqrt(fanIn))));
  }

  batchNorm(x: tf.Tensor, name: string): tf.Tensor {
    const c = x.shape[3]!;
    const gamma = this.params.get(`${name}.weight`, [c], constant(1));
    const beta = this.params.get(`${name}.bias`, [c], constant(0));
    const runningMean = this.params.get(`${name}.running_mean`, [c], constant(0), false);
    const runningVar = this.params.get(`${name}.running_var`, [c], constant(1), false);
    if (!this.training) {
      return tf.batchNorm(x as tf.Tensor4D, runningMean as tf.Tensor1D, runningVar as tf.Tensor1D, beta as tf.Tensor1D, gamma as tf.Tensor1D, BN_EPSILON);
    }
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    this.stats.push({ name, mean: tf.keep(mean) as tf.Tensor1D, variance: tf.keep(variance) as tf.Tensor1D, count: x.size / c });
    const scale = tf.mul(tf.rsqrt(tf.add(variance, BN_EPSILON)), gamma);
    return tf.add(tf.mul(tf.sub(x, mean), scale), beta);
  }

  relu(x: tf.Tensor): tf.Tensor {
    return tf.relu(x);
  }

  add(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
    return tf.add(a, b);
  }

  maxPool2(x: tf.Tensor): tf.Tensor {
    return tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
  }

  avgPool1(x: tf.Tensor): tf.Tensor {
    return x;
  }

  globalAveragePool(x: tf.Tensor): tf.Tensor {
    return tf.mean(x, [1, 2], true);
  }

  flatten(x: tf.Tensor): tf.Tensor {
    // NHWC and NCHW flatten to the same order only when the spatial size is 1×1.
    if (x.shape[1] !== 1 || x.shape[2] !== 1) throw new Error(`flatten expects [N, 1, 1, C], got [${x.shape.join(', ')}]`);
    return tf.reshape(x, [x.shape[0], x.shape[3]!]);
  }

  linear(x: tf.Tensor, name: string, outFeatures: number): tf.Tensor {
    const inFeatures = x.shape[1]!;
    const bound = 1 / Math.sqrt(inFeatures);
    const w = this.params.get(`${name}.weight`, [inFeatures, outFeatures], uniform(bound));
    this.params.decayed.add(`${name}.weight`);
    const b = this.params.get(`${name}.bias`, [outFeatures], uniform(bound));
    return tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
  }

  /**
   * Folds the batch statistics recorded in training mode into the running statistics, as
   * PyTorch does: running ← (1 − m)·running + m·batch, with the unbiased batch variance.
   */
  updateRunningStats(): void {
    tf.tidy(() => {
      for (const { name, mean, variance, count } of this.stats) {
        const rm = this.params.variables.get(`${name}.running_mean`)!;
        const rv = this.params.variables.get(`${name}.running_var`)!;
        rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
        rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(variance, (BN_MOMENTUM * count) / (count - 1))));
      }
    });
    this.discardStats();
  }

  discardStats(): void {
    for (const s of this.stats) {
      s.mean.dispose();
      s.variance.dispose();
    }
    this.stats = [];
  }
}

/**
 * The parameters in ONNX/PyTorch layouts, as core tensors: conv weights HWIO → OIHW
 * [out, in, kh, kw], linear weights [in, out] → [out, in] (Gemm with transB=1), the rest as is.
 */
export function toOnnxParameters(store: ParameterStore): Map<string, Tensor<'float32'>> {
  const out = new Map<string, Tensor<'float32'>>();
  for (const [name, v] of store.variables) {
    const value = tf.tidy(() => (v.rank === 4 ? tf.transpose(v, [3, 2, 0, 1]) : v.rank === 2 ? tf.transpose(v) : v.clone()));
    out.set(name, tensor('float32', value.shape, Float32Array.from(value.dataSync() as Float32Array)));
    value.dispose();
  }
  return out;
}
