import { FormatError, InvalidArgumentError, ShapeError, tensor, type ValueInfo } from '@zipit/core';
import type { Batch, BatchSource } from '@zipit/pipeline';
// The CLI's image-folder code that is pure (no file system, no sharp): the sample a pass draws,
// the preprocessing decisions, the centre crop and the normalisation.
import { byCodeUnits, selectFolderItems } from '../../../packages/data/src/folder-sample.js';
import {
  imageTooSmall,
  normalizeTable,
  resizedSize,
  resolveImagePreprocessing,
  rgbToLuma,
  writeSample,
  type ImagePreprocessing,
  type ImagePreprocessOptions,
  type RawImage,
} from '../../../packages/data/src/image-preprocess.js';

/** File extensions read as images: the CLI's list (torchvision's) minus TIFF, which browsers do not decode. */
export const BROWSER_IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.avif'] as const;

/** One picked image file: its path relative to the picked folder (or its name) and its bytes. */
export interface PickedImage {
  path: string;
  file: Blob;
}

/** Picked files as an ImageFolder listing: class subfolders (labelled) or a flat set (unlabelled). */
export interface PickedListing {
  layout: 'classes' | 'flat';
  classNames: string[] | null;
  /** Per class (one group when flat), its images sorted by relative path. */
  files: PickedImage[][];
}

function isImageName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && (BROWSER_IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

/**
 * The picked files arranged as `listImageFolder` arranges a folder: `path`s are relative to the
 * picked folder (a folder pick's `webkitRelativePath` without its first part; a file pick's
 * name). Hidden files and parts, and files that are not images, are skipped. Subfolders are the
 * classes in sorted order, holding every image below them; loose images beside class folders
 * are refused, as the CLI refuses them. Within a class, files sort by their whole relative path
 * (the CLI walks each level sorted; the two orders differ only for names sorting around '/',
 * and the order only breaks ties of the seeded rank).
 */
export function listPickedImages(picked: readonly PickedImage[], name: string): PickedListing {
  const images = picked.filter((p) => !p.path.split('/').some((part) => part.startsWith('.')) && isImageName(p.path));
  if (images.length === 0)
    throw new FormatError(`${name} holds no images (${BROWSER_IMAGE_EXTENSIONS.join(' ')})`, { file: name, hint: 'pick PNG, JPEG or WebP files' });
  const loose = images.filter((p) => !p.path.includes('/'));
  const nested = images.filter((p) => p.path.includes('/'));
  const sorted = (list: PickedImage[]) => [...list].sort((a, b) => byCodeUnits(a.path, b.path));
  if (nested.length === 0) return { layout: 'flat', classNames: null, files: [sorted(loose)] };
  if (loose.length > 0) {
    throw new FormatError(`${name} holds class subfolders and also loose images (${loose[0].path}${loose.length > 1 ? ', …' : ''})`, {
      file: name,
      hint: 'move the loose images into a class subfolder, or pick the subfolder that holds them',
    });
  }
  const classNames = [...new Set(nested.map((p) => p.path.slice(0, p.path.indexOf('/'))))].sort(byCodeUnits);
  return { layout: 'classes', classNames, files: classNames.map((c) => sorted(nested.filter((p) => p.path.startsWith(`${c}/`)))) };
}

function context2d(width: number, height: number): OffscreenCanvasRenderingContext2D {
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives no 2D canvas context');
  return ctx;
}

/**
 * Decodes an image file in the browser into the model's channels at the resized size, ready for
 * `writeSample` — the counterpart of `@zipit/data`'s sharp-based `decodeImage`:
 * 1. `createImageBitmap` decodes it (colour-managed to sRGB); the alpha channel is dropped
 *    (the canvas keeps colours premultiplied, so semi-transparent pixels lose precision and fully
 *    transparent ones read as black, where PIL's convert('RGB') keeps their colour);
 * 2. for a one-channel model, PIL's convert('L') luma at full resolution, before resizing;
 * 3. resizing is the canvas's `drawImage` with `imageSmoothingQuality = 'high'` (not PIL's
 *    bilinear: the difference to the CLI is measured in the README, "In the browser").
 */
export async function decodeImageFile(file: Blob, name: string, p: ImagePreprocessing): Promise<RawImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { premultiplyAlpha: 'none' });
  } catch (e) {
    throw new FormatError(`cannot decode the image (${(e as Error).message})`, {
      file: name,
      cause: e,
      hint: 'the file is corrupt, truncated or not an image this browser decodes; re-save it as PNG, JPEG or WebP',
    });
  }
  const { width, height } = bitmap;
  const [w, h] = p.resize === null ? [width, height] : resizedSize(width, height, p.resize);
  if (w < 1 || h < 1) throw new ShapeError(`the image is ${width}×${height}; resizing its shorter side to ${p.resize} leaves nothing`, { file: name });
  let source: CanvasImageSource = bitmap;
  if (p.channels === 1) {
    const full = context2d(width, height);
    full.drawImage(bitmap, 0, 0);
    const rgba = full.getImageData(0, 0, width, height).data;
    const grey = new Uint8Array(width * height);
    rgbToLuma(grey, rgbOf(rgba));
    if (w === width && h === height) {
      bitmap.close();
      return checkSize({ pixels: grey, width, height, channels: 1 }, name, p);
    }
    for (let i = 0; i < grey.length; i++) {
      rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = grey[i];
      rgba[4 * i + 3] = 255;
    }
    full.putImageData(new ImageData(rgba, width, height), 0, 0);
    source = full.canvas;
  }
  const out = context2d(w, h);
  out.imageSmoothingEnabled = true;
  out.imageSmoothingQuality = 'high';
  out.drawImage(source, 0, 0, w, h);
  bitmap.close();
  const rgba = out.getImageData(0, 0, w, h).data;
  if (p.channels === 3) return checkSize({ pixels: rgbOf(rgba), width: w, height: h, channels: 3 }, name, p);
  const grey = new Uint8Array(w * h);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[4 * i];
  return checkSize({ pixels: grey, width: w, height: h, channels: 1 }, name, p);
}

function rgbOf(rgba: Uint8ClampedArray): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

function checkSize(image: RawImage, name: string, p: ImagePreprocessing): RawImage {
  const small = imageTooSmall(image.width, image.height, p);
  if (small) throw new ShapeError(small, { file: name, hint: p.resize === null ? 'pick a preprocessing preset that resizes' : 'pick a smaller crop' });
  return image;
}

/**
 * Picked image files as NCHW float32 batches for a model input, exactly the CLI's image folder
 * (`openImageFolder`) except for decoding and resizing: the same preprocessing decisions, the same
 * sample for a `limit` (seeded rank, classes interleaved; seed 0 = the CLI's default `--seed`),
 * the same crop and normalisation. Decodes one batch at a time.
 */
export function imagesSource(
  picked: readonly PickedImage[],
  name: string,
  preprocess: ImagePreprocessOptions,
  input: ValueInfo,
  seed = 0,
): BatchSource & { samples: number; preprocessing: ImagePreprocessing } {
  if (preprocess.preset === undefined && preprocess.mean === undefined)
    throw new InvalidArgumentError(`${name}: say how its images become model inputs`, { hint: 'pick a preprocessing preset (mnist, cifar, imagenet or none)' });
  const listing = listPickedImages(picked, name);
  const p = resolveImagePreprocessing(preprocess, input, name);
  const tables = normalizeTable(p);
  const per = p.channels * p.size[0] * p.size[1];
  const samples = listing.files.reduce((n, f) => n + f.length, 0);
  const byPath = new Map(listing.files.flat().map((f) => [f.path, f.file]));
  const paths = { files: listing.files.map((g) => g.map((f) => f.path)) };
  return {
    samples,
    preprocessing: p,
    info: { spec: name, numClasses: listing.classNames ? listing.classNames.length : null },
    async *batches({ batchSize, limit }): AsyncGenerator<Batch> {
      const items = selectFolderItems(paths, Math.min(limit ?? samples, samples), seed);
      for (let start = 0; start < items.length; start += batchSize) {
        const chunk = items.slice(start, start + batchSize);
        const x = new Float32Array(chunk.length * per);
        await Promise.all(
          chunk.map(async (item, i) => writeSample(x, i * per, await decodeImageFile(byPath.get(item.file)!, `${name}/${item.file}`, p), p, tables)),
        );
        const batch: Batch = { x: tensor('float32', [chunk.length, p.channels, ...p.size], x) };
        if (listing.layout === 'classes') batch.y = BigInt64Array.from(chunk, (item) => BigInt(item.label));
        yield batch;
      }
    },
  };
}
