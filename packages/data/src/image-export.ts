import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { FormatError, InvalidArgumentError, ZipitError } from '@zipit/core';
import { BUILTIN_DATASETS, IMAGE_SIZE, type Split } from './builtin.js';
import { readBuiltinImages } from './builtin-dataset.js';
import type { RawImage } from './image-preprocess.js';
import type { BuiltinSpec } from './spec.js';

export type ExportFormat = 'png' | 'jpeg' | 'webp';

export interface ExportImagesOptions {
  /** Split when the spec names none (default `test`). */
  defaultSplit?: Split;
  /** Images per class (default: all of the split). */
  perClass?: number;
  /** File format (default png: lossless, so the folder reproduces the built-in data exactly). */
  format?: ExportFormat;
  /** JPEG/WebP quality 1–100 (default 90). */
  quality?: number;
  signal?: AbortSignal;
  onProgress?: (written: number, total: number) => void;
}

/** Encodes interleaved 8-bit pixels (1 channel: grey, 3: RGB) as an image file with sharp. */
export async function writeImageFile(path: string, image: RawImage, format: ExportFormat, quality = 90): Promise<void> {
  const img = sharp(Buffer.from(image.pixels.buffer, image.pixels.byteOffset, image.pixels.byteLength), {
    raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 },
  }).toColourspace(image.channels === 1 ? 'b-w' : 'srgb');
  await (format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality }) : img.webp({ quality })).toFile(path);
}

export interface ExportSummary {
  dir: string;
  /** Class folder names (the original class numbers), with the images written to each. */
  classes: { name: string; images: number }[];
}

/**
 * Writes images of a built-in dataset as an ImageFolder tree: `DIR/<class>/<class>_<index>.<ext>`,
 * 28×28 grey, one folder per class named after its original class number (so `DIR:5-9` selects
 * what `mnist:5-9` does, and sorted folder names are the class order). The first `perClass`
 * images of each class in the split, in package order. Written to a sibling temporary folder and
 * renamed at the end: an error or interruption leaves nothing behind, and an existing non-empty
 * `dir` is refused.
 */
export async function exportBuiltinImages(spec: BuiltinSpec, dir: string, opts: ExportImagesOptions = {}): Promise<ExportSummary> {
  const dataset = BUILTIN_DATASETS[spec.dataset];
  const split = spec.split ?? opts.defaultSplit ?? 'test';
  const format = opts.format ?? 'png';
  const quality = opts.quality ?? 90;
  if (!['png', 'jpeg', 'webp'].includes(format)) throw new InvalidArgumentError(`unknown image format "${format}" (png, jpeg or webp)`);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new InvalidArgumentError(`quality must be an integer 1–100, got ${quality}`);
  const available = spec.classes.map((c) => {
    const [a, b] = dataset.range(c, split);
    return b - a;
  });
  const perClass = opts.perClass ?? Infinity;
  if (perClass !== Infinity && (!Number.isInteger(perClass) || perClass < 1))
    throw new InvalidArgumentError(`images per class must be a positive integer, got ${perClass}`);
  const wanted = available.map((n) => Math.min(n, perClass));
  const total = wanted.reduce((a, b) => a + b, 0);

  const target = resolve(dir);
  const kind = await stat(target).catch(() => null);
  if (kind && !kind.isDirectory())
    throw new InvalidArgumentError(`exists and is not a folder; nothing was written`, { file: dir, hint: 'choose a new folder' });
  const existing = await readdir(target).catch(() => null);
  if (existing && existing.length > 0)
    throw new InvalidArgumentError(`${dir} exists and is not empty; nothing was written`, { file: dir, hint: 'choose a new folder' });
  const temp = join(dirname(target), `.${target.split(/[\\/]/).pop()}.partial-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  const names = spec.classes.map(String);
  try {
    for (const name of names) await mkdir(join(temp, name), { recursive: true });
    const written = names.map(() => 0);
    let done = 0;
    const ext = format === 'jpeg' ? 'jpg' : format;
    const pending: Promise<unknown>[] = [];
    for await (const { image, label } of readBuiltinImages(dataset, spec.classes, split)) {
      if (written[label] >= wanted[label]) {
        if (done === total) break;
        continue;
      }
      opts.signal?.throwIfAborted();
      const file = join(temp, names[label], `${names[label]}_${String(written[label]++).padStart(5, '0')}.${ext}`);
      const write = writeImageFile(file, { pixels: image, width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 1 }, format, quality);
      write.catch(() => undefined);
      pending.push(write);
      done++;
      if (pending.length >= 32) await Promise.all(pending.splice(0));
      opts.onProgress?.(done, total);
      if (done === total) break;
    }
    await Promise.all(pending);
    if (existing) await rm(target, { recursive: true });
    await mkdir(dirname(target), { recursive: true });
    await rename(temp, target);
    return { dir, classes: names.map((name, k) => ({ name, images: written[k] })) };
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (e instanceof ZipitError || !code || opts.signal?.aborted) throw e;
    throw new FormatError(`cannot write the images (${code}); nothing was written`, {
      file: dir,
      hint: 'check that the folder is writable and the disk has space',
      cause: e,
    });
  }
}
