import { InvalidArgumentError, SeededRandom, ShapeError, tensor } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import type { Batch } from './batches.js';
import { argmaxRows, evaluateModel, type EvaluatedBatch } from './evaluate.js';
import { runModel } from './run-model.js';
import { ortExecutor as executor } from '@zipit/runtime-ort';

function labelled(sizes: number[], seed: number): Batch[] {
  const r = new SeededRandom(seed);
  let next = 0;
  return sizes.map((b) => ({ x: r.normalTensor([b, 3, 12, 12]), y: BigInt64Array.from({ length: b }, () => BigInt(next++ % 4)) }));
}

describe('evaluateModel', () => {
  const graph = buildSmallCnn({ seed: 7, imageSize: 12, classes: [3, 4] });

  it('returns the logits of every head in dataset order, with labels, and streams argmax predictions', async () => {
    const batches = labelled([3, 2, 3], 1);
    const streamed: EvaluatedBatch[] = [];
    const result = await evaluateModel(graph, batches, { executor, threads: 1, onBatch: (b) => void streamed.push(b) });
    expect(result.outputs).toEqual(['logits_0', 'logits_1']);
    expect(result.samples).toBe(8);
    expect(result.logits!.map((t) => t.shape)).toEqual([
      [8, 3],
      [8, 4],
    ]);
    expect(result.labels).toEqual(BigInt64Array.from([0, 1, 2, 3, 0, 1, 2, 3], BigInt));
    expect(streamed.map((b) => b.offset)).toEqual([0, 3, 5]);

    const direct: Float32Array[] = [];
    for await (const r of runModel(graph, batches, { executor, threads: 1 })) direct.push(r.values.logits_1.data as Float32Array);
    const joined = Float32Array.from(direct.flatMap((d) => [...d]));
    expect(result.logits![1].data).toEqual(joined);
    for (const b of streamed) {
      b.logits.forEach((l, k) => expect(b.predictions[k]).toEqual(argmaxRows(l)));
      expect(b.predictions[1].every((p) => p >= 0 && p < 4)).toBe(true);
    }
  });

  it('streams without keeping logits, for one chosen output', async () => {
    let count = 0;
    const result = await evaluateModel(graph, labelled([2, 2], 2), {
      executor,
      threads: 1,
      outputs: ['logits_1'],
      keepLogits: false,
      onBatch: async (b) => {
        count += b.predictions[0].length;
      },
    });
    expect(result.logits).toBeNull();
    expect(result.outputs).toEqual(['logits_1']);
    expect(count).toBe(4);
  });

  it('rejects empty data, mixed labelling and non-2-D outputs', async () => {
    await expect(evaluateModel(graph, [], { executor, threads: 1 })).rejects.toThrow(InvalidArgumentError);
    const mixed = labelled([2, 2], 3);
    delete mixed[1].y;
    await expect(evaluateModel(graph, mixed, { executor, threads: 1 })).rejects.toThrow(InvalidArgumentError);
    await expect(evaluateModel(graph, labelled([2], 4), { executor, threads: 1, outputs: ['/relu/Relu_output_0'] })).rejects.toThrow(ShapeError);
  });
});

describe('argmaxRows', () => {
  it('takes the first maximum of each row', () => {
    expect(argmaxRows(tensor('float32', [3, 3], Float32Array.of(1, 3, 3, -1, -2, -0.5, 0, 0, 0)))).toEqual(Int32Array.of(1, 2, 0));
  });
});
