import { MismatchError, SeededRandom, type Graph } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import type { Batch } from './passes/index.js';
import { describe, expect, it } from 'vitest';
import { evaluateTasks } from './evaluate-tasks.js';
import { computeStatistics, mergeModels, prepareModels, type ModelInput } from './merge-models.js';

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

async function outputs(graph: Graph, x: Batch['x']): Promise<Record<string, Float32Array>> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await s.run({ [graph.inputs[0].name]: x });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

describe('mergeModels', () => {
  it('with nothing zipped reproduces the ensemble exactly', async () => {
    const batches = data(32, 5);
    const r = await mergeModels(models, { method: 'zipit', stopAt: 'none', data: () => batches, executor, threads: 1 });
    expect(r.stop).toBe(-1);
    expect(r.batchNorm.skipped).toBe('nothing was zipped');
    const x = batches[0].x;
    const merged = await outputs(r.graph, x);
    for (const m of models) {
      const own = await outputs(m.graph, x);
      const name = m.graph.outputs[0].name;
      expect(merged[`${m.name}:${name}`]).toEqual(own[name]);
    }
  });

  it('zips fully with each matcher, resets BatchNorm, and evaluates per task and jointly', async () => {
    const batches = data(48, 6);
    const mg = prepareModels(models);
    const stats = await computeStatistics(models, mg, batches, { executor, threads: 1 });
    for (const method of ['zipit', 'permute', 'average']) {
      const r = await mergeModels(models, { method, data: () => batches, stats, executor, threads: 1 });
      expect(r.stop).toBe(mg.points.filter((p) => p.stopPoint).at(-1)!.index);
      expect(r.points.length).toBeGreaterThan(0);
      expect(r.batchNorm.reset.length).toBeGreaterThan(0);
      for (const p of r.points) {
        const s = p.summary;
        expect(s.acrossModels + s.onlyFrom.reduce((a, b) => a + b, 0)).toBe(p.channels);
        if (method !== 'zipit') expect(s.acrossModels).toBe(p.channels);
      }
      const acc = await evaluateTasks(
        r.graph,
        r.outputs.map((o) => ({ name: o.model, output: o.value, data: () => batches })),
        { executor, threads: 1 },
      );
      expect(acc.tasks).toEqual(['A', 'B']);
      expect(acc.samples).toEqual([48, 48]);
      for (const a of [...acc.perTask, acc.joint]) expect(a).toBeGreaterThanOrEqual(0);
    }
  });

  it('merges tasks with different class counts (one head each)', async () => {
    const three = { name: 'C', graph: buildSmallCnn({ seed: 3, imageSize: 16, classes: [7] }), file: 'c.onnx' };
    const batches = data(16, 9);
    const r = await mergeModels([models[0], three], { method: 'zipit', data: () => batches, executor, threads: 1 });
    const shapes = await outputs(r.graph, batches[0].x);
    expect(shapes['A:logits_0'].length).toBe(8 * 3);
    expect(shapes['C:logits_0'].length).toBe(8 * 7);
  });

  it('corrects models with BatchNorm folded into Conv with REPAIR; zip(A, A) stays A', async () => {
    const folded = (seed: number, name: string): ModelInput => ({
      name,
      graph: buildSmallCnn({ seed, imageSize: 16, classes: [3], foldedBatchNorm: true }),
      file: `${name}.onnx`,
    });
    const a = folded(1, 'A');
    // One batch keeps train-mode statistics close to the population ones; what remains is the
    // unbiased-variance factor n/(n − 1) of BatchNorm re-estimation, compounded over the layers.
    const batches: Batch[] = [{ x: new SeededRandom(12).normalTensor([32, 3, 16, 16]) }];
    const self = await mergeModels([a, { ...a, name: 'A2' }], { method: 'permute', data: () => batches, executor, threads: 1 });
    expect(self.batchNorm.reset).toEqual([]);
    expect(self.batchNorm.repaired!.length).toBeGreaterThan(0);
    expect(self.graph.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    const x = batches[0].x;
    const merged = await outputs(self.graph, x);
    const own = (await outputs(a.graph, x))[a.graph.outputs[0].name];
    const got = merged[`A:${a.graph.outputs[0].name}`];
    let worst = 0;
    for (let i = 0; i < own.length; i++) worst = Math.max(worst, Math.abs(own[i] - got[i]));
    expect(worst).toBeLessThan(1e-3);
    const two = await mergeModels([a, folded(2, 'B')], { method: 'zipit', data: () => batches, executor, threads: 1 });
    expect(two.batchNorm.repaired).toEqual(self.batchNorm.repaired);
  });

  it('refuses models of different widths, naming the first difference', () => {
    const wide = { name: 'C', graph: buildSmallCnn({ seed: 3, imageSize: 16, classes: [3], width: 12 }), file: 'c.onnx' };
    expect(() => prepareModels([models[0], wide])).toThrow(MismatchError);
    expect(() => prepareModels([models[0], wide])).toThrow(/a\.onnx and c\.onnx are not the same architecture: parameter .* has shape/);
  });
});
