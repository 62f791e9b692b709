import { InvalidArgumentError, relaxBatch, SeededRandom, tensor, type Graph, type Tensor } from '@zipit/core';
import { executor } from './plugins.js';

/**
 * A model as merging runs it: with a symbolic batch axis. `torch.onnx.export` without
 * `dynamic_axes` (the default) fixes the batch (input `[1, 3, H, W]`); the batch axis is ours to
 * handle, so the fixed axis is made symbolic (`relaxBatch`) and checked by running the model on
 * two images at once against one image at a time: identical per-image outputs prove that no
 * node computes with the fixed size. The merged model gets the fixed batch back (`batch`).
 * A graph that bakes its batch into its computation (a Reshape to a constant `[1, -1]`) is
 * refused with the node that onnxruntime names.
 */
export async function withSymbolicBatch(graph: Graph, file: string): Promise<{ graph: Graph; batch: number | null }> {
  const relaxed = relaxBatch(graph);
  if (relaxed.batch === null) return relaxed;
  const inputs = graph.inputs.filter((i) => !graph.initializers.has(i.name));
  const shapes = inputs.map((i) => i.shape!.slice(1));
  if (inputs.some((i) => i.dtype !== 'float32') || shapes.some((s) => !s.every((d) => typeof d === 'number'))) return relaxed;
  const b = relaxed.batch;
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
  const refusal = (why: string) =>
    new InvalidArgumentError(`the model has a fixed batch of ${b} that its computation depends on (${why})`, {
      file,
      hint: 'export it with dynamic_axes={"input": {0: "batch"}} (and the outputs likewise), or avoid x.view(1, …)-style reshapes that hard-code the batch',
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
  } catch (e) {
    throw refusal(e instanceof Error ? e.message.split('\n')[0] : String(e));
  }
  for (const [name, t] of Object.entries(pair)) {
    const parts = single.map((s) => s[name]);
    if (!parts.every((p) => p) || t.shape[0] !== 2 * b) throw refusal(`output ${name} has shape [${t.shape.join(', ')}] for ${2 * b} images`);
    const per = t.data.length / 2;
    const got = t.data as Float32Array;
    for (let k = 0; k < 2; k++) {
      const want = parts[k].data as Float32Array;
      for (let j = 0; j < per; j++) {
        if (Math.abs(got[k * per + j] - want[j]) > 1e-4 * (1 + Math.abs(want[j])))
          throw refusal(`output ${name} of an image depends on the other images in the batch`);
      }
    }
  }
  return relaxed;
}
