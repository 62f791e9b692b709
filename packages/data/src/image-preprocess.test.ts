import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeNpy, InvalidArgumentError, ShapeError, type ValueInfo } from '@zipit/core';
import { decodeImage } from './image-decode.js';
import {
  centerCropOffset,
  normalizeTable,
  resizedSize,
  resolveImagePreprocessing,
  rgbToLuma,
  writeSample,
  type ImagePreprocessing,
} from './image-preprocess.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const input = (shape: (number | string | null)[]): ValueInfo => ({ name: 'input', dtype: 'float32', shape });

/** The configurations of scripts/make-preprocess-fixtures.py, as this package resolves them. */
const CONFIGS: Record<string, ImagePreprocessing> = {
  rgb36c32: resolveImagePreprocessing({ preset: 'cifar', resize: 36 }, input([1, 3, 32, 32]), 'fixtures'),
  grey28: resolveImagePreprocessing({ preset: 'mnist' }, input([1, 1, 28, 28]), 'fixtures'),
  imagenet: resolveImagePreprocessing({ preset: 'imagenet' }, input([1, 3, 224, 224]), 'fixtures'),
};

/**
 * The tolerance the README states, in 8-bit levels of the resized image (1 level = 1/255 before
 * normalisation): resampling that stays within libvips' exact path (enlarging, shrinking up to
 * 4×) is within 2 levels of PIL; shrinking further (libvips box-prefilters) and a grey JPEG
 * decoded by a different libjpeg stay within 8. The mean over all references is 0.25 level.
 */
function allowedLevels(image: string, config: string): number {
  const far = image.startsWith('photo-') && config !== 'imagenet';
  return far || image === 'grey-45x45.jpg' ? 8 : 2;
}

describe('image preprocessing matches torchvision (PIL) on the committed images', () => {
  const manifest = JSON.parse(readFileSync(`${FIXTURES}reference/manifest.json`, 'utf8')) as { references: { image: string; config: string; file: string }[] };
  let levelSum = 0;
  let values = 0;

  it.each(manifest.references.map((r) => [r.image, r.config, r.file]))('%s with %s', async (image, config, file) => {
    const p = CONFIGS[config];
    const ref = decodeNpy(readFileSync(`${FIXTURES}reference/${file}`)).data as Float32Array;
    const out = new Float32Array(ref.length);
    writeSample(out, 0, await decodeImage(`${FIXTURES}images/${image}`, image, p), p, normalizeTable(p));
    const plane = p.size[0] * p.size[1];
    let worst = 0;
    for (let i = 0; i < out.length; i++) {
      const levels = Math.abs(out[i] - ref[i]) * p.std[Math.floor(i / plane)] * 255;
      worst = Math.max(worst, levels);
      levelSum += levels;
    }
    values += out.length;
    expect(worst).toBeLessThanOrEqual(allowedLevels(image, config) + 1e-3);
  });

  it('differs from the references by about ¼ level on average (under 0.3)', () => {
    expect(values).toBeGreaterThan(0);
    expect(levelSum / values).toBeLessThan(0.3);
  });

  it('is exact when nothing is resampled (a 28×28 grey PNG through the mnist preset)', async () => {
    const p = CONFIGS.grey28;
    const ref = decodeNpy(readFileSync(`${FIXTURES}reference/grey-28x28.png.grey28.npy`)).data as Float32Array;
    const out = new Float32Array(ref.length);
    writeSample(out, 0, await decodeImage(`${FIXTURES}images/grey-28x28.png`, 'grey-28x28.png', p), p, normalizeTable(p));
    expect(out).toEqual(ref);
  });
});

describe('torchvision geometry', () => {
  it('Resize(int) sets the shorter side and truncates the longer one', () => {
    expect(resizedSize(300, 260, 256)).toEqual([295, 256]);
    expect(resizedSize(50, 70, 36)).toEqual([36, 50]);
    expect(resizedSize(28, 28, 32)).toEqual([32, 32]);
  });

  it('CenterCrop rounds the offset half to even, as Python does', () => {
    expect(centerCropOffset(33, 32)).toBe(0); // round(0.5) = 0
    expect(centerCropOffset(35, 32)).toBe(2); // round(1.5) = 2
    expect(centerCropOffset(256, 224)).toBe(16);
  });

  it('pads a crop smaller than the input with zeros (before normalisation), centred', () => {
    const p = resolveImagePreprocessing({ preset: 'mnist' }, input([1, 1, 32, 32]), 'digits');
    expect(p).toMatchObject({ crop: [28, 28], size: [32, 32], channels: 1 });
    const image = { pixels: new Uint8Array(28 * 28).fill(255), width: 28, height: 28, channels: 1 };
    const out = new Float32Array(32 * 32);
    writeSample(out, 0, image, p, normalizeTable(p));
    const zero = Math.fround(Math.fround(0 - Math.fround(0.1307)) / Math.fround(0.3081));
    expect(out[0]).toBe(zero);
    expect(out[2 * 32 + 1]).toBe(zero);
    expect(out[2 * 32 + 2]).toBe(Math.fround(Math.fround(1 - Math.fround(0.1307)) / Math.fround(0.3081)));
    expect(out[29 * 32 + 30]).toBe(zero);
  });

  it("converts RGB to grey with Pillow's fixed-point luma", () => {
    const out = new Uint8Array(3);
    rgbToLuma(out, new Uint8Array([255, 0, 0, 0, 255, 0, 10, 20, 30]));
    expect([...out]).toEqual([76, 150, 18]);
  });
});

describe('resolveImagePreprocessing', () => {
  it('takes the crop from the model input unless told, and the preset statistics per channel', () => {
    expect(resolveImagePreprocessing({}, input([1, 3, 64, 48]), 'd')).toMatchObject({
      resize: null,
      crop: [64, 48],
      size: [64, 48],
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    expect(resolveImagePreprocessing({ preset: 'imagenet', resize: 0, crop: 8, mean: 0.5 }, input([1, 3, 8, 8]), 'd')).toMatchObject({
      resize: null,
      crop: [8, 8],
      mean: [0.5, 0.5, 0.5],
    });
    expect(resolveImagePreprocessing({ preset: 'cifar' }, input([1, 1, 32, 32]), 'd').mean[0]).toBeCloseTo(0.299 * 0.4914 + 0.587 * 0.4822 + 0.114 * 0.4465);
    expect(resolveImagePreprocessing({ crop: [20, 10] }, input(['batch', 3, 'h', 'w']), 'd')).toMatchObject({ crop: [20, 10], size: [20, 10] });
  });

  it('names the input when it cannot be fed', () => {
    expect(() => resolveImagePreprocessing({ preset: 'imagenet' }, input([1, 3, 32, 32]), 'pets')).toThrow(ShapeError);
    expect(() => resolveImagePreprocessing({}, input([1, 4, 32, 32]), 'pets')).toThrow(/takes 4 channels/);
    expect(() => resolveImagePreprocessing({}, input([1, 3, 'h', 'w']), 'pets')).toThrow(/--crop/);
    expect(() => resolveImagePreprocessing({ mean: [1, 2] }, input([1, 3, 32, 32]), 'pets')).toThrow(InvalidArgumentError);
    expect(() => resolveImagePreprocessing({ std: 0 }, input([1, 3, 32, 32]), 'pets')).toThrow(/--std/);
    expect(() => resolveImagePreprocessing({ preset: 'vgg' as never }, input([1, 3, 32, 32]), 'pets')).toThrow(/imagenet, cifar, mnist, none/);
  });
});
