import { InvalidArgumentError } from '@zipit/core';
import { parseDatasetSpec, PRESET_NAMES, type ImagePreprocessOptions, type PresetName } from '@zipit/data';
import { parseNumberList, parseNumberOption, RANGES, UsageError } from './options.js';

/**
 * The data options every command that runs models shares: batch size, the seed of per-class
 * samples, and how image-folder files become model inputs. Spread `DATA_OPTIONS` into a
 * command's parseArgs options and read them with `parseDataOptions`.
 */
export const DATA_OPTIONS = {
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  preprocess: { type: 'string' },
  resize: { type: 'string' },
  crop: { type: 'string' },
  mean: { type: 'string' },
  std: { type: 'string' },
} as const;

/** Help lines for `DATA_OPTIONS` (indented like the commands' option lists). */
export const DATA_OPTIONS_HELP = `  --batch-size N      images per onnxruntime run (default 64; lower it for large models)
  --seed S            which images a --samples draw takes from image folders (default 0)
  --preprocess P      image folders: ${PRESET_NAMES.join('|')} (torchvision Resize + CenterCrop +
                      ToTensor + Normalize; mnist pads 28×28 to the input like the built-in specs)
  --resize N          image folders: shorter side after resizing (0: none; overrides the preset)
  --crop N|HxW        image folders: centre crop (default: the preset's, else the model input)
  --mean M[,M,M]      image folders: per-channel mean of pixels in [0, 1] (overrides the preset)
  --std S[,S,S]       image folders: per-channel standard deviation (overrides the preset)`;

export interface DataOptions {
  batchSize: number;
  seed: number;
  images: ImagePreprocessOptions;
}

type Values = { [K in keyof typeof DATA_OPTIONS]?: string };

/** Reads `DATA_OPTIONS`; refusals name the flag. */
export function parseDataOptions(values: Values): DataOptions {
  const batchSize = parseNumberOption(values['batch-size'], '--batch-size', RANGES.batchSize, 64);
  const seed = parseNumberOption(values.seed, '--seed', { integer: true, min: 0, max: 2 ** 32 - 1 }, 0);
  const images: ImagePreprocessOptions = {};
  if (values.preprocess !== undefined) {
    if (!(PRESET_NAMES as string[]).includes(values.preprocess))
      throw new InvalidArgumentError(`--preprocess must be one of ${PRESET_NAMES.join(', ')}, got "${values.preprocess}"`);
    images.preset = values.preprocess as PresetName;
  }
  if (values.resize !== undefined) images.resize = parseNumberOption(values.resize, '--resize', { integer: true, min: 0, max: 65536 });
  if (values.crop !== undefined) {
    const m = /^(\d+)(?:[x×](\d+))?$/.exec(values.crop.trim());
    if (!m) throw new InvalidArgumentError(`--crop expects N or HxW (e.g. 224 or 224x192), got "${values.crop}"`);
    const h = parseNumberOption(m[1], '--crop', { integer: true, min: 1, max: 65536 });
    images.crop = [h, m[2] === undefined ? h : parseNumberOption(m[2], '--crop', { integer: true, min: 1, max: 65536 })];
  }
  if (values.mean !== undefined) images.mean = parseNumberList(values.mean, '--mean', {}, []);
  if (values.std !== undefined) images.std = parseNumberList(values.std, '--std', { min: 0, minExclusive: true }, []);
  return { batchSize, seed, images };
}

/**
 * Image folders have no safe default preprocessing (a model trained on ImageNet statistics fed
 * raw pixels still runs, and silently gets the accuracy wrong): they need --preprocess or
 * --mean/--std. A UsageError naming the first folder spec otherwise.
 */
export function requireImagePreprocessing(specs: readonly string[], opts: DataOptions): void {
  if (opts.images.preset !== undefined || (opts.images.mean !== undefined && opts.images.std !== undefined)) return;
  const folder = specs.find((s) => parseDatasetSpec(s).kind === 'folder');
  if (folder !== undefined) {
    throw new UsageError(
      `${folder} is an image folder: say how its images become model inputs with --preprocess ${PRESET_NAMES.join('|')} (or --mean and --std)`,
    );
  }
}

/** `--task NAME=SPEC` values as {name, spec}; a UsageError for one without a name. */
export function parseTaskOptions(items: readonly string[]): { name: string; spec: string }[] {
  return items.map((t) => {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`--task expects NAME=SPEC, got "${t}"`);
    return { name: t.slice(0, eq), spec: t.slice(eq + 1) };
  });
}
