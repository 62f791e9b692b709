import type { Dim, Graph, ValueInfo } from './graph.js';

/** The symbol a relaxed batch axis gets (the name PyTorch users give in `dynamic_axes`). */
export const BATCH = 'batch';

/**
 * A fixed-batch model (`torch.onnx.export` without `dynamic_axes`: input `[1, 3, H, W]`) with its
 * batch axis made symbolic: every graph input and output whose first dimension is the fixed
 * batch gets `batch` there, and intermediate shape annotations are dropped (they repeat the
 * fixed batch; onnxruntime and `inferShapes` recompute them). `batch` is the fixed size, or null
 * when the model already has a symbolic batch (then `graph` is the model itself).
 *
 * Only the declared shapes change: a graph whose computation bakes the batch in (a Reshape to a
 * constant `[1, -1]`) still needs its fixed batch — check by running it (the CLI does).
 */
export function relaxBatch(graph: Graph): { graph: Graph; batch: number | null } {
  const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  const first = inputs.map((i) => i.shape?.[0]);
  const b = first[0];
  if (typeof b !== 'number' || !first.every((d) => d === b)) return { graph, batch: null };
  const relax = (vi: ValueInfo): ValueInfo =>
    vi.shape && vi.shape[0] === b && !graph.initializers.has(vi.name) ? { ...vi, shape: [BATCH, ...vi.shape.slice(1)] } : vi;
  return {
    graph: { ...graph, inputs: graph.inputs.map(relax), outputs: graph.outputs.map(relax), valueInfo: [] },
    batch: b,
  };
}

/** The inverse for a written model: inputs and outputs with a symbolic first dimension get `batch` back. */
export function fixBatch(graph: Graph, batch: number): Graph {
  const fix = (vi: ValueInfo): ValueInfo => (vi.shape && typeof vi.shape[0] === 'string' ? { ...vi, shape: [batch as Dim, ...vi.shape.slice(1)] } : vi);
  return {
    ...graph,
    inputs: graph.inputs.map(fix),
    outputs: graph.outputs.map(fix),
    valueInfo: graph.valueInfo.filter((vi) => !(vi.shape && typeof vi.shape[0] === 'string')),
  };
}
