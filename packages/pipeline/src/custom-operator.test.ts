import { builtinOperators, deriveMergeGraph, GraphBuilder, inferShapes, sameShape, SeededRandom, unaryRule, type Graph } from '@zipit/core';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { mergeModels, type ModelInput } from './merge-models.js';
import type { Batch } from './passes/index.js';

/**
 * A custom operator reaches the merge: onnxruntime's contrib `com.microsoft::Gelu` (an
 * element-wise activation outside the default domain, which zipit's built-in operators do not
 * know) between the layers of an MLP. Registered as an element-wise operator, derivation
 * follows it and `mergeModels` zips through it; a model merged with itself must then compute
 * exactly what it computed alone.
 */
const gelu = { opType: 'Gelu', domain: 'com.microsoft', role: 'elementwise', rule: unaryRule, infer: sameShape } as const;

function mlp(seed: number): Graph {
  const b = new GraphBuilder({ seed });
  let x = b.input('x', ['batch', 8]);
  for (const [i, width] of [16, 12].entries()) {
    x = b.gemm(x, width, { name: `fc${i}` });
    [x] = b.node('Gelu', [x], { domain: 'com.microsoft', name: `act${i}`, shapes: [['batch', width]] });
  }
  b.output(b.gemm(x, 3, { name: 'head' }), 'logits');
  const g = b.build();
  return { ...g, opsetImports: [...g.opsetImports, { domain: 'com.microsoft', version: 1 }] };
}

async function logits(graph: Graph, x: Batch['x']): Promise<Record<string, Float32Array>> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await s.run({ x });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

describe('a custom operator registered in an OperatorRegistry', () => {
  const operators = builtinOperators().register(gelu);

  it('is a barrier without registration and a followed activation with it', () => {
    const g = mlp(1);
    const plain = deriveMergeGraph(g);
    expect(plain.barriers.map((b) => b.reason)).toContain('no propagation rule for operator com.microsoft::Gelu');
    expect(plain.points.filter((p) => p.stopPoint)).toEqual([]);
    const derived = deriveMergeGraph(g, { operators });
    expect(derived.barriers).toEqual([]);
    expect(derived.points.map((p) => [p.name, p.channels])).toEqual([
      ['fc1:in', 16],
      ['head:in', 12],
    ]);
    const act = g.nodes.find((n) => n.opType === 'Gelu')!.outputs[0];
    expect(inferShapes(g, operators).shapes.get(act)).toEqual(['batch', 16]);
    expect(inferShapes(g).shapes.get(act)).toBeNull();
  });

  it('refuses a second registration of the same operator', () => {
    expect(() => builtinOperators().register(gelu).register(gelu)).toThrow(/com\.microsoft::Gelu is already registered/);
    expect(() => builtinOperators().register({ opType: 'Relu', role: 'elementwise' })).toThrow(/Relu is already registered/);
  });

  it('merges through it in onnxruntime: a model zipped with itself keeps its outputs', async () => {
    const g = mlp(3);
    const models: ModelInput[] = [
      { name: 'A', graph: g, file: 'a.onnx' },
      { name: 'B', graph: g, file: 'b.onnx' },
    ];
    const r = new SeededRandom(5);
    const batches: Batch[] = [0, 1, 2, 3].map(() => ({ x: r.normalTensor([16, 8]) }));
    const merged = await mergeModels(models, { method: 'zipit', operators, data: () => batches, executor, threads: 1 });
    expect(merged.mergeGraph.points.length).toBe(2);
    expect(merged.stop).toBe(1);
    expect(merged.graph.nodes.filter((n) => n.opType === 'Gelu' && n.domain === 'com.microsoft').length).toBe(2);
    const own = await logits(g, batches[0].x);
    const both = await logits(merged.graph, batches[0].x);
    for (const name of ['A:logits', 'B:logits']) {
      const got = both[name];
      got.forEach((v, i) => expect(v).toBeCloseTo(own.logits[i], 4));
    }
  });
});
