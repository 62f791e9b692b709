import { describe, expect, it } from 'vitest';
import { buildShapeArithmetic } from '../testing/shape-arithmetic.js';
import { GraphBuilder } from './builder.js';
import { evaluateConstants, foldConstants } from './fold-constants.js';
import type { AttributeValue, Graph } from './graph.js';
import { tensor } from '../tensor/tensor.js';

/** Contents of an initializer as plain numbers. */
function values(g: Graph, name: string): number[] {
  return Array.from(g.initializers.get(name)!.data as ArrayLike<number | bigint>, Number);
}

/** `x.view(x.size(0), -1)` of a [batch, 3, 4, 4] input, then a linear layer. */
function viewModel(batch: number | string): Graph {
  const b = new GraphBuilder({ opset: 14 });
  const x = b.input('x', [batch, 3, 4, 4]);
  b.output(b.gemm(b.viewFlat(x), 5), 'logits');
  return b.build();
}

describe('foldConstants', () => {
  it('folds the Shape → Gather → Unsqueeze → Concat chain of a fixed batch into the Reshape target', () => {
    const g = viewModel(2);
    const f = foldConstants(g);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Shape', 'Constant', 'Gather', 'Constant', 'Unsqueeze', 'Constant', 'Concat', 'Reshape', 'Gemm']);
    expect(f.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Gemm']);
    const target = f.nodes[0].inputs[1];
    expect(target).toBe(g.nodes.find((n) => n.opType === 'Concat')!.outputs[0]);
    expect(f.initializers.get(target)?.dtype).toBe('int64');
    expect(values(f, target)).toEqual([2, -1]);
    // The weights stay, nothing else is left behind.
    expect([...f.initializers.keys()].sort()).toEqual([...g.initializers.keys(), target].sort());
  });

  it('leaves the chain of a symbolic batch computed (its Constant nodes become initializers)', () => {
    const f = foldConstants(viewModel('batch'));
    expect(f.nodes.map((n) => n.opType)).toEqual(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape', 'Gemm']);
    expect(foldConstants(f)).toBe(f);
  });

  it("evaluates integer arithmetic as onnxruntime does: Div truncates, Cast through float, Slice, Range, PyTorch's expand lowering", () => {
    const g = buildShapeArithmetic();
    const f = foldConstants(g);

    // Graph outputs stay computed; everything feeding them folds.
    const producer = (v: string) => f.nodes.find((n) => n.outputs.includes(v));
    expect(producer('ints')?.opType).toBe('Concat');
    expect(producer('ints')!.inputs.map((i) => values(f, i))).toEqual([[3], [-3], [6, 3, 0]]);
    const expand = f.nodes.find((n) => n.opType === 'Expand')!;
    expect(expand.inputs[0]).toBe('token');
    expect(values(f, expand.inputs[1])).toEqual([1, 1, 1]);
    expect(values(f, producer('y')!.inputs[1])).toEqual([1, 7, -1]);
    expect(f.nodes.map((n) => n.opType).sort()).toEqual(['Concat', 'Concat', 'Expand', 'Reshape']);
    // The weight stays; the float scalar of `7 / 2.0` went with the arithmetic it belonged to.
    expect(f.initializers.has('token')).toBe(true);
    expect([...f.initializers.values()].filter((t) => t.dtype === 'float32').length).toBe(1);
  });

  it('folds again once a folded value gives an activation its shape, and returns every value under its original name', () => {
    // `x` [1, 7, 4] reshaped to [1, len(range(0, 7)), -1]: static inference knows no shape for
    // Range's output until it is folded, so its `Shape` folds in a second round.
    const b = new GraphBuilder({ opset: 14, constants: 'initializer' });
    const x = b.input('x', [1, 7, 4]);
    const i64 = (v: number[], shape = [v.length]) => b.constant(tensor('int64', shape, BigInt64Array.from(v.map(BigInt))));
    const axis0: Record<string, AttributeValue> = { axis: { type: 'int', value: 0 } };
    const node = (op: string, ins: string[], attributes: Record<string, AttributeValue> = {}) => b.node(op, ins, { attributes, dtypes: ['int64'] })[0];
    const seven = node('Gather', [node('Shape', [x]), i64([1], [])], axis0);
    const range = node('Range', [i64([0], []), seven, i64([1], [])]);
    const length = node('Shape', [range]);
    const target = node('Concat', [i64([1]), length, i64([-1])], axis0);
    b.output(b.node('Reshape', [x, target], { dtypes: ['float32'] })[0], 'y');
    const g = b.build();

    const { graph: f, values: known } = evaluateConstants(g);
    expect(f.nodes.map((n) => n.opType)).toEqual(['Reshape']);
    expect(values(f, target)).toEqual([1, 7, -1]);
    expect(foldConstants(g).nodes).toEqual(f.nodes);
    // Values no remaining node reads are gone from the graph but not from `values`.
    expect(f.initializers.has(range)).toBe(false);
    expect(known.get(range)).toEqual({ dtype: 'int64', shape: [7], values: [0, 1, 2, 3, 4, 5, 6] });
    expect(known.get(length)?.values).toEqual([7]);
    expect(known.get(seven)).toEqual({ dtype: 'int64', shape: [], values: [7] });
  });
});
