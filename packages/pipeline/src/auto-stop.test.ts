import { SeededRandom, tensor } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { jointPrediction, mergeAutoStop, skipSamples } from './auto-stop.js';
import type { ModelInput } from './merge-models.js';
import type { Batch } from './passes/index.js';

function data(count: number, seed: number, classes = 3): Batch[] {
  const r = new SeededRandom(seed);
  const out: Batch[] = [];
  for (let done = 0; done < count; done += 8) {
    const b = Math.min(8, count - done);
    out.push({ x: r.normalTensor([b, 3, 16, 16]), y: BigInt64Array.from({ length: b }, () => BigInt(Math.floor(r.next() * classes))) });
  }
  return out;
}

const models: ModelInput[] = [
  { name: 'A', graph: buildSmallCnn({ seed: 1, imageSize: 16, classes: [3] }), file: 'a.onnx' },
  { name: 'B', graph: buildSmallCnn({ seed: 2, imageSize: 16, classes: [3] }), file: 'b.onnx' },
];

describe('mergeAutoStop', () => {
  const merge = data(32, 5);
  const heldOut = data(32, 6);

  it('scores every stop point by agreement with the ensemble and picks the deepest within maxDrop', async () => {
    const r = await mergeAutoStop(models, { method: 'zipit', data: () => merge, heldOut: () => heldOut, maxDrop: 0.05, executor, threads: 1 });
    expect(r.metric).toBe('agreement');
    expect(r.reference).toBe(1);
    expect(r.curve[0]).toMatchObject({ index: -1, name: 'none', score: 1, within: true });
    const stops = r.result.mergeGraph.points.filter((p) => p.stopPoint).map((p) => p.index);
    expect(r.curve.slice(1).map((c) => c.index)).toEqual(stops);
    for (const c of r.curve) expect(c.within).toBe(c.score >= 1 - 0.05 - 1e-12);
    const deepest = [...r.curve].reverse().find((c) => c.within)!;
    expect(r.chosen).toEqual(deepest);
    expect(r.result.stop).toBe(deepest.index);
    // Zipping shares layers: the merged model costs less than the ensemble wherever something is zipped.
    for (const c of r.curve.slice(1)) expect(c.flops).toBeLessThan(r.curve[0].flops);
  });

  it('with maxDrop = 1 zips everything; with labelled tasks it scores joint accuracy against the ensemble', async () => {
    const all = await mergeAutoStop(models, { method: 'zipit', data: () => merge, heldOut: () => heldOut, maxDrop: 1, executor, threads: 1 });
    expect(all.chosen.index).toBe(all.curve[all.curve.length - 1].index);
    const tasks = models.map((m, k) => ({ name: m.name, data: () => data(16, 10 + k) }));
    const labelled = await mergeAutoStop(models, { method: 'permute', data: () => merge, tasks, maxDrop: 0, executor, threads: 1 });
    expect(labelled.metric).toBe('joint accuracy');
    expect(labelled.curve[0].score).toBe(labelled.reference);
    expect(labelled.chosen.score).toBeGreaterThanOrEqual(labelled.reference - 1e-12);
  });
});

describe('jointPrediction and skipSamples', () => {
  it('takes the largest softmax over all heads, each over its own classes', () => {
    // Head 0: [2, 0] → p = 0.88; head 1: [5, 5, 5] → p = 1/3. Sample 1: head 1 [9, 0, 0] wins.
    const h0 = tensor('float32', [2, 2], Float32Array.of(2, 0, 1, 1));
    const h1 = tensor('float32', [2, 3], Float32Array.of(5, 5, 5, 9, 0, 0));
    expect(jointPrediction([h0, h1], 0)).toBe(0);
    expect(jointPrediction([h0, h1], 1)).toBe(2);
  });

  it('drops the first samples, keeping labels with their images', async () => {
    const batches = data(24, 3);
    const source = {
      batches: ({ batchSize, limit }: { batchSize: number; limit?: number }) =>
        (async function* () {
          let done = 0;
          for (const b of batches) {
            if (limit !== undefined && done >= limit) return;
            expect(b.x.shape[0]).toBeLessThanOrEqual(batchSize);
            done += b.x.shape[0];
            yield b;
          }
        })(),
    };
    const out: Batch[] = [];
    for await (const b of skipSamples(source, 11).batches({ batchSize: 8, limit: 10 })) out.push(b);
    expect(out.map((b) => b.x.shape[0])).toEqual([5, 8]);
    expect(out[0].y).toEqual(batches[1].y!.slice(3));
    expect(out[0].x.data).toEqual(batches[1].x.data.slice(3 * 768));
  });
});
