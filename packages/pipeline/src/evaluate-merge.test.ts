import { deriveMergeGraph, SeededRandom } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { evaluateInputs, evaluateMerged, taskOutputs } from './evaluate-merge.js';
import { evaluateTasks } from './evaluate-tasks.js';
import { mergeModels, type ModelInput } from './merge-models.js';
import type { Batch } from './passes/index.js';

function labelled(seed: number): Batch[] {
  const r = new SeededRandom(seed);
  return [0, 1].map(() => ({ x: r.normalTensor([8, 3, 16, 16]), y: BigInt64Array.from({ length: 8 }, () => BigInt(Math.floor(r.next() * 3))) }));
}

const models: ModelInput[] = [
  { name: 'A', graph: buildSmallCnn({ seed: 1, imageSize: 16, classes: [3] }), file: 'a.onnx' },
  { name: 'B', graph: buildSmallCnn({ seed: 2, imageSize: 16, classes: [3] }), file: 'b.onnx' },
];
const tests = [
  { name: 'A', data: () => labelled(5) },
  { name: 'B', data: () => labelled(6) },
];

describe('evaluating a merge', () => {
  it('reports each input on its own task as the model alone scores, then the ensemble', async () => {
    const mg = deriveMergeGraph(models[0].graph);
    const { rows, ensemble } = await evaluateInputs(models, mg, tests, { executor, threads: 1 });
    expect(rows.map((r) => r.model)).toEqual(['A (input)', 'B (input)', 'ensemble']);
    for (const [k, m] of models.entries()) {
      const alone = await evaluateTasks(m.graph, [{ name: m.name, output: m.graph.outputs[0].name, data: tests[k].data }], { executor, threads: 1 });
      expect(rows[k].perTask[k]).toBe(alone.perTask[0]);
      expect(rows[k].perTask[1 - k]).toBeNull();
    }
    expect(rows[2].joint).toBe(ensemble.joint);
  });

  it('evaluates a merged graph through its per-model outputs', async () => {
    const r = await mergeModels(models, { method: 'zipit', stopAt: 'none', data: () => labelled(7), executor, threads: 1 });
    expect(taskOutputs(r.outputs, models)).toEqual(models.map((m) => `${m.name}:${m.graph.outputs[0].name}`));
    const merged = await evaluateMerged('merged', r, models, tests, { executor, threads: 1 });
    const { ensemble } = await evaluateInputs(models, r.mergeGraph, tests, { executor, threads: 1 });
    expect(merged).toEqual(ensemble);
    await expect(evaluateMerged('merged', r, models, tests.slice(0, 1), { executor })).rejects.toThrow(/1 test sets for 2 models/);
  });
});
