import { ShapeError, type Dim, type ValueInfo } from '@zipit/core';
import { IMAGE_SIZE } from './builtin.js';
import type { DatasetInfo } from './dataset.js';
import type { PreprocessOptions } from './preprocess.js';

/**
 * Checks that a dataset's samples fit a model input: the input is [batch, …sample] where every
 * fixed dimension equals the sample's (symbolic or unknown dimensions accept anything). Throws a
 * ShapeError naming the dataset, the input and both shapes.
 */
export function checkSampleShape(info: DatasetInfo, input: ValueInfo, file?: string): void {
  const shape = input.shape;
  if (shape === null) return;
  const sample = info.sampleShape;
  const fits = shape.length === sample.length + 1 && sample.every((d, i) => !isFixed(shape[i + 1]) || shape[i + 1] === d);
  if (fits) return;
  const hint =
    info.kind === 'npy'
      ? `save the images as [N, ${shape.slice(1).map(showDim).join(', ')}] float32`
      : 'built-in images are 28×28 grey, padded to a square size and replicated to the input channels';
  throw new ShapeError(
    `dataset ${info.spec} gives samples of shape [${sample.join(', ')}] but model input "${input.name}" is [${shape.map(showDim).join(', ')}]`,
    { file, hint },
  );
}

/**
 * Preprocessing that turns the built-in 28×28 images into samples for an NCHW input
 * [batch, C, S, S] (S ≥ 28): C channels, padded to S. A ShapeError naming the input otherwise.
 */
export function preprocessingForInput(input: ValueInfo, dataset: string): PreprocessOptions {
  const shape = input.shape;
  if (shape === null) return {};
  const [, c, h, w] = shape;
  const problem =
    shape.length !== 4
      ? `it has rank ${shape.length}, not 4 (NCHW images)`
      : !isFixed(c) || !isFixed(h) || !isFixed(w)
        ? 'its channels, height and width must be fixed numbers'
        : h !== w
          ? 'it is not square'
          : h < IMAGE_SIZE || (h - IMAGE_SIZE) % 2 !== 0
            ? `${IMAGE_SIZE}×${IMAGE_SIZE} images cannot be padded symmetrically to ${h}×${w}`
            : (c as number) * (h as number) * (w as number) > MAX_SAMPLE_VALUES
              ? `${c}×${h}×${w} values per image is more than the ${MAX_SAMPLE_VALUES} (256 MB of float32) that can be allocated`
              : null;
  if (problem) {
    throw new ShapeError(
      `dataset ${dataset} gives ${IMAGE_SIZE}×${IMAGE_SIZE} grey images, which do not fit model input "${input.name}" [${shape.map(showDim).join(', ')}]: ${problem}`,
    );
  }
  return { channels: c as number, size: h as number };
}

/** Largest image (values per sample) a batch is built for; a larger declared input cannot be allocated. */
const MAX_SAMPLE_VALUES = 2 ** 26;

function isFixed(d: Dim | undefined): d is number {
  return typeof d === 'number' && d > 0;
}

function showDim(d: Dim): string {
  return d === null ? '?' : String(d);
}
