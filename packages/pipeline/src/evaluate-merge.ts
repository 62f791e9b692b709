import { InvalidArgumentError, type Executor, type Graph, type MergeGraph, type MultiTaskAccuracyResult } from '@zipit/core';
import { evaluateTasks } from './evaluate-tasks.js';
import { ensembleGraph, type ModelInput } from './merge-models.js';
import type { Batches, Progress } from './passes/index.js';
import { accuracyRow, type MergeReport } from './report.js';

/** One row of a report's accuracy table. */
export type AccuracyRow = MergeReport['accuracy'][number];

/** A task's labelled test data, one per input model (task k is model k's). */
export interface TestSet {
  name: string;
  data: () => Batches;
}

export interface EvaluateMergeOptions {
  executor: Executor;
  threads?: number;
  signal?: AbortSignal;
  /** Progress of the evaluation named `label` (`ensemble`, a merge's label) on `task`. */
  onProgress?: (label: string, task: string, p: Progress) => void;
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

/**
 * Evaluates a merged (or ensemble) graph with one output per model on every task: per-task,
 * joint and average accuracy, as the ZipIt! reference reports them.
 */
export async function evaluateMerged(
  label: string,
  merged: { graph: Graph; outputs: readonly { model: string; value: string }[] },
  models: readonly ModelInput[],
  tests: readonly TestSet[],
  opts: EvaluateMergeOptions,
): Promise<MultiTaskAccuracyResult> {
  if (tests.length !== models.length) throw new InvalidArgumentError(`${tests.length} test sets for ${models.length} models; give one per model`);
  const outputs = taskOutputs(merged.outputs, models);
  return evaluateTasks(
    merged.graph,
    outputs.map((output, k) => ({ name: tests[k].name, output, data: tests[k].data })),
    {
      executor: opts.executor,
      threads: opts.threads,
      signal: opts.signal,
      onProgress: (task, p) => opts.onProgress?.(label, task, p),
    },
  );
}

/**
 * The rows every comparison starts with: each input model on its own task (`<name><suffix>`),
 * then their ensemble (`ensembleLabel`). The inputs' accuracies come from the ensemble's heads
 * (the same computation), so the models run once.
 */
export async function evaluateInputs(
  models: readonly ModelInput[],
  mergeGraph: MergeGraph,
  tests: readonly TestSet[],
  opts: EvaluateMergeOptions & { inputSuffix?: string; ensembleLabel?: string },
): Promise<{ rows: AccuracyRow[]; ensemble: MultiTaskAccuracyResult }> {
  const ens = await evaluateMerged('ensemble', ensembleGraph(models, mergeGraph), models, tests, opts);
  const rows: AccuracyRow[] = models.map((m, k) => ({
    model: `${m.name}${opts.inputSuffix ?? ' (input)'}`,
    perTask: tests.map((_, t) => (t === k ? ens.perTask[k] : null)),
    joint: null,
    average: null,
  }));
  rows.push(accuracyRow(opts.ensembleLabel ?? 'ensemble', ens));
  return { rows, ensemble: ens };
}
