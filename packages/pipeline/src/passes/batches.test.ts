import { GraphBuilder, InvalidArgumentError, SeededRandom, ShapeError, type Graph } from '@zipit/core';
import { describe, expect, it } from 'vitest';
import { fixedBatch, walkBatches, type Batch, type Progress, type WalkedBatch, type WalkOptions } from './batches.js';

/** Batches of the given sizes of [n, 2, 3] samples whose entries and labels are their sample index. */
function numbered(sizes: number[], labelled = true): Batch[] {
  let next = 0;
  return sizes.map((n) => {
    const data = new Float32Array(n * 6);
    const y = new BigInt64Array(n);
    for (let i = 0; i < n; i++, next++) {
      data.fill(next, i * 6, (i + 1) * 6);
      y[i] = BigInt(next);
    }
    return { x: { dtype: 'float32', shape: [n, 2, 3], data }, ...(labelled ? { y } : {}) };
  });
}

async function walk(batches: Batch[], opts: WalkOptions): Promise<WalkedBatch[]> {
  const out: WalkedBatch[] = [];
  for await (const b of walkBatches(batches, opts)) out.push(b);
  return out;
}

/** Sample index of every sample of a walked batch (from its first entry), and its label. */
const samples = (b: WalkedBatch) => Array.from({ length: b.x.shape[0] }, (_, i) => (b.x.data as Float32Array)[i * 6]);

describe('walkBatches with a fixed batch', () => {
  it('re-chunks the stream across batch boundaries, in order, labels with their samples; the last partial batch is dropped', async () => {
    const progress: Progress[] = [];
    const out = await walk(numbered([3, 5, 2, 1]), { fixedBatch: 4, onProgress: (p) => progress.push(p) });
    expect(out.map((b) => b.x.shape)).toEqual([
      [4, 2, 3],
      [4, 2, 3],
    ]);
    expect(out.map(samples)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(out.map((b) => Array.from(b.y!, Number))).toEqual(out.map(samples));
    expect(out.every((b) => b.padding === 0)).toBe(true);
    // Every entry of a sample is its own (no sample is cut between chunks).
    for (const b of out) for (let i = 0; i < 4; i++) expect(new Set(b.x.data.subarray(i * 6, (i + 1) * 6)).size).toBe(1);
    expect(progress).toEqual([
      { batches: 1, samples: 4 },
      { batches: 2, samples: 8 },
    ]);
  });

  it('pads the last batch with copies of its last sample when asked, and counts only real samples', async () => {
    const progress: Progress[] = [];
    const out = await walk(numbered([3, 5, 2, 1]), { fixedBatch: 4, remainder: 'pad', onProgress: (p) => progress.push(p) });
    expect(out.map(samples)).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10, 10],
    ]);
    expect(Array.from(out[2].y!, Number)).toEqual([8, 9, 10, 10]);
    expect(out.map((b) => b.padding)).toEqual([0, 0, 1]);
    expect(progress.at(-1)).toEqual({ batches: 3, samples: 11 });
  });

  it('passes a batch of the fixed size that starts a chunk as a view (no copy); batch 1 never leaves a remainder', async () => {
    const input = numbered([2, 2, 2]);
    const out = await walk(input, { fixedBatch: 2 });
    out.forEach((b, i) => expect(b.x.data.buffer).toBe(input[i].x.data.buffer));
    const ones = await walk(numbered([3, 5, 2, 1]), { fixedBatch: 1 });
    expect(ones.map(samples)).toEqual(Array.from({ length: 11 }, (_, i) => [i]));
    const unlabelled = await walk(numbered([3], false), { fixedBatch: 1 });
    expect(unlabelled.every((b) => b.y === undefined)).toBe(true);
  });

  it('without a fixed batch, passes batches as they come', async () => {
    const input = numbered([3, 5]);
    const out = await walk(input, {});
    expect(out.map((b) => [b.x, b.y, b.padding])).toEqual(input.map((b) => [b.x, b.y, 0]));
  });

  it('refuses what cannot be re-chunked: changing sample shapes, mixed labels, fewer samples than one batch', async () => {
    const r = new SeededRandom(1);
    await expect(walk([{ x: r.normalTensor([3, 2, 3]) }, { x: r.normalTensor([3, 3, 2]) }], { fixedBatch: 2 })).rejects.toThrow(ShapeError);
    await expect(walk([numbered([3])[0], numbered([3], false)[0]], { fixedBatch: 2 })).rejects.toThrow(/some batches carry labels and others do not/);
    await expect(walk(numbered([2, 1]), { fixedBatch: 4 })).rejects.toThrow(/fixes its batch at 4 samples and the dataset has only 3/);
    await expect(walk(numbered([2]), { fixedBatch: 0 })).rejects.toThrow(InvalidArgumentError);
  });
});

describe('fixedBatch', () => {
  const model = (batch: number | string): Graph => {
    const b = new GraphBuilder({ seed: 1 });
    b.output(b.linear(b.input('x', [batch, 4]), 3), 'y');
    return b.build();
  };

  it('is the fixed first dimension of the data input, null when symbolic, and must agree over models run together', () => {
    expect(fixedBatch(model('batch'))).toBeNull();
    expect(fixedBatch(model(1))).toBe(1);
    expect(fixedBatch([model('batch'), model(8), model(8)])).toBe(8);
    expect(() => fixedBatch([model(1), model(8)], 'a.onnx')).toThrow(/the models fix different batch sizes \(1 vs 8\)/);
  });
});
