import { basename } from 'node:path';
import { inlineParameters, InvalidArgumentError, type Graph, type ValueInfo } from '@zipit/core';
import { openDataset, parseDatasetSpec, type Dataset, type Split } from '@zipit/data';
import { readOnnxFile, type Batches } from '@zipit/io-onnx';
import type { ModelInput } from '@zipit/pipeline';

/**
 * Reads the models, with parameters that the exporter wrote as nodes turned back into
 * initializers; names come from file names (`a.onnx` → `a`), made unique.
 */
export async function loadModels(files: readonly string[]): Promise<ModelInput[]> {
  const seen = new Map<string, number>();
  const out: ModelInput[] = [];
  for (const file of files) {
    const graph = inlineParameters(await readOnnxFile(file));
    let name = basename(file).replace(/\.onnx$/i, '');
    const count = seen.get(name) ?? 0;
    seen.set(name, count + 1);
    if (count > 0) name = `${name}_${count + 1}`;
    out.push({ name, graph, file });
  }
  return out;
}

/** The single data input of a model (what datasets must fit). */
export function dataInput(graph: Graph): ValueInfo {
  const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  if (inputs.length !== 1) throw new InvalidArgumentError(`models with ${inputs.length} data inputs are not supported (need exactly one)`);
  return inputs[0];
}

/** Opens every spec for a model input, with the split used when a spec names none. */
export async function openAll(specs: readonly string[], input: ValueInfo, defaultSplit: Split): Promise<Dataset[]> {
  return Promise.all(specs.map((s) => openDataset(s, { defaultSplit, input })));
}

/**
 * Interleaves several datasets batch by batch (A, B, A, B, …), taking up to `limit` samples from
 * each (undefined: all), so that merge data mixes the tasks evenly.
 */
export function interleave(datasets: readonly Dataset[], batchSize: number, limit?: number): () => Batches {
  return () => ({
    async *[Symbol.asyncIterator]() {
      const its = datasets.map((d) => d.batches({ batchSize, limit })[Symbol.asyncIterator]());
      const live = new Set(its.keys());
      while (live.size) {
        for (const k of [...live]) {
          const r = await its[k].next();
          if (r.done) live.delete(k);
          else yield { x: r.value.x };
        }
      }
    },
  });
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
