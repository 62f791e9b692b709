import { basename } from 'node:path';
import { attachFile, detectArchitecture, inlineParameters, InvalidArgumentError, NotFoundError, tensor, type ArchitectureRegistry, type Graph, type MergeGraph, type Tensor, type ValueInfo } from '@zipit/core';
import { openDataset, parseDatasetSpec, type Dataset, type Split } from '@zipit/data';
import type { Batches } from '@zipit/pipeline';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { prepareModels, type ModelInput } from '@zipit/pipeline';
import { builtinArchitectures } from './architectures.js';
import { withSymbolicBatch } from './fixed-batch.js';

/** A model as loaded for merging; `batch` is the fixed batch it was exported with (null: symbolic). */
export type LoadedModel = ModelInput & { batch: number | null };

/**
 * Reads the models, with parameters that the exporter wrote as nodes turned back into
 * initializers and a fixed batch axis made symbolic (`withSymbolicBatch`); names come from file
 * names (`a.onnx` → `a`), made unique.
 */
export async function loadModels(files: readonly string[]): Promise<LoadedModel[]> {
  const taken = new Set<string>();
  const out: LoadedModel[] = [];
  for (const file of files) {
    const { graph, batch } = await withSymbolicBatch(inlineParameters(await readOnnxFile(file)), file);
    const base = basename(file).replace(/\.onnx$/i, '');
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    out.push({ name, graph, file, batch });
  }
  return out;
}

/** Models ready to merge: prepared by the architecture plugin that recognises them, if any. */
export interface MergeInputs {
  models: ModelInput[];
  mergeGraph: MergeGraph;
  /** The recognising plugin's variant (e.g. `resnet20`), or null when the merge graph was derived. */
  architecture: string | null;
  /**
   * The fixed batch every input was exported with, which the merged model keeps; null when some
   * input has a symbolic batch (then so does the merged model).
   */
  batch: number | null;
}

/**
 * Loads the models to merge and settles their merge graph the way `zipit inspect` shows it:
 * the first architecture plugin that recognises model 0 prepares every model and declares the
 * graph; otherwise it is derived from the ONNX graph. Errors name the first model's file.
 */
export async function loadForMerge(files: readonly string[], registry: ArchitectureRegistry = builtinArchitectures()): Promise<MergeInputs> {
  const loaded = await loadModels(files);
  let found: ReturnType<typeof detectArchitecture> | undefined;
  try {
    found = detectArchitecture(registry, loaded[0].graph, files[0]);
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
  const models = found?.arch.prepare ? loaded.map((m) => ({ ...m, graph: found!.arch.prepare!(m.graph) })) : loaded;
  try {
    const mergeGraph = prepareModels(models, found?.arch.mergeGraph(models[0].graph));
    const batch = loaded.every((m) => m.batch !== null && m.batch === loaded[0].batch) ? loaded[0].batch : null;
    return { models, mergeGraph, architecture: found?.variant ?? null, batch };
  } catch (e) {
    throw attachFile(e, files[0]);
  }
}

/** Opens every spec for a model input, with the split used when a spec names none. */
export async function openAll(specs: readonly string[], input: ValueInfo, defaultSplit: Split): Promise<Dataset[]> {
  return Promise.all(specs.map((s) => openDataset(s, { defaultSplit, input })));
}

/**
 * Mixes several datasets sample-wise: every batch holds about batchSize/N samples of each of
 * the N datasets (fewer once one runs out), taking up to `limit` samples from each (undefined:
 * all). Mixed batches matter for BatchNorm re-estimation, which normalises each batch by its
 * own statistics: a batch from one task alone would miss the spread between tasks.
 */
export function interleave(datasets: readonly Dataset[], batchSize: number, limit?: number): () => Batches {
  const per = Math.max(1, Math.ceil(batchSize / datasets.length));
  return () => ({
    async *[Symbol.asyncIterator]() {
      const its = datasets.map((d) => d.batches({ batchSize: per, limit })[Symbol.asyncIterator]());
      const live = new Set(its.keys());
      try {
        while (live.size) {
          const parts: Tensor<'float32'>[] = [];
          for (const k of [...live]) {
            const r = await its[k].next();
            if (r.done) live.delete(k);
            else parts.push(r.value.x);
          }
          if (parts.length) yield { x: concatBatches(parts) };
        }
      } finally {
        await Promise.all(its.map((it) => it.return?.()));
      }
    },
  });
}

/** Concatenates NCHW (or any [B, …]) float32 batches along the batch axis. */
function concatBatches(parts: readonly Tensor<'float32'>[]): Tensor<'float32'> {
  if (parts.length === 1) return parts[0];
  const rows = parts.reduce((n, t) => n + t.shape[0], 0);
  const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
  let at = 0;
  for (const t of parts) {
    data.set(t.data, at);
    at += t.data.length;
  }
  return tensor('float32', [rows, ...parts[0].shape.slice(1)], data);
}

/** One dataset as labelled batches. */
export function labelled(dataset: Dataset, batchSize: number, limit?: number): () => Batches {
  return () => dataset.batches({ batchSize, limit });
}

/** Canonical spec of a dataset as evaluated on its test split (built-in) or as given (.npy). */
export function testSpec(spec: string): string {
  const p = parseDatasetSpec(spec);
  if (p.kind === 'npy') return spec;
  return `${p.dataset}:${p.classes.join(',')}:test`;
}

/**
 * The output that answers each model's task in a merged (or ensemble) graph: the model's first
 * output. Models with several outputs are evaluated on their first one.
 */
export function taskOutputs(outputs: readonly { model: string; value: string }[], models: readonly { name: string }[]): string[] {
  return models.map((m) => {
    const o = outputs.find((x) => x.model === m.name);
    if (!o) throw new InvalidArgumentError(`the merged model has no output for ${m.name}`);
    return o.value;
  });
}

/** True when every spec is a built-in dataset, which has a test split to evaluate on. */
export function hasTestSplits(specs: readonly string[]): boolean {
  return specs.every((s) => parseDatasetSpec(s).kind === 'builtin');
}
