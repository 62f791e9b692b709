import type { Executor, FeatureStats, Graph, MergeGraph, Tensor } from '@zipit/core';
import { computeStatistics, resetBatchNorm } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';

/**
 * The only place the suites touch a runtime: run a graph, collect merge-point statistics, reset
 * BatchNorm — all on one executor (default onnxruntime-node, one thread, so figures are
 * deterministic). Swap the executor through the suites' `executor` option.
 */
export interface SuiteRuntime {
  executor: Executor;
  /** Every output of `graph` on `feeds`. */
  run(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Statistics of every merge point of `models` on the one batch `x`. */
  statistics(models: readonly Graph[], mg: MergeGraph, x: Tensor<'float32'>): Promise<FeatureStats>;
  /** `graph` with every BatchNormalization's running statistics re-estimated on `x`. */
  resetBatchNorm(graph: Graph, x: Tensor<'float32'>): Promise<Graph>;
}

export function suiteRuntime(executor: Executor = ortExecutor): SuiteRuntime {
  return {
    executor,
    async run(graph, feeds) {
      const session = await executor.createSession(graph, { threads: 1 });
      try {
        return await session.run(feeds);
      } finally {
        await session.release();
      }
    },
    statistics(models, mg, x) {
      const inputs = models.map((graph, k) => ({ name: `model${k}`, graph, file: `model${k}.onnx` }));
      return computeStatistics(inputs, mg, [{ x }], { executor, threads: 1 });
    },
    async resetBatchNorm(graph, x) {
      return (await resetBatchNorm(graph, [{ x }], { executor, threads: 1 })).graph;
    },
  };
}
