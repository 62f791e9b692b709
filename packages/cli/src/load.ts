import { fixBatch, InvalidArgumentError, type ArchitectureRegistry, type OperatorRegistry, type ValueInfo } from '@zipit/core';
import { openDataset, parseDatasetSpec, type Dataset, type ImagePreprocessOptions, type Split } from '@zipit/data';
import { namedModels, prepareForMerge, type MergeInputs as PreparedInputs, type ModelInput } from '@zipit/pipeline';
import { readModelFile } from './model-files.js';
import { plugins } from './plugins.js';
import { settleBatch } from './fixed-batch.js';

/**
 * A model as loaded for merging; `batch` is the fixed batch it was exported with (null:
 * symbolic); `bound` when its graph keeps that batch because its computation depends on it.
 */
export type LoadedModel = ModelInput & { batch: number | null; bound: boolean };

/**
 * Reads the models, with parameters that the exporter wrote as nodes turned back into
 * initializers and a fixed batch axis made symbolic unless the computation depends on it
 * (`settleBatch`). When a model is bound to its fixed batch, every model gets that batch (they
 * run on the same batches; the pipeline's passes feed batches of that size); models bound to
 * different batches are refused. Names come from file names (`a.onnx` → `a`), made unique.
 * Each file is read in the registered format that recognises it (`readModelFile`).
 */
export async function loadModels(files: readonly string[]): Promise<LoadedModel[]> {
  const read: { file: string; graph: ModelInput['graph'] }[] = [];
  for (const file of files) read.push({ file, graph: (await readModelFile(file)).graph });
  const out: LoadedModel[] = [];
  for (const m of namedModels(read)) out.push({ ...m, ...(await settleBatch(m.graph)) });
  const bound = out.filter((m) => m.bound);
  if (bound.length === 0) return out;
  const b = bound[0].batch!;
  const other = bound.find((m) => m.batch !== b);
  if (other) {
    throw new InvalidArgumentError(
      `${bound[0].file} computes with a batch of ${b} and ${other.file} with a batch of ${other.batch}: they cannot run on the same batches`,
      {
        file: other.file,
        hint: 'export both with the same batch, or with dynamic_axes={"input": {0: "batch"}} (and the outputs likewise)',
      },
    );
  }
  return out.map((m) => (m.bound ? m : { ...m, graph: fixBatch(m.graph, b) }));
}

/** Models ready to merge (see the pipeline's `prepareForMerge`), with their batch axis. */
export interface MergeInputs extends PreparedInputs {
  /**
   * The fixed batch every input was exported with, which the merged model keeps; null when some
   * input has a symbolic batch (then so does the merged model). When an input's computation
   * depends on its fixed batch, that batch, and every model (the merged one too) is fixed to it.
   */
  batch: number | null;
}

/**
 * Loads the models to merge and settles their merge graph the way `zipit inspect` shows it:
 * the first architecture plugin that recognises model 0 prepares every model and declares the
 * graph; otherwise it is derived from the ONNX graph, following the registered operators
 * (`plugins.operators`). Errors name the first model's file.
 */
export async function loadForMerge(
  files: readonly string[],
  registry: ArchitectureRegistry = plugins.architectures,
  operators: OperatorRegistry = plugins.operators,
): Promise<MergeInputs> {
  const loaded = await loadModels(files);
  const { models, mergeGraph, architecture } = prepareForMerge(loaded, registry, operators);
  const bound = loaded.find((m) => m.bound);
  const batch = bound ? bound.batch : loaded.every((m) => m.batch !== null && m.batch === loaded[0].batch) ? loaded[0].batch : null;
  return { models, mergeGraph, architecture, batch };
}

/**
 * Opens every spec for a model input, with the split used when a spec names none; image folders
 * are preprocessed with `opts.images` and sampled with `opts.seed`.
 */
export async function openAll(
  specs: readonly string[],
  input: ValueInfo,
  defaultSplit: Split,
  opts: { images?: ImagePreprocessOptions; seed?: number } = {},
): Promise<Dataset[]> {
  return Promise.all(specs.map((s) => openDataset(s, { defaultSplit, input, images: opts.images, seed: opts.seed })));
}

/** Mixing merge data per batch, one dataset as labelled batches, the output per task: see `@zipit/pipeline`. */
export { interleave, labelled, taskOutputs } from '@zipit/pipeline';

/** Canonical spec of a dataset as evaluated on its test split (built-in) or as given (.npy). */
export function testSpec(spec: string): string {
  const p = parseDatasetSpec(spec);
  if (p.kind !== 'builtin') return spec;
  return `${p.dataset}:${p.classes.join(',')}:test`;
}

/** True when every spec is a built-in dataset, which has a test split to evaluate on. */
export function hasTestSplits(specs: readonly string[]): boolean {
  return specs.every((s) => parseDatasetSpec(s).kind === 'builtin');
}
