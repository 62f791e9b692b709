import type { ValueInfo } from '@zipit/core';
import type { Split } from './builtin.js';
import { openBuiltinDataset } from './builtin-dataset.js';
import { openImageFolder } from './image-folder-dataset.js';
import type { ImagePreprocessOptions } from './image-preprocess.js';
import type { Dataset } from './dataset.js';
import { checkSampleShape, preprocessingForInput } from './input-shape.js';
import { openNpyDataset } from './npy-dataset.js';
import type { PreprocessOptions } from './preprocess.js';
import { parseDatasetSpec, type DatasetSpec } from './spec.js';

export interface OpenDatasetOptions {
  /**
   * The split of a built-in dataset when the spec names none. Callers choose what fits their
   * job: merging and statistics use `train`, evaluation uses `test`.
   */
  defaultSplit: Split;
  /**
   * The model input the data is for. Built-in images are then preprocessed to its channels and
   * size (unless `preprocess` says otherwise), and every dataset's sample shape is checked
   * against it (a ShapeError naming both when they do not fit).
   */
  input?: ValueInfo;
  /** Preprocessing of built-in images (size, channels, mean, std); ignored for `.npy` data. */
  preprocess?: PreprocessOptions;
  /** Directory that relative `.npy` paths and folders resolve against (default: the working directory). */
  baseDir?: string;
  /**
   * Preprocessing of image-folder files (preset, resize, crop, mean, std); ignored for other
   * data. Folders need it: there is no safe default for files of unknown origin.
   */
  images?: ImagePreprocessOptions;
  /** Seed of the per-class sample an image folder draws for a pass with a `limit` (default 0). */
  seed?: number;
}

/** Opens a dataset from a spec (see `parseDatasetSpec` for the forms). */
export async function openDataset(spec: string | DatasetSpec, opts: OpenDatasetOptions): Promise<Dataset> {
  const parsed = typeof spec === 'string' ? parseDatasetSpec(spec) : spec;
  let dataset: Dataset;
  if (parsed.kind === 'npy') {
    dataset = await openNpyDataset(parsed, { baseDir: opts.baseDir });
  } else if (parsed.kind === 'folder') {
    dataset = await openImageFolder(parsed, { input: opts.input, preprocess: opts.images, seed: opts.seed, baseDir: opts.baseDir });
  } else {
    const fromInput = opts.input ? preprocessingForInput(opts.input, parsed.text) : {};
    dataset = openBuiltinDataset(parsed, { defaultSplit: opts.defaultSplit, preprocess: { ...fromInput, ...opts.preprocess } });
  }
  if (opts.input) checkSampleShape(dataset.info, opts.input);
  return dataset;
}
