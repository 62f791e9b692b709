import { GraphBuilder, NotFoundError, SeededRandom, ShapeError, tensor, type Graph, type Tensor } from '@zipit/core';
import { buildSmallCnn, buildTokenMlp, tokenMlpActivation } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import type { Batch } from './batches.js';
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
