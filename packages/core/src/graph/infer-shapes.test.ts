import { describe, expect, it } from 'vitest';
import { tensor } from '../tensor/tensor.js';
import { GraphBuilder } from './builder.js';
import { buildSmallCnn, buildTokenMlp } from '../testing/models.js';
import { inferShapes, reshapeShape } from './infer-shapes.js';

describe('inferShapes', () => {
  it('follows a CNN from input to logits, including the x.view(x.size(0), -1) chain', () => {
    const g = buildSmallCnn({ width: 4, imageSize: 8, flatten: 'view', classes: 3 });
    const { shapes } = inferShapes(g);
    const byOp = (op: string) => g.nodes.filter((n) => n.opType === op).map((n) => shapes.get(n.outputs[0]));
    expect(byOp('Conv')[0]).toEqual(['batch', 4, 8, 8]);
    expect(byOp('MaxPool')[0]).toEqual(['batch', 4, 4, 4]);
    expect(byOp('Pad')[0]).toEqual(['batch', 4, 6, 6]);
    expect(byOp('Conv').at(-1)).toEqual(['batch', 8, 2, 2]);
    expect(byOp('GlobalAveragePool')[0]).toEqual(['batch', 8, 1, 1]);
    expect(byOp('Reshape')[0]).toEqual(['batch', 8]);
    expect(byOp('Gemm')[0]).toEqual(['batch', 3]);
  });

  it('propagates the constant target of a view chain with its symbolic batch', () => {
    const g = buildSmallCnn({ width: 4, imageSize: 8, flatten: 'view' });
    const { constants } = inferShapes(g);
    const concat = g.nodes.find((n) => n.opType === 'Concat')!;
    expect(constants.get(concat.outputs[0])?.values).toEqual(['batch', -1]);
  });

  it('handles MatMul on tokens, ReduceMean with keepdims=0 and opset-18 axes inputs', () => {
    for (const opset of [13, 18]) {
      const g = buildTokenMlp({ opset, tokens: 5, inFeatures: 6, hidden: 7, classes: 2 });
      const { shapes } = inferShapes(g);
      const mm = g.nodes.find((n) => n.opType === 'MatMul')!;
      expect(shapes.get(mm.outputs[0])).toEqual(['batch', 5, 7]);
      const rm = g.nodes.find((n) => n.opType === 'ReduceMean')!;
      expect(shapes.get(rm.outputs[0])).toEqual(['batch', 7]);
    }
  });

  it("evaluates PyTorch's dynamic F.pad lowering to constant pads", () => {
    // F.pad(x, (1, 1, 1, 1)) as torch 1.13 exports it: ConstantOfShape → Concat → Reshape([-1, 2])
    // → Slice(step -1) → Transpose → Reshape([-1]) → Cast → Pad.
    const b = new GraphBuilder();
    const x = b.input('x', ['batch', 2, 4, 4]);
    const i64 = (v: number[], shape = [v.length]) => b.constant(tensor('int64', shape, BigInt64Array.from(v.map(BigInt))));
    const [zeros] = b.node('ConstantOfShape', [i64([4])], {
      attributes: { value: { type: 'tensor', value: tensor('int64', [1], BigInt64Array.of(0n)) } },
      dtypes: ['int64'],
    });
    const [cat] = b.node('Concat', [i64([1, 1, 1, 1]), zeros], { attributes: { axis: { type: 'int', value: 0 } }, dtypes: ['int64'] });
    const [pairs] = b.node('Reshape', [cat, i64([-1, 2])], { dtypes: ['int64'] });
    const [rev] = b.node('Slice', [pairs, i64([-1]), i64([-(2 ** 62)]), i64([0]), i64([-1])], { dtypes: ['int64'] });
    const [tr] = b.node('Transpose', [rev], { attributes: { perm: { type: 'ints', value: [1, 0] } }, dtypes: ['int64'] });
    const [flat] = b.node('Reshape', [tr, i64([-1])], { dtypes: ['int64'] });
    const [pads] = b.node('Cast', [flat], { attributes: { to: { type: 'int', value: 7 } }, dtypes: ['int64'] });
    const [y] = b.node('Pad', [x, pads], { attributes: { mode: { type: 'string', value: 'constant' } } });
    b.output(y);
    const { shapes, constants } = inferShapes(b.build());
    expect(constants.get(pairs)?.values).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(constants.get(rev)?.values).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(constants.get(pads)?.values).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    expect(shapes.get(y)).toEqual(['batch', 2, 6, 6]);
  });

  it('leaves unknown operators unknown instead of failing', () => {
    const b = new GraphBuilder();
    const x = b.input('x', ['batch', 4]);
    const [y] = b.node('MyCustomOp', [x]);
    b.output(b.relu(y));
    const { shapes } = inferShapes(b.build());
    expect(shapes.get(y)).toBeNull();
  });

  it('reshapes with 0 (copy) and -1 (infer), cancelling symbolic dims', () => {
    expect(reshapeShape(['batch', 8, 10, 10], [0, 8, -1])).toEqual(['batch', 8, 100]);
    expect(reshapeShape(['batch', 8, 1, 1], ['batch', -1])).toEqual(['batch', 8]);
    expect(reshapeShape([2, 3, 4], [-1, 4])).toEqual([6, 4]);
    expect(reshapeShape(['batch', 3], [-1])).toEqual([null]);
  });
});
