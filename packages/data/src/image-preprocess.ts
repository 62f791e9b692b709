import { InvalidArgumentError, ShapeError, type Dim, type ValueInfo } from '@zipit/core';

/**
 * Preprocessing of image files to a model's NCHW input, the torchvision way:
 *
 *     ImageFolder loader (PIL open + convert('RGB'))
 *     [→ Grayscale(1) when the model takes one channel]
 *     → Resize(shorter side = resize) → CenterCrop(crop) → ToTensor → Normalize(mean, std)
 *     [→ centred zero padding to the model's input size, when the crop is smaller]
 *
 * The last step is what CenterCrop does when asked for a size larger than the image; it lets the
 * `mnist` preset turn 28×28 digits into 32×32 inputs exactly as the built-in specs do.
 */
export type PresetName = 'imagenet' | 'cifar' | 'mnist' | 'none';

export interface ImagePreset {
  /** Shorter side after resizing, or null to keep the image size. */
  resize: number | null;
  /** Centre crop [height, width], or null for the model's input size. */
  crop: [number, number] | null;
  mean: readonly number[];
  std: readonly number[];
  /** What torchvision pipeline this is. */
  description: string;
}

/** The named presets of `--preprocess`. Means and standard deviations per channel (RGB order), of pixels in [0, 1]. */
export const IMAGE_PRESETS: Readonly<Record<PresetName, ImagePreset>> = {
  imagenet: {
    resize: 256,
    crop: [224, 224],
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    description: 'Resize(256), CenterCrop(224), Normalize(ImageNet mean/std) — torchvision classification models',
  },
  cifar: {
    resize: 32,
    crop: [32, 32],
    mean: [0.4914, 0.4822, 0.4465],
    std: [0.247, 0.2435, 0.2616],
    description: 'Resize(32), CenterCrop(32), Normalize(CIFAR-10 mean/std)',
  },
  mnist: {
    resize: 28,
    crop: [28, 28],
    mean: [0.1307],
    std: [0.3081],
    description: 'Resize(28), CenterCrop(28), Normalize(0.1307, 0.3081), zero-padded to the input size — the built-in mnist specs',
  },
  none: {
    resize: null,
    crop: null,
    mean: [0],
    std: [1],
    description: 'ToTensor only: pixels / 255, images cropped to the input size',
  },
};

export const PRESET_NAMES = Object.keys(IMAGE_PRESETS) as PresetName[];

/** Options as given on the command line; explicit values override the preset's. */
export interface ImagePreprocessOptions {
  preset?: PresetName;
  /** Shorter side after resizing; 0 = no resize. */
  resize?: number;
  /** Centre crop: one side or [height, width]. */
  crop?: number | readonly [number, number];
  mean?: number | readonly number[];
  std?: number | readonly number[];
}

/** Every step decided, for one model input. */
export interface ImagePreprocessing {
  resize: number | null;
  /** [height, width] of the centre crop. */
  crop: [number, number];
  /** [height, width] of a sample (the model's input); ≥ the crop, which is zero-padded to it. */
  size: [number, number];
  /** Model input channels: 1 (grey, PIL's convert('L')) or 3 (RGB). */
  channels: 1 | 3;
  mean: number[];
  std: number[];
  /** The preset the options started from, if any. */
  preset: PresetName | null;
}

/**
 * Decides the preprocessing for a model input [batch, C, H, W] (C = 1 or 3). Without a crop
 * size the input's H×W is the crop; an input with unknown H/W needs one. Errors name the input.
 */
export function resolveImagePreprocessing(opts: ImagePreprocessOptions, input: ValueInfo | undefined, dataset: string): ImagePreprocessing {
  if (opts.preset !== undefined && !(opts.preset in IMAGE_PRESETS)) {
    throw new InvalidArgumentError(`unknown preprocessing preset "${opts.preset}"`, { hint: `use one of ${PRESET_NAMES.join(', ')}` });
  }
  const preset = opts.preset ? IMAGE_PRESETS[opts.preset] : IMAGE_PRESETS.none;
  const shape = input?.shape ?? null;
  const where = input ? `model input "${input.name}" [${shape ? shape.map(showDim).join(', ') : '?'}]` : 'the model input';
  if (shape !== null && shape.length !== 4) throw new ShapeError(`image folder ${dataset} gives NCHW images but ${where} has rank ${shape.length}`);
  const c = shape?.[1];
  const channels = isFixed(c) ? c : 3;
  if (channels !== 1 && channels !== 3) throw new ShapeError(`image folder ${dataset}: ${where} takes ${channels} channels; images give 1 (grey) or 3 (RGB)`);

  const resize = opts.resize !== undefined ? (opts.resize === 0 ? null : opts.resize) : preset.resize;
  if (resize !== null && (!Number.isInteger(resize) || resize < 1))
    throw new InvalidArgumentError(`--resize must be a positive integer (or 0 for none), got ${resize}`);
  const cropOpt = opts.crop === undefined ? preset.crop : typeof opts.crop === 'number' ? [opts.crop, opts.crop] : [opts.crop[0], opts.crop[1]];
  const h = shape?.[2];
  const w = shape?.[3];
  const inputSize: [number, number] | null = isFixed(h) && isFixed(w) ? [h, w] : null;
  const crop = (cropOpt ?? inputSize) as [number, number] | null;
  if (crop === null) throw new ShapeError(`image folder ${dataset}: ${where} has no fixed height and width`, { hint: 'give --crop SIZE' });
  if (crop.some((d) => !Number.isInteger(d) || d < 1)) throw new InvalidArgumentError(`--crop must be positive integers, got ${crop.join('×')}`);
  const size = inputSize ?? crop;
  if (crop[0] > size[0] || crop[1] > size[1]) {
    throw new ShapeError(`image folder ${dataset}: a ${crop[0]}×${crop[1]} crop does not fit ${where}`, {
      hint: `give --crop ${size[0]} (or a preset for this model)`,
    });
  }

  const perChannel = (v: number | readonly number[] | undefined, fallback: readonly number[], what: string): number[] => {
    const values = v === undefined ? [...fallback] : typeof v === 'number' ? [v] : [...v];
    if (values.length === 1) return new Array<number>(channels).fill(values[0]);
    if (values.length === channels) return values;
    if (values.length === 3 && channels === 1 && v === undefined) return [lumaOf(values)];
    throw new InvalidArgumentError(`--${what} has ${values.length} values but ${where} takes ${channels} channels`);
  };
  const mean = perChannel(opts.mean, preset.mean, 'mean');
  const std = perChannel(opts.std, preset.std, 'std');
  if (mean.some((m) => !Number.isFinite(m))) throw new InvalidArgumentError(`--mean must be finite, got ${mean.join(',')}`);
  if (std.some((s) => !(s > 0) || !Number.isFinite(s))) throw new InvalidArgumentError(`--std must be positive and finite, got ${std.join(',')}`);
  return { resize, crop, size, channels, mean, std, preset: opts.preset ?? null };
}

/** A preset's RGB statistic for a grey model: PIL's luma weights (0.299, 0.587, 0.114). */
function lumaOf(rgb: readonly number[]): number {
  return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

/**
 * Output [width, height] of torchvision's `Resize(size)` with an int size: the shorter side
 * becomes `size`, the longer one `int(size · long / short)` (truncated, as Python's int()).
 */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.floor((size * height) / width)];
  return [Math.floor((size * width) / height), size];
}

/** Python's round(): halves go to the even neighbour (round(0.5) = 0, round(1.5) = 2). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Top-left corner of torchvision's `CenterCrop` of `crop` from `size` (each [h, w]): int(round((size − crop) / 2)). */
export function centerCropOffset(size: number, crop: number): number {
  return roundHalfEven((size - crop) / 2);
}

/**
 * Per channel, the float32 value of every byte after ToTensor + Normalize, computed with
 * float32 rounding at each step as PyTorch does (v / 255, − mean, / std): [channels][256].
 */
export function normalizeTable(p: Pick<ImagePreprocessing, 'channels' | 'mean' | 'std'>): Float32Array[] {
  const f = Math.fround;
  return Array.from({ length: p.channels }, (_, c) => {
    const table = new Float32Array(256);
    const mean = f(p.mean[c]);
    const std = f(p.std[c]);
    for (let v = 0; v < 256; v++) table[v] = f(f(f(v / 255) - mean) / std);
    return table;
  });
}

/** Decoded pixels: interleaved (HWC) bytes. */
export interface RawImage {
  pixels: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Writes one resized image as a [channels, H, W] sample at `offset` of `out`: centre crop,
 * normalisation (`tables` from {@link normalizeTable}) and centred zero padding to the sample
 * size (padding is byte 0 before normalisation). The image must be at least the crop's size
 * (see {@link imageTooSmall}) and have the sample's channels.
 */
export function writeSample(out: Float32Array, offset: number, image: RawImage, p: ImagePreprocessing, tables: readonly Float32Array[]): void {
  const [ch, cw] = p.crop;
  const [sh, sw] = p.size;
  const top = centerCropOffset(image.height, ch);
  const left = centerCropOffset(image.width, cw);
  const padTop = Math.floor((sh - ch) / 2);
  const padLeft = Math.floor((sw - cw) / 2);
  const plane = sh * sw;
  const stride = image.width * image.channels;
  for (let c = 0; c < p.channels; c++) {
    const table = tables[c];
    const base = offset + c * plane;
    if (ch !== sh || cw !== sw) out.fill(table[0], base, base + plane);
    for (let r = 0; r < ch; r++) {
      let src = (top + r) * stride + left * image.channels + c;
      const row = base + (padTop + r) * sw + padLeft;
      for (let k = 0; k < cw; k++, src += image.channels) out[row + k] = table[image.pixels[src]];
    }
  }
}

/** Why an image (after resizing) cannot be cropped, or null when it can. */
export function imageTooSmall(width: number, height: number, p: ImagePreprocessing): string | null {
  if (width >= p.crop[1] && height >= p.crop[0]) return null;
  return `the image is ${width}×${height}${p.resize === null ? '' : ' after resizing'}, smaller than the ${p.crop[1]}×${p.crop[0]} crop`;
}

/**
 * PIL's `convert('L')` of interleaved RGB bytes (ITU-R 601-2 luma in 16-bit fixed point with
 * rounding, as Pillow computes it): writes width·height bytes to `out`.
 */
export function rgbToLuma(out: Uint8Array, rgb: Uint8Array): void {
  for (let i = 0, j = 0; i < out.length; i++, j += 3) {
    out[i] = (rgb[j] * 19595 + rgb[j + 1] * 38470 + rgb[j + 2] * 7471 + 0x8000) >>> 16;
  }
}

function isFixed(d: Dim | undefined): d is number {
  return typeof d === 'number' && d > 0;
}

function showDim(d: Dim): string {
  return d === null ? '?' : String(d);
}
