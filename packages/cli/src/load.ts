import {
  alignNames,
  fixBatch,
  foldConstants,
  InvalidArgumentError,
  MismatchError,
  type ArchitectureRegistry,
  type OperatorRegistry,
  type ValueInfo,
} from '@zipit/core';
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
 * different batches are refused. Models that were not bound are then the dynamic export of
 * what the bound ones fixed (`bindToBatch`). Names come from file names (`a.onnx` → `a`), made
 * unique. Each file is read in the registered format that recognises it (`readModelFile`);
 * `operators` infer the shapes that constant folding reads.
 */
export async function loadModels(files: readonly string[], operators: OperatorRegistry = plugins.operators): Promise<LoadedModel[]> {
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
  if (out.every((m) => m.bound)) return out;
  return bindToBatch(out, b, operators);
}

/**
 * Binds the models that were not bound to the batch `b` of the bound ones, so that they are one
 * architecture. A fixed-batch export that bakes its batch in (torchvision's ViT: Reshape to
 * constants `[65, 1·heads, 16]`) and a `dynamic_axes` export of the same model differ only in
 * how they get those constants: the dynamic one computes them (`Shape → Gather → Unsqueeze →
 * Concat`). Fixed to batch `b`, that arithmetic is constant: every model has it folded
 * (`foldConstants`, the bound ones too, whose exporter leaves some `Shape` chains), and then the
 * formerly dynamic ones carry the bound reference's names (`alignNames`: PyTorch numbers values
 * per scope, `Concat_2` vs `Concat`). Refused, naming both files and the first difference, when
 * they are not one computation after that.
 */
function bindToBatch(models: LoadedModel[], b: number, operators: OperatorRegistry): LoadedModel[] {
  const folded = models.map((m) => ({ ...m, graph: foldConstants(m.bound ? m.graph : fixBatch(m.graph, b), operators) }));
  const reference = folded.find((m) => m.bound)!;
  return folded.map((m) => {
    if (m.bound) return m;
    const aligned = alignNames(reference.graph, m.graph);
    if (aligned.difference) {
      throw new MismatchError(
        `${reference.file} computes with its fixed batch of ${b} and ${m.file} is not the same architecture bound to that batch (its shape arithmetic folded): ${aligned.difference.message}`,
        {
          file: m.file,
          node: aligned.difference.node,
          hint: 'ZipIt merges models of one architecture; export both with or both without dynamic_axes if they are one',
        },
      );
    }
    return { ...m, graph: aligned.graph };
  });
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
  const loaded = await loadModels(files, operators);
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
