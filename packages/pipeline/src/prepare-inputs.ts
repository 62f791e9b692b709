import { attachFile, inlineParameters, surveyArchitectures, type ArchitectureRegistry, type Graph, type MergeGraph, type OperatorRegistry } from '@zipit/core';
import { prepareModels, type ModelInput } from './merge-models.js';

/** A model's name from its file: the base name without its extension (`dir/a.onnx` → `a`). */
export function modelNameOf(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/**
 * Models as the merge expects them: parameters that the exporter wrote as Constant nodes turned
 * back into initializers, names from the file names made unique (`a`, `a_2`, …).
 */
export function namedModels(entries: readonly { file: string; graph: Graph }[]): ModelInput[] {
  const taken = new Set<string>();
  return entries.map(({ file, graph }) => {
    const base = modelNameOf(file);
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return { name, graph: inlineParameters(graph), file };
  });
}

/** Models ready to merge: prepared by the architecture plugin that recognises them, if any. */
export interface MergeInputs {
  models: ModelInput[];
  mergeGraph: MergeGraph;
  /** The recognising plugin's variant (e.g. `resnet20`), or null when the merge graph was derived. */
  architecture: string | null;
}

/**
 * Settles the merge graph the way `zipit inspect` shows it: the first architecture plugin that
 * recognises model 0 prepares every model and declares the graph; otherwise it is derived from
 * the graph (following `operators`, default the built-in ones). Checks that the models share one
 * structure; errors name model 0's file.
 */
export function prepareForMerge(models: readonly ModelInput[], architectures: ArchitectureRegistry, operators?: OperatorRegistry): MergeInputs {
  const { found } = surveyArchitectures(architectures, models[0].graph);
  const prepared = found?.arch.prepare ? models.map((m) => ({ ...m, graph: found.arch.prepare!(m.graph) })) : [...models];
  try {
    const mergeGraph = prepareModels(prepared, found?.arch.mergeGraph(prepared[0].graph), operators);
    return { models: prepared, mergeGraph, architecture: found?.variant ?? null };
  } catch (e) {
    throw attachFile(e, models[0].file);
  }
}
