import { describe, expect, it } from 'vitest';
import { foldConstants, GraphBuilder, SeededRandom, type Graph, type Tensor } from '@zipit/core';
import { buildShapeArithmetic } from '@zipit/core/testing';
import { ModelSession } from '@zipit/runtime-ort';

/**
 * Constant folding of shape arithmetic (`foldConstants`, core) computes what onnxruntime
 * computes: the folded graph gives the original's outputs, bit for bit, and folded values that
 * stay graph outputs are what onnxruntime evaluates.
 */

async function run(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, number[]>> {
  const session = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number | bigint>, Number)]));
  } finally {
    await session.release();
  }
}

describe('foldConstants in onnxruntime', () => {
  it('folds x.view(x.size(0), -1) of a fixed batch (Shape → Gather → Unsqueeze → Concat → Reshape) to a constant Reshape that computes the same', async () => {
    const b = new GraphBuilder({ opset: 14 });
    const x = b.input('x', [2, 3, 4, 4]);
    b.output(b.gemm(b.viewFlat(b.relu(x)), 5), 'logits');
    const g = b.build();
    const f = foldConstants(g);
    expect(f.nodes.map((n) => n.opType)).toEqual(['Relu', 'Reshape', 'Gemm']);
    const feeds = { x: new SeededRandom(4).normalTensor([2, 3, 4, 4]) };
    const [want, got] = [await run(g, feeds), await run(f, feeds)];
    expect(got.logits).toEqual(want.logits);
  });

  it("evaluates integer Div, Casts through float, Range, a reversing Slice and PyTorch's expand lowering as onnxruntime does", async () => {
    const g = buildShapeArithmetic();
    const f = foldConstants(g);
    expect(f.nodes.some((n) => ['Shape', 'Gather', 'Cast', 'Where', 'Range', 'Slice'].includes(n.opType))).toBe(false);
    const feeds = { x: new SeededRandom(5).normalTensor([1, 7, 4]) };
    const [want, got] = [await run(g, feeds), await run(f, feeds)];
    expect(want.ints).toEqual([3, -3, 6, 3, 0]);
    expect(got).toEqual(want);
  });
});
