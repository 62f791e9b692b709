import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '@zipit/core';
import {
  BUILTIN_DATASETS,
  IMAGE_PIXELS,
  IMAGE_SIZE,
  loadBuiltinImages,
  openBuiltinDataset,
  parseDatasetSpec,
  preprocessInto,
  resolvePreprocessing,
  type BuiltinSpec,
  type Preprocessing,
} from '@zipit/data';
import { forward, type ModelConfig } from './models.js';
import { ParameterStore, TfOps } from './tf-ops.js';

export interface TrainConfig {
  /** File stem of the fixture, e.g. `resnet20_mnist_0-4`. */
  name: string;
  model: Omit<ModelConfig, 'classes'>;
  /** Built-in dataset spec without split, e.g. `mnist:0-4` (trained on its train split). */
  data: string;
  /** Seeds the initial weights and the batch order. */
  seed: number;
  epochs: number;
  batchSize: number;
  /** Peak learning rate of SGD (Nesterov momentum). */
  lr: number;
  momentum: number;
  /** L2 penalty on conv/linear weights. */
  weightDecay: number;
  /** Fraction of the steps spent warming the learning rate up linearly; cosine decay to 0 after. */
  warmup: number;
  /** Random training augmentation: horizontal flips (fine for clothes, not digits) and shifts of up to `shift` pixels. */
  augment: { flip: boolean; shift: number };
}

export interface EpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  seconds: number;
}

export interface TrainResult {
  config: TrainConfig;
  modelConfig: ModelConfig;
  params: ParameterStore;
  preprocessing: Preprocessing;
  classes: readonly number[];
  trainSamples: number;
  history: EpochLog[];
  seconds: number;
}

/** Trains one model on the train split of a built-in dataset. */
export async function train(config: TrainConfig, log: (line: string) => void = () => {}): Promise<TrainResult> {
  const spec = parseDatasetSpec(config.data) as BuiltinSpec;
  if (spec.kind !== 'builtin' || spec.split !== undefined) throw new Error(`train on a built-in class selection without split, got ${config.data}`);
  const data = await loadBuiltinImages(spec, { defaultSplit: 'train' });
  const classes = data.info.classes!;
  const modelConfig: ModelConfig = { ...config.model, classes: classes.length };
  const preprocessing = resolvePreprocessing({}, BUILTIN_DATASETS[spec.dataset]);
  const params = new ParameterStore(config.seed);
  tf.tidy(() => forward(new TfOps(params, false), tf.zeros([1, preprocessing.size, preprocessing.size, preprocessing.channels]), modelConfig));
  const trainable = params.trainable();
  const velocity = new Map(trainable.map((v) => [v.name, tf.variable(tf.zerosLike(v), false)]));

  const order = new SeededRandom(config.seed * 7919 + 17);
  const stepsPerEpoch = Math.ceil(data.count / config.batchSize);
  const totalSteps = stepsPerEpoch * config.epochs;
  const warmupSteps = Math.max(1, Math.round(config.warmup * totalSteps));
  const lrAt = (step: number): number =>
    step < warmupSteps
      ? (config.lr * (step + 1)) / warmupSteps
      : 0.5 * config.lr * (1 + Math.cos((Math.PI * (step - warmupSteps)) / Math.max(1, totalSteps - warmupSteps)));

  const history: EpochLog[] = [];
  const start = performance.now();
  const indices = Int32Array.from({ length: data.count }, (_, i) => i);
  let step = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const epochStart = performance.now();
    shuffle(indices, order);
    let lossSum = 0;
    let correct = 0;
    for (let from = 0; from < data.count; from += config.batchSize) {
      const batch = indices.subarray(from, Math.min(from + config.batchSize, data.count));
      const { x, labels } = assembleBatch(data.images, data.labels, batch, preprocessing, config.augment, order);
      const ops = new TfOps(params, true);
      const lr = lrAt(step++);
      const loss = tf.tidy(() => {
        const xs = tf.transpose(tf.tensor4d(x, [batch.length, preprocessing.channels, preprocessing.size, preprocessing.size]), [0, 2, 3, 1]);
        const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), classes.length);
        const { value, grads } = tf.variableGrads(() => {
          const logits = forward(ops, xs, modelConfig);
          correct += countCorrect(logits, labels);
          return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
        }, trainable);
        for (const v of trainable) {
          const decayed = params.decayed.has(v.name) ? tf.add(grads[v.name], tf.mul(v, config.weightDecay)) : grads[v.name];
          const buf = velocity.get(v.name)!;
          const nextBuf = tf.add(tf.mul(buf, config.momentum), decayed);
          const update = tf.add(decayed, tf.mul(nextBuf, config.momentum));
          buf.assign(nextBuf);
          v.assign(tf.sub(v, tf.mul(update, lr)));
        }
        return value.dataSync()[0];
      });
      ops.updateRunningStats();
      lossSum += loss * batch.length;
    }
    const seconds = (performance.now() - epochStart) / 1000;
    history.push({ epoch, loss: lossSum / data.count, trainAccuracy: correct / data.count, seconds });
    log(
      `${config.name}: epoch ${epoch}/${config.epochs} loss ${(lossSum / data.count).toFixed(4)} train acc ${((100 * correct) / data.count).toFixed(2)}% (${seconds.toFixed(1)} s)`,
    );
  }
  for (const v of velocity.values()) v.dispose();
  return {
    config,
    modelConfig,
    params,
    preprocessing,
    classes,
    trainSamples: data.count,
    history,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Accuracy of the tfjs model (inference mode) on the test split of its dataset. */
export async function testAccuracy(result: TrainResult): Promise<{ accuracy: number; samples: number }> {
  const spec = parseDatasetSpec(result.config.data) as BuiltinSpec;
  const dataset = openBuiltinDataset(spec, { defaultSplit: 'test', preprocess: result.preprocessing });
  let correct = 0;
  let samples = 0;
  for await (const { x, y } of dataset.batches({ batchSize: 256 })) {
    const labels = Int32Array.from(y!, (v) => Number(v));
    correct += tf.tidy(() => {
      const xs = tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]);
      return countCorrect(forward(new TfOps(result.params, false), xs, result.modelConfig), labels);
    });
    samples += labels.length;
  }
  return { accuracy: correct / samples, samples };
}

function countCorrect(logits: tf.Tensor, labels: Int32Array): number {
  const predicted = tf.argMax(logits, 1).dataSync();
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) n++;
  return n;
}

function shuffle(a: Int32Array, rng: SeededRandom): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/** Preprocesses the images of one batch (NCHW) after the random augmentation, if any. */
function assembleBatch(
  images: Uint8Array,
  allLabels: Int32Array,
  batch: Int32Array,
  p: Preprocessing,
  augment: TrainConfig['augment'],
  rng: SeededRandom,
): { x: Float32Array; labels: Int32Array } {
  const per = p.channels * p.size * p.size;
  const x = new Float32Array(batch.length * per);
  const labels = new Int32Array(batch.length);
  const scratch = new Uint8Array(IMAGE_PIXELS);
  batch.forEach((index, i) => {
    const image = images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS);
    const flip = augment.flip && rng.next() < 0.5;
    const dx = augment.shift ? Math.floor(rng.next() * (2 * augment.shift + 1)) - augment.shift : 0;
    const dy = augment.shift ? Math.floor(rng.next() * (2 * augment.shift + 1)) - augment.shift : 0;
    preprocessInto(x, i * per, flip || dx || dy ? transform(image, scratch, flip, dx, dy) : image, p);
    labels[i] = allLabels[index];
  });
  return { x, labels };
}

/** Flips a 28×28 image horizontally and/or shifts it by (dx, dy) pixels, filling with 0. */
function transform(src: Uint8Array, out: Uint8Array, flip: boolean, dx: number, dy: number): Uint8Array {
  out.fill(0);
  for (let r = 0; r < IMAGE_SIZE; r++) {
    const sr = r - dy;
    if (sr < 0 || sr >= IMAGE_SIZE) continue;
    for (let c = 0; c < IMAGE_SIZE; c++) {
      const sc0 = c - dx;
      if (sc0 < 0 || sc0 >= IMAGE_SIZE) continue;
      const sc = flip ? IMAGE_SIZE - 1 - sc0 : sc0;
      out[r * IMAGE_SIZE + c] = src[sr * IMAGE_SIZE + sc];
    }
  }
  return out;
}
