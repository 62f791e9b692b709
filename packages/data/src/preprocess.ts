import { InvalidArgumentError, ShapeError, tensor, type Tensor } from '@zipit/core';
import { IMAGE_SIZE } from './builtin.js';

/**
 * Preprocessing of the built-in 28×28 grey images to a model's input, in this order (what a
 * torchvision pipeline `Pad → Grayscale(3) → ToTensor → Normalize` does):
 * 1. zero-pad to `size`×`size`, centred (28 → 32 pads 2 pixels on each side);
 * 2. replicate the grey channel `channels` times;
 * 3. scale bytes to [0, 1] and normalise each channel c: (v − mean[c]) / std[c]
 *    (padding pixels are 0 before normalisation, so they become −mean/std).
 * Output: NCHW float32.
 */
export interface PreprocessOptions {
  /** Output height and width, ≥ 28 (default 32). */
  size?: number;
  /** Output channels (default 3). */
  channels?: number;
  /** One mean for all channels or one per channel (default: the dataset's, see `BUILTIN_DATASETS`). */
  mean?: number | readonly number[];
  /** One standard deviation for all channels or one per channel, > 0 (default: the dataset's). */
  std?: number | readonly number[];
}

/** {@link PreprocessOptions} with every field decided. */
export interface Preprocessing {
  size: number;
  channels: number;
  mean: readonly number[];
  std: readonly number[];
}

/** Fills in defaults and validates the options. */
export function resolvePreprocessing(opts: PreprocessOptions, defaults: { mean: number; std: number }): Preprocessing {
  const size = opts.size ?? 32;
  const channels = opts.channels ?? 3;
  if (!Number.isInteger(size) || size < IMAGE_SIZE) {
    throw new ShapeError(`images are ${IMAGE_SIZE}×${IMAGE_SIZE}; they can be padded to a larger size but not to ${size}×${size}`);
  }
  if ((size - IMAGE_SIZE) % 2 !== 0) {
    throw new ShapeError(`padding ${IMAGE_SIZE}×${IMAGE_SIZE} images to ${size}×${size} is not symmetric`, { hint: 'use an even difference, e.g. 32' });
  }
  if (!Number.isInteger(channels) || channels < 1) throw new InvalidArgumentError(`channels must be a positive integer, got ${channels}`);
  const perChannel = (v: number | readonly number[] | undefined, fallback: number, what: string): number[] => {
    const values = v === undefined ? [fallback] : typeof v === 'number' ? [v] : [...v];
    if (values.length === 1) return new Array<number>(channels).fill(values[0]);
    if (values.length !== channels) throw new InvalidArgumentError(`${what} has ${values.length} values for ${channels} channels`);
    return values;
  };
  const mean = perChannel(opts.mean, defaults.mean, 'mean');
  const std = perChannel(opts.std, defaults.std, 'std');
  if (mean.some((m) => !Number.isFinite(m))) throw new InvalidArgumentError(`mean must be finite, got [${mean.join(', ')}]`);
  if (std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new InvalidArgumentError(`std must be positive and finite, got [${std.join(', ')}]`);
  return { size, channels, mean, std };
}

/** Shape of one preprocessed sample: [channels, size, size]. */
export function sampleShape(p: Preprocessing): number[] {
  return [p.channels, p.size, p.size];
}

/**
 * Writes one 28×28 byte image as a [channels, size, size] float32 sample at `offset` of `out`
 * (the `out` argument first, so batch assembly allocates nothing per image).
 */
export function preprocessInto(out: Float32Array, offset: number, image: Uint8Array, p: Preprocessing): void {
  const { size, channels } = p;
  const border = (size - IMAGE_SIZE) / 2;
  const plane = size * size;
  for (let c = 0; c < channels; c++) {
    const scale = 1 / (255 * p.std[c]);
    const shift = (0 - p.mean[c]) / p.std[c];
    const base = offset + c * plane;
    out.fill(shift, base, base + plane);
    for (let r = 0; r < IMAGE_SIZE; r++) {
      const row = base + (r + border) * size + border;
      const src = r * IMAGE_SIZE;
      for (let k = 0; k < IMAGE_SIZE; k++) out[row + k] = image[src + k] * scale + shift;
    }
  }
}

/** Preprocesses 28×28 byte images (784 bytes each) into one NCHW float32 batch [images.length, C, S, S]. */
export function preprocessBatch(images: readonly Uint8Array[], p: Preprocessing): Tensor<'float32'> {
  const per = p.channels * p.size * p.size;
  const data = new Float32Array(images.length * per);
  images.forEach((img, i) => preprocessInto(data, i * per, img, p));
  return tensor('float32', [images.length, ...sampleShape(p)], data);
}
