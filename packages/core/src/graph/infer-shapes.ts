import { opsetVersion, type Dim, type Graph, type GraphBody } from './graph.js';
import { defaultOperators } from '../ops/builtin.js';
import type { InferContext, InferResult } from '../ops/operator.js';
import type { OperatorRegistry } from '../ops/registry.js';
import { MAX_CONST, tensorConst, type ConstValue } from '../ops/shape-math.js';

export {
  broadcastShapes,
  constantNodeValue,
  normAxis,
  productDims,
  reduceAxesOf,
  reshapeShape,
  sumDims,
  tensorConst,
  type ConstValue,
} from '../ops/shape-math.js';

/**
 * Light static shape inference, plus constant propagation of the small integer tensors that
 * drive Reshape, so that the `Shape → Gather → Unsqueeze → Concat → Reshape` chain PyTorch emits
 * for `x.view(x.size(0), -1)` resolves to a known target shape. Symbolic dimensions (e.g.
 * "batch") flow through as strings. Each operator's inference is its `OperatorDef.infer` in the
 * operator registry (`ops/*.ts`); operators without one get unknown (null) output shapes, or the
 * model's value_info annotation; it never throws on them.
 */

export interface ShapeTable {
  /** Shape of a value, or null when unknown. Initializers and graph inputs included. */
  shapes: Map<string, Dim[] | null>;
  /** Values whose contents are known statically (small initializers, Constant nodes, shape arithmetic). */
  constants: Map<string, ConstValue>;
}

export function inferShapes(graph: GraphBody | Graph, operators: OperatorRegistry = defaultOperators): ShapeTable {
  const shapes = new Map<string, Dim[] | null>();
  const constants = new Map<string, ConstValue>();
  for (const [name, t] of graph.initializers) {
    shapes.set(name, [...t.shape]);
    const c = tensorConst(t);
    if (c) constants.set(name, c);
  }
  for (const vi of graph.inputs) if (!shapes.has(vi.name)) shapes.set(vi.name, vi.shape && [...vi.shape]);
  const annotated = new Map<string, Dim[] | null>();
  for (const vi of [...graph.valueInfo, ...graph.outputs]) if (vi.shape) annotated.set(vi.name, [...vi.shape]);
  const opset = 'opsetImports' in graph ? (opsetVersion(graph) ?? 13) : 13;
  const ctx: InferContext = {
    shape: (v) => (v ? (shapes.get(v) ?? null) : null),
    constant: (v) => (v ? constants.get(v) : undefined),
    opset,
  };
  for (const node of graph.nodes) {
    let result: InferResult = {};
    try {
      result = operators.of(node)?.infer?.(node, ctx) ?? {};
    } catch {
      result = {};
    }
    node.outputs.forEach((out, k) => {
      if (!out) return;
      const inferred = result.shapes?.[k] ?? null;
      shapes.set(out, inferred ?? annotated.get(out) ?? null);
      const c = result.constants?.[k];
      if (c && c.values.length <= MAX_CONST) constants.set(out, c);
    });
  }
  return { shapes, constants };
}
