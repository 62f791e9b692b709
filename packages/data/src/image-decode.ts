import sharp, { type OutputInfo } from 'sharp';
import { FormatError, NotFoundError, ShapeError } from '@zipit/core';
import { imageTooSmall, resizedSize, rgbToLuma, type ImagePreprocessing, type RawImage } from './image-preprocess.js';

/** File extensions read as images (lower case), as torchvision's IMG_EXTENSIONS minus the formats sharp lacks. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const;

/** True when a file name has one of {@link IMAGE_EXTENSIONS} (any case). */
export function isImageFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && (IMAGE_EXTENSIONS as readonly string[]).includes(name.slice(dot).toLowerCase());
}

/**
 * Decodes an image file with sharp (libvips) into the model's channels at the resized size,
 * ready for {@link writeSample}:
 *
 * 1. decode at full resolution, drop any alpha channel and convert to sRGB — PIL's
 *    `convert('RGB')`, which is what ImageFolder's loader does (no alpha compositing; libvips
 *    would premultiply alpha if it were resized with it, so the alpha goes first);
 * 2. for a one-channel model, PIL's `convert('L')` luma (torchvision's Grayscale) before resizing;
 * 3. resize the shorter side as PIL's BILINEAR (torchvision's default) does: shrinking with
 *    libvips' linear (triangle) kernel widened by the scale (antialiased, as PIL's); enlarging
 *    with libvips' bilinear interpolator on pixel centres over edge-replicated borders.
 *
 * `path` is read; `name` is what errors show. Throws a FormatError naming the file for a
 * corrupt or unsupported image, a ShapeError for an image smaller than the crop.
 */
export async function decodeImage(path: string, name: string, p: ImagePreprocessing): Promise<RawImage> {
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await sharp(path, { failOn: 'error', sequentialRead: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError(e, name);
  }
  const { width, height } = decoded.info;
  let pixels = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
  if (decoded.info.channels !== 3) throw new FormatError(`decoded to ${decoded.info.channels} channels, expected RGB`, { file: name });
  if (p.channels === 1) {
    const grey = new Uint8Array(width * height);
    rgbToLuma(grey, pixels);
    pixels = grey;
  }
  let image: RawImage = { pixels, width, height, channels: p.channels };
  if (p.resize !== null) {
    const [w, h] = resizedSize(width, height, p.resize);
    if (w !== width || h !== height) {
      if (w < 1 || h < 1) throw new ShapeError(`the image is ${width}×${height}; resizing its shorter side to ${p.resize} leaves nothing`, { file: name });
      image = w > width || h > height ? await enlarge(image, w, h) : await shrink(image, w, h);
    }
  }
  const small = imageTooSmall(image.width, image.height, p);
  if (small)
    throw new ShapeError(small, {
      file: name,
      hint: p.resize === null ? `give --resize ${Math.max(...p.crop)} or a --preprocess preset that resizes` : 'use a smaller --crop',
    });
  return image;
}

/**
 * Shrinks with libvips' `resize` and the linear kernel. Up to 4× this matches PIL within ±2
 * levels; beyond, libvips box-shrinks by an integer factor first (its `gap` of 2), which
 * drifts further (±11 levels at 15×, mean ±2).
 */
async function shrink(image: RawImage, w: number, h: number): Promise<RawImage> {
  const { data, info } = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 } })
    .resize(w, h, { kernel: 'linear', fit: 'fill' })
    .toColourspace(image.channels === 1 ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
}

/**
 * Enlarges like PIL's bilinear: output pixel x samples input position (x + ½)·(in/out) − ½,
 * and positions outside the image take the nearest edge pixel (PIL renormalises its weights
 * there, which is the same). libvips' affine maps pixel corners and blends black in at the
 * border, so the image gets a one-pixel replicated border and the transform is offset by
 * half a pixel on both sides.
 */
async function enlarge(image: RawImage, w: number, h: number): Promise<RawImage> {
  const { width, height, channels } = image;
  const padded = padEdges(image);
  const sx = w / width;
  const sy = h / height;
  const { data, info } = await sharp(padded, { raw: { width: width + 2, height: height + 2, channels: channels as 1 | 3 } })
    .affine(
      [
        [sx, 0],
        [0, sy],
      ],
      { idx: -0.5, idy: -0.5, odx: -0.5, ody: -0.5, interpolator: sharp.interpolators.bilinear },
    )
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  if (info.width < w || info.height < h) throw new Error(`affine enlargement gave ${info.width}×${info.height}, expected at least ${w}×${h}`);
  const pixels = new Uint8Array(w * h * channels);
  const row = w * channels;
  for (let y = 0; y < h; y++) pixels.set(data.subarray(y * info.width * channels, y * info.width * channels + row), y * row);
  return { pixels, width: w, height: h, channels };
}

/** The image with a one-pixel border that repeats its edge pixels. */
function padEdges(image: RawImage): Uint8Array {
  const { pixels, width, height, channels } = image;
  const pw = width + 2;
  const out = new Uint8Array(pw * (height + 2) * channels);
  for (let y = 0; y < height + 2; y++) {
    const sy = Math.min(Math.max(y - 1, 0), height - 1);
    for (let x = 0; x < pw; x++) {
      const sx = Math.min(Math.max(x - 1, 0), width - 1);
      for (let c = 0; c < channels; c++) out[(y * pw + x) * channels + c] = pixels[(sy * width + sx) * channels + c];
    }
  }
  return out;
}

function decodeError(e: unknown, name: string): Error {
  const message = (e as Error).message ?? String(e);
  if (/no such file|ENOENT|not found|input file is missing/i.test(message) && !/unsupported|corrupt/i.test(message)) {
    return new NotFoundError(`cannot read the image (${firstLine(message)})`, { file: name, cause: e });
  }
  return new FormatError(`cannot decode the image: ${firstLine(message)}`, {
    file: name,
    cause: e,
    hint: 'the file is corrupt, truncated or not an image; remove it or re-save it as JPEG, PNG or WebP',
  });
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}
