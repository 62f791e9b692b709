import { sliceBounds, evaluateConstants, fixBatch, inferShapes, intsAttr, type ConstantValue, type Graph, type Node } from '@zipit/core';

/**
 * Shapes of every value, and the contents of small integer tensors, for one concrete batch size.
 *
 * Recognising attention means following channels through the Reshape/Transpose/Gather/Slice
 * chains that split them into heads, whose target shapes PyTorch computes at run time from
 * `Shape` (`x.reshape(B, N, 3, H, C // H)`, `cls_token.expand(B, -1, -1)`, …). With the batch
 * fixed (`fixBatch`), all of that arithmetic is constant: core's `evaluateConstants` folds it
 * (Expand/Where/Equal chains, B·H products) and static inference (`inferShapes`) on the folded
 * graph gives every activation a concrete shape. Everything is looked up under the original
 * graph's names: values folding removed keep their computed contents and shapes.
 * A value of unknown shape (an operator neither core pass understands) is undefined.
 */
export class ConcreteShapes {
  private readonly shapes = new Map<string, number[]>();
  private readonly vals: ReadonlyMap<string, ConstantValue>;

  constructor(
    graph: Graph,
    readonly batch: number,
  ) {
    const evaluated = evaluateConstants(fixBatch(graph, batch));
    this.vals = evaluated.values;
    for (const [name, t] of graph.initializers) this.shapes.set(name, [...t.shape]);
    for (const [name, v] of this.vals) this.shapes.set(name, [...v.shape]);
    for (const [name, s] of inferShapes(evaluated.graph).shapes) {
      if (s?.every((d): d is number => typeof d === 'number' && d >= 0)) this.shapes.set(name, s);
    }
  }

  shape(v: string): number[] | undefined {
    return this.shapes.get(v);
  }

  /** Row-major contents of a small known integer tensor (index, axes and shape vectors). */
  values(v: string): readonly number[] | undefined {
    return this.vals.get(v)?.values;
  }

  /** A known tensor holding exactly one number. */
  scalar(v: string): number | undefined {
    const x = this.vals.get(v)?.values;
    return x && x.length === 1 ? x[0] : undefined;
  }

  /** Start, step and count per axis of a Slice node applied to `shape`, when its bounds are known. */
  sliceSpec(node: Node, shape: readonly number[]): SliceAxis[] | undefined {
    const fromInputs = node.inputs.length > 1;
    const get = (k: number, attr: string) => (fromInputs ? (node.inputs[k] ? this.values(node.inputs[k]) : undefined) : intsAttr(node, attr));
    const starts = get(1, 'starts');
    const ends = get(2, 'ends');
    if (!starts || !ends) return undefined;
    const axes = (get(3, 'axes') ?? starts.map((_, k) => k)).map((a) => (a < 0 ? a + shape.length : a));
    const steps = get(4, 'steps') ?? starts.map(() => 1);
    const spec: SliceAxis[] = shape.map((d) => ({ start: 0, step: 1, count: d }));
    axes.forEach((a, k) => {
      spec[a] = sliceBounds(starts[k], ends[k], steps[k], shape[a]);
    });
    return spec;
  }
}

/** One axis of a slice: the first index taken, the stride between taken indices and how many. */
export interface SliceAxis {
  start: number;
  step: number;
  count: number;
}
