import { GraphBuilder, NotFoundError, SeededRandom, ShapeError, tensor, type Graph, type SpaceRequest, type Tensor } from '@zipit/core';
import { buildSmallCnn, buildTokenMlp, tokenMlpActivation } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import type { Batch } from './batches.js';
import { channelMoments } from './channel-moments.js';
import { collectStatistics } from './collect-statistics.js';
import { evaluateModel } from './evaluate.js';
import { runModel } from './run-model.js';
import { ortExecutor as executor } from '@zipit/runtime-ort';

function images(count: number, batch: number, size: number, seed: number): Batch[] {
  const r = new SeededRandom(seed);
  const out: Batch[] = [];
  for (let done = 0; done < count; done += batch) {
    const b = Math.min(batch, count - done);
    out.push({ x: r.normalTensor([b, 3, size, size]), y: BigInt64Array.from({ length: b }, (_, i) => BigInt((done + i) % 3)) });
  }
  return out;
}

async function runAll(graph: Graph, batches: Batch[], fetch?: string[]): Promise<Record<string, Tensor>[]> {
  const out: Record<string, Tensor>[] = [];
  for await (const r of runModel(graph, batches, { executor, fetch, threads: 1 })) out.push(r.values);
  return out;
}

describe('runModel on builder models', () => {
  const variants: [string, Graph][] = [
    ['opset 13, Flatten, GlobalAveragePool', buildSmallCnn({ seed: 1, imageSize: 16 })],
    ['opset 11, view chain, ReduceMean', buildSmallCnn({ seed: 2, imageSize: 16, opset: 11, flatten: 'view', pool: 'reduceMean' })],
    [
      'opset 17, folded BatchNorm, constants as initializers',
      buildSmallCnn({ seed: 3, imageSize: 16, opset: 17, foldedBatchNorm: true, constants: 'initializer' }),
    ],
    ['opset 18, two heads, view chain', buildSmallCnn({ seed: 4, imageSize: 16, opset: 18, classes: [3, 4], flatten: 'view', pool: 'reduceMean' })],
    ['opset 21', buildSmallCnn({ seed: 5, imageSize: 16, opset: 21 })],
  ];
  for (const [label, graph] of variants) {
    it(`runs the small CNN (${label}) with the declared output shapes`, async () => {
      const results = await runAll(graph, images(7, 4, 16, 9));
      expect(results).toHaveLength(2);
      results.forEach((values, i) => {
        for (const o of graph.outputs) {
          const t = values[o.name];
          expect(t.dtype).toBe('float32');
          expect(t.shape).toEqual([i === 0 ? 4 : 3, o.shape![1]]);
          for (const v of t.data as Float32Array) expect(Number.isFinite(v)).toBe(true);
        }
      });
    });
  }

  it('runs the token MLP and the transformer-style ops of the builder', async () => {
    const mlp = buildTokenMlp({ tokens: 5, inFeatures: 6, hidden: 7, classes: 3 });
    const r = new SeededRandom(3);
    const [values] = await runAll(mlp, [{ x: r.normalTensor([2, 5, 6]) }], ['logits', tokenMlpActivation(1)]);
    expect(values.logits.shape).toEqual([2, 3]);
    expect(values[tokenMlpActivation(1)].shape).toEqual([2, 5, 7]);

    for (const opset of [13, 17]) {
      const b = new GraphBuilder({ opset, seed: 2 });
      let x = b.input('tokens', ['batch', 4, 8]);
      x = b.layerNorm(x, { name: 'norm' });
      const q = b.reshape(b.linear(x, 8, { name: 'q' }), [0, 0, 2, 4]);
      const heads = b.transpose(q, [0, 2, 1, 3]);
      const scores = b.softmax(b.matmul(heads, b.transpose(heads, [0, 1, 3, 2])));
      const mixed = b.reshape(b.transpose(b.matmul(scores, heads), [0, 2, 1, 3]), [0, 0, 8]);
      b.output(b.gelu(mixed), 'out');
      const g = b.build();
      const [v] = await runAll(g, [{ x: r.normalTensor([3, 4, 8]) }]);
      expect(v.out.shape).toEqual([3, 4, 8]);
      expect(g.outputs[0].shape).toEqual(['batch', 4, 8]);
    }
  });

  it('taps intermediate values, inputs and parameters by name', async () => {
    const graph = buildSmallCnn({ seed: 1, imageSize: 16 });
    const batch = images(2, 2, 16, 1);
    const [values] = await runAll(graph, batch, ['/relu/Relu_output_0', '/layer2/layer2.0/pad/Pad_output_0', 'input', 'conv1.weight']);
    expect(values['/relu/Relu_output_0'].shape).toEqual([2, 8, 16, 16]);
    expect(values['/layer2/layer2.0/pad/Pad_output_0'].shape).toEqual([2, 8, 10, 10]);
    expect(values.input.data).toEqual(batch[0].x.data);
    expect(values['conv1.weight'].data).toEqual(graph.initializers.get('conv1.weight')!.data);
    expect(Math.min(...(values['/relu/Relu_output_0'].data as Float32Array))).toBeGreaterThanOrEqual(0);
  });

  it('rejects tapping a value that does not exist with a NotFoundError naming it', async () => {
    const graph = buildSmallCnn({ imageSize: 16 });
    const run = () => runAll(graph, images(2, 2, 16, 1), ['/relu/Relu_output_7']);
    await expect(run()).rejects.toThrow(NotFoundError);
    await expect(run()).rejects.toThrow(/value "\/relu\/Relu_output_7" does not exist.*did you mean "\/relu\/Relu_output_0"/);
  });

  it('reports shape problems of a batch as ShapeErrors', async () => {
    const graph = buildSmallCnn({ imageSize: 16 });
    const r = new SeededRandom(1);
    await expect(runAll(graph, [{ x: r.normalTensor([2, 4, 16, 16]) }])).rejects.toThrow(ShapeError);
    await expect(runAll(graph, [{ x: r.normalTensor([2, 3, 16, 16]), y: new BigInt64Array(3) }])).rejects.toThrow(ShapeError);
  });

  it('stops between batches when aborted and reports progress', async () => {
    const graph = buildSmallCnn({ imageSize: 16 });
    const controller = new AbortController();
    const seen: number[] = [];
    const pass = async () => {
      for await (const r of runModel(graph, images(12, 4, 16, 1), {
        executor,
        threads: 1,
        signal: controller.signal,
        onProgress: (p) => {
          seen.push(p.samples);
          if (p.batches === 2) controller.abort(new Error('stop'));
        },
      }))
        void r;
    };
    await expect(pass()).rejects.toThrow('stop');
    expect(seen).toEqual([4, 8]);
  });

  it('accepts a dataset given as an async generator', async () => {
    const graph = buildSmallCnn({ imageSize: 16 });
    async function* gen() {
      yield* images(5, 2, 16, 4);
    }
    const sizes: number[] = [];
    for await (const r of runModel(graph, gen(), { executor, threads: 1 })) sizes.push(r.values.logits.shape[0]);
    expect(sizes).toEqual([2, 2, 1]);
    void tensor;
  });
});

/**
 * A token model whose computation bakes its batch in when `batch` is a number (a Reshape to the
 * constant [batch, 2, 3], as `torch.onnx.export` writes `x.view(B, 2, 3)` for a fixed batch);
 * with 'batch' the same model (same weights) reshapes with 0 (copy the batch).
 */
function splitHeads(batch: number | 'batch'): Graph {
  const b = new GraphBuilder({ seed: 7 });
  const h = b.relu(b.linear(b.input('x', [batch, 6]), 6, { name: 'fc1' }));
  const heads = b.softmax(b.reshape(h, [batch === 'batch' ? 0 : batch, 2, 3]), { axis: -1 });
  b.output(b.linear(b.reshape(heads, [batch === 'batch' ? 0 : batch, 6]), 3, { name: 'head' }), 'logits');
  return b.build();
}

describe('runModel on a model that fixes its batch size', () => {
  const rows = (count: number, batch: number): Batch[] => {
    const r = new SeededRandom(5);
    const out: Batch[] = [];
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      out.push({ x: r.normalTensor([n, 6]), y: BigInt64Array.from({ length: n }, (_, i) => BigInt(done + i)) });
    }
    return out;
  };

  it('is refused by onnxruntime at another batch size, and fed batches of exactly its size', async () => {
    const fixed = splitHeads(2);
    const session = await executor.createSession(fixed, { threads: 1 });
    await expect(session.run({ x: new SeededRandom(1).normalTensor([3, 6]) })).rejects.toThrow();
    await session.release();
    const data = rows(7, 3); // batches 3, 3, 1
    const dropped: number[][] = [];
    for await (const r of runModel(fixed, data, { executor, threads: 1 })) dropped.push([r.values.logits.shape[0], ...Array.from(r.batch.y!, Number)]);
    // The last sample does not fill a batch of 2: passes that reduce over samples leave it out.
    expect(dropped).toEqual([
      [2, 0, 1],
      [2, 2, 3],
      [2, 4, 5],
    ]);
  });

  it('pads the last batch when asked; per-sample outputs equal the dynamic model, every sample once (evaluation)', async () => {
    const data = rows(7, 3);
    const want = (await runAll(splitHeads('batch'), data)).map((v) => Array.from(v.logits.data as Float32Array));
    const got: number[] = [];
    for await (const r of runModel(splitHeads(2), data, { executor, threads: 1, remainder: 'pad' })) {
      expect(r.values.logits.shape).toEqual([r.batch.x.shape[0], 3]);
      got.push(...(r.values.logits.data as Float32Array));
    }
    expect(got).toHaveLength(21);
    got.forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i], 6));
    const evaluation = await evaluateModel(splitHeads(2), data, { executor, threads: 1 });
    expect(evaluation.samples).toBe(7);
    expect(Array.from(evaluation.labels!, Number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('gives the statistics and channel moments of the dynamic model on the same samples', async () => {
    const data = rows(8, 3); // 3, 3, 2: re-chunked to 4 batches of 2, nothing left over
    const hidden = splitHeads(2).nodes.find((n) => n.opType === 'Relu')!.outputs[0];
    const spaces: SpaceRequest[] = [{ name: 'fc1', values: [hidden, hidden], axis: 1 }];
    const opts = { executor, threads: 1 };
    const fixed = await collectStatistics([splitHeads(2), splitHeads(2)], spaces, data, opts);
    const dynamic = await collectStatistics([splitHeads('batch'), splitHeads('batch')], spaces, data, opts);
    expect(fixed.count(0)).toBe(8);
    expect(dynamic.count(0)).toBe(8);
    Array.from(dynamic.covariance(0)).forEach((v, i) => expect(fixed.covariance(0)[i]).toBeCloseTo(v, 6));
    Array.from(dynamic.mean(0)).forEach((v, i) => expect(fixed.mean(0)[i]).toBeCloseTo(v, 6));
    const [mf] = await channelMoments(splitHeads(2), [hidden], data, opts);
    const [md] = await channelMoments(splitHeads('batch'), [hidden], data, opts);
    Array.from(md.mean).forEach((v, i) => expect(mf.mean[i]).toBeCloseTo(v, 6));
    Array.from(md.std).forEach((v, i) => expect(mf.std[i]).toBeCloseTo(v, 6));
  });
});
