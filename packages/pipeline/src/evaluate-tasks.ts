import { attachFile, InvalidArgumentError, MultiTaskAccuracy, type Executor, type Graph, type MultiTaskAccuracyResult } from '@zipit/core';
import { evaluateModel, type Batches, type Progress } from './passes/index.js';

/** A task's test data and the graph output (head) that answers it. */
export interface TaskData {
  name: string;
  output: string;
  data: () => Batches;
}

/**
 * Per-task, joint and average accuracy of a multi-head model (one output per task), as the
 * ZipIt! reference reports them: every task's data runs through every head, on `opts.executor`.
 */
export async function evaluateTasks(
  graph: Graph,
  tasks: readonly TaskData[],
  opts: { executor: Executor; threads?: number; signal?: AbortSignal; file?: string; onProgress?: (task: string, p: Progress) => void },
): Promise<MultiTaskAccuracyResult> {
  const outputs = tasks.map((t) => t.output);
  for (const o of outputs) {
    if (!graph.outputs.some((g) => g.name === o)) {
      throw new InvalidArgumentError(`the model has no output "${o}"`, { file: opts.file, hint: `outputs: ${graph.outputs.map((g) => g.name).join(', ')}` });
    }
  }
  let acc: MultiTaskAccuracy | undefined;
  for (let t = 0; t < tasks.length; t++) {
    await evaluateModel(graph, tasks[t].data(), {
      outputs,
      keepLogits: false,
      executor: opts.executor,
      threads: opts.threads,
      signal: opts.signal,
      file: opts.file,
      onProgress: (p) => opts.onProgress?.(tasks[t].name, p),
      onBatch: (b) => {
        if (!b.labels) throw new InvalidArgumentError(`task ${tasks[t].name}: the data has no labels`);
        acc ??= new MultiTaskAccuracy(
          tasks.map((x) => x.name),
          b.logits.map((l) => l.shape[1]),
        );
        try {
          acc.add(
            t,
            b.logits.map((l) => l.data),
            b.labels,
          );
        } catch (e) {
          throw opts.file ? attachFile(e, opts.file) : e;
        }
      },
    });
  }
  if (!acc) throw new InvalidArgumentError('nothing was evaluated: the task data is empty');
  return acc.result();
}
