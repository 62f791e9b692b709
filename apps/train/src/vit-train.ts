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
import { VitParameters, vitForward, type VitConfig } from './vit-model.js';

/** One ViT fixture: architecture, data, optimisation (AdamW, linear warm-up, cosine decay). */
export interface VitTrainConfig {
  /** File stem, e.g. `vit_mnist_0-4`. */
  name: string;
  model: Omit<VitConfig, 'classes' | 'channels' | 'imageSize'>;
  /** Built-in class selection, trained on its train split (e.g. `mnist:0-4`). */
  data: string;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Fraction of the steps spent warming up. */
  warmup: number;
  /** Random shifts of up to this many pixels. */
  shift: number;
}

export interface VitEpochLog {
  epoch: number;
  loss: number;
  trainAccuracy: number;
  seconds: number;
}

export interface VitTrainResult {
  config: VitTrainConfig;
  params: VitParameters;
  preprocessing: Preprocessing;
  classes: readonly number[];
  trainSamples: number;
  history: VitEpochLog[];
  seconds: number;
}

/** 28×28 grey images, unpadded, one channel, normalised with the dataset's mean and std. */
export function vitPreprocessing(data: string): Preprocessing {
  const spec = parseDatasetSpec(data) as BuiltinSpec;
  return resolvePreprocessing({ size: IMAGE_SIZE, channels: 1 }, BUILTIN_DATASETS[spec.dataset]);
}

export async function trainVit(config: VitTrainConfig, log: (line: string) => void = () => {}): Promise<VitTrainResult> {
  const spec = parseDatasetSpec(config.data) as BuiltinSpec;
  if (spec.kind !== 'builtin' || spec.split !== undefined) throw new Error(`train on a built-in class selection without split, got ${config.data}`);
  const data = await loadBuiltinImages(spec, { defaultSplit: 'train' });
  const classes = data.info.classes!;
  const preprocessing = vitPreprocessing(config.data);
  const params = new VitParameters({ ...config.model, imageSize: IMAGE_SIZE, channels: 1, classes: classes.length }, config.seed);
  const trainable = [...params.variables.values()];
  const m = new Map(trainable.map((v) => [v.name, tf.variable(tf.zerosLike(v), false)]));
  const s2 = new Map(trainable.map((v) => [v.name, tf.variable(tf.zerosLike(v), false)]));
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];

  const order = new SeededRandom(config.seed * 7919 + 17);
  const steps = Math.ceil(data.count / config.batchSize) * config.epochs;
  const warm = Math.max(1, Math.round(config.warmup * steps));
  const lrAt = (step: number) =>
    step < warm ? (config.lr * (step + 1)) / warm : 0.5 * config.lr * (1 + Math.cos((Math.PI * (step - warm)) / Math.max(1, steps - warm)));

  const history: VitEpochLog[] = [];
  const start = performance.now();
  const indices = Int32Array.from({ length: data.count }, (_, i) => i);
  let step = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const t0 = performance.now();
    shuffle(indices, order);
    let lossSum = 0;
    let correct = 0;
    for (let from = 0; from < data.count; from += config.batchSize) {
      const batch = indices.subarray(from, Math.min(from + config.batchSize, data.count));
      const { x, labels } = assemble(data.images, data.labels, batch, preprocessing, config.shift, order);
      const lr = lrAt(step++);
      const t = step;
      const loss = tf.tidy(() => {
        const xs = tf.tensor4d(x, [batch.length, 1, IMAGE_SIZE, IMAGE_SIZE]);
        const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), classes.length);
        const { value, grads } = tf.variableGrads(() => {
          const logits = vitForward(params, xs);
          correct += countCorrect(logits, labels);
          return tf.losses.softmaxCrossEntropy(ys, logits) as tf.Scalar;
        }, trainable);
        for (const v of trainable) {
          const g = grads[v.name];
          const mv = m.get(v.name)!;
          const sv = s2.get(v.name)!;
          mv.assign(tf.add(tf.mul(mv, beta1), tf.mul(g, 1 - beta1)));
          sv.assign(tf.add(tf.mul(sv, beta2), tf.mul(tf.square(g), 1 - beta2)));
          const mHat = tf.div(mv, 1 - beta1 ** t);
          const sHat = tf.div(sv, 1 - beta2 ** t);
          let update = tf.div(mHat, tf.add(tf.sqrt(sHat), eps));
          if (params.decayed(v.name)) update = tf.add(update, tf.mul(v, config.weightDecay));
          v.assign(tf.sub(v, tf.mul(update, lr)));
        }
        return value.dataSync()[0];
      });
      lossSum += loss * batch.length;
    }
    const seconds = (performance.now() - t0) / 1000;
    history.push({ epoch, loss: lossSum / data.count, trainAccuracy: correct / data.count, seconds });
    log(
      `${config.name}: epoch ${epoch}/${config.epochs} loss ${(lossSum / data.count).toFixed(4)} train acc ${((100 * correct) / data.count).toFixed(2)}% (${seconds.toFixed(1)} s)`,
    );
  }
  for (const v of [...m.values(), ...s2.values()]) v.dispose();
  return { config, params, preprocessing, classes, trainSamples: data.count, history, seconds: (performance.now() - start) / 1000 };
}

/** Accuracy of the tfjs model on the test split of its dataset. */
export async function vitTestAccuracy(result: VitTrainResult): Promise<{ accuracy: number; samples: number }> {
  const spec = parseDatasetSpec(result.config.data) as BuiltinSpec;
  const dataset = openBuiltinDataset(spec, { defaultSplit: 'test', preprocess: result.preprocessing });
  let correct = 0;
  let samples = 0;
  for await (const { x, y } of dataset.batches({ batchSize: 256 })) {
    const labels = Int32Array.from(y!, (v) => Number(v));
    correct += tf.tidy(() => countCorrect(vitForward(result.params, tf.tensor4d(x.data, x.shape as [number, number, number, number])), labels));
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
    [a[i], a[j]] = [a[j], a[i]];
  }
}

/** One batch, NCHW, with random shifts of up to `shift` pixels (zero fill). */
function assemble(images: Uint8Array, all: Int32Array, batch: Int32Array, p: Preprocessing, shift: number, rng: SeededRandom) {
  const per = IMAGE_PIXELS;
  const x = new Float32Array(batch.length * per);
  const labels = new Int32Array(batch.length);
  const moved = new Uint8Array(IMAGE_PIXELS);
  batch.forEach((index, i) => {
    const image = images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS);
    const dx = shift ? Math.floor(rng.next() * (2 * shift + 1)) - shift : 0;
    const dy = shift ? Math.floor(rng.next() * (2 * shift + 1)) - shift : 0;
    let src = image;
    if (dx || dy) {
      moved.fill(0);
      for (let r = 0; r < IMAGE_SIZE; r++) {
        const sr = r - dy;
        if (sr < 0 || sr >= IMAGE_SIZE) continue;
        for (let c = 0; c < IMAGE_SIZE; c++) {
          const sc = c - dx;
          if (sc >= 0 && sc < IMAGE_SIZE) moved[r * IMAGE_SIZE + c] = image[sr * IMAGE_SIZE + sc];
        }
      }
      src = moved;
    }
    preprocessInto(x, i * per, src, p);
    labels[i] = all[index];
  });
  return { x, labels };
}
