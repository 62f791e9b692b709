import { relaxBatch, SeededRandom, tensor, type Graph, type Tensor } from '@zipit/core';
import { executor } from './plugins.js';

/** A model's batch axis as merging runs it. */
export interface SettledBatch {
  /** The model: with a symbolic batch axis, or with its fixed batch when its computation depends on it. */
  graph: Graph;
  /** The fixed batch it was exported with (null: symbolic), which the merged model keeps. */
  batch: number | null;
  /**
   * True when `graph` keeps the fixed batch because a node computes with it (torchvision's
   * VisionTransformer reshapes to constants like `[65, 1·heads, 16]`): every pass then feeds it
   * batches of exactly `batch` samples (the pipeline's `walkBatches`), and so does the merged model.
   */
  bound: boolean;
}

/**
 * The batch axis of a model to merge. `torch.onnx.export` without `dynamic_axes` (the default)
 * fixes the batch (input `[1, 3, H, W]`); the batch axis is ours to handle, so the fixed axis is
 * made symbolic (`relaxBatch`) and checked by running the model on two batches at once against
 * one batch at a time: identical per-image outputs prove that no node computes with the fixed
 * size, and merging runs the model with any batch size. A graph that bakes its batch into its
 * computation (a Reshape to a constant `[1, -1]`) fails that check and is kept as exported
 * (`bound`): it merges by being fed its fixed batch. The merged model gets the fixed batch back.
 */
export async function settleBatch(graph: Graph): Promise<SettledBatch> {
  const relaxed = relaxBatch(graph);
  if (relaxed.batch === null) return { ...relaxed, bound: false };
  const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  const shapes = inputs.map((i) => i.shape!.slice(1));
  if (inputs.some((i) => i.dtype !== 'float32') || shapes.some((s) => !s.every((d) => typeof d === 'number'))) return { ...relaxed, bound: false };
  const b = relaxed.batch;
  const bound: SettledBatch = { graph, batch: b, bound: true };
  const rng = new SeededRandom(11);
  const pairFeeds: Record<string, Tensor> = {};
  const singleFeeds: Record<string, Tensor>[] = [{}, {}];
  inputs.forEach((input, i) => {
    const per = (shapes[i] as number[]).reduce((n, d) => n * d, 1);
    const data = rng.normalTensor([2 * b, ...(shapes[i] as number[])]).data as Float32Array;
    pairFeeds[input.name] = tensor('float32', [2 * b, ...(shapes[i] as number[])], data);
    for (let k = 0; k < 2; k++) {
      singleFeeds[k][input.name] = tensor('float32', [b, ...(shapes[i] as number[])], data.slice(k * b * per, (k + 1) * b * per));
    }
  });
  const fixedSession = await executor.createSession(graph, { threads: 1 });
  let single: Record<string, Tensor>[];
  try {
    single = [await fixedSession.run(singleFeeds[0]), await fixedSession.run(singleFeeds[1])];
  } finally {
    await fixedSession.release();
  }
  let pair: Record<string, Tensor>;
  try {
    const session = await executor.createSession(relaxed.graph, { threads: 1 });
    try {
      pair = await session.run(pairFeeds);
    } finally {
      await session.release();
    }
  } catch {
    // onnxruntime refuses the relaxed graph (a Reshape to a constant that holds the batch).
    return bound;
  }
  for (const [name, t] of Object.entries(pair)) {
    const parts = single.map((s) => s[name]);
    if (!parts.every((p) => p) || t.shape[0] !== 2 * b) return bound;
    const per = t.data.length / 2;
    const got = t.data as Float32Array;
    for (let k = 0; k < 2; k++) {
      const want = parts[k].data as Float32Array;
      for (let j = 0; j < per; j++) {
        // An image's output depends on the other images in the batch.
        if (Math.abs(got[k * per + j] - want[j]) > 1e-4 * (1 + Math.abs(want[j]))) return bound;
      }
    }
  }
  return { ...relaxed, bound: false };
}
