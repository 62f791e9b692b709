import type { Dim, Node } from '../graph/graph.js';
import type { Rule } from './rule.js';
import type { ConstValue } from './shape-math.js';

/**
 * One operator, everything zipit knows about it in one registration: how channels propagate
 * through it (its merge rule), how to infer its output shapes (and small constant outputs), its
 * role and whether statistics are observed through it. Built-in operators are grouped one file
 * per family (`ops/linear.ts`, `ops/elementwise.ts`, …) and collected by `builtinOperators()`;
 * plugins add their own to an `OperatorRegistry` and pass it to `deriveMergeGraph`,
 * `inferShapes` and `mergeModels`.
 */
export interface OperatorDef {
  /** ONNX operator type, e.g. `Relu`. */
  readonly opType: string;
  /** Operator domain; '' (the default, also spelled `ai.onnx`) unless given, e.g. `com.microsoft`. */
  readonly domain?: string;
  readonly role: OperatorRole;
  /** How channels propagate through the operator; none: a node reading activations becomes a barrier. */
  readonly rule?: Rule;
  /** Output shapes (and small constant outputs); none: its outputs' shapes are unknown (or taken from value_info). */
  readonly infer?: ShapeInference;
  /**
   * Whether a merge point's statistics may be observed at this operator's input instead of its
   * output: it sits between a nonlinearity and the layer reading it and keeps each channel's
   * values (pooling, flatten, padding, identity), so observing before it sees the same space.
   */
  readonly observeThrough?: boolean;
}

/**
 * What an operator does to channels, as the engines need to know beyond its rule:
 * - `weight`: a layer with a weight at input 1 (Conv, Gemm, MatMul) — task heads are the weight
 *   layers that reach an output through no other, and their outputs are never merged;
 * - `shape`: its outputs describe shapes only, whatever its inputs (Shape, Size) — never a feature;
 * - `constant`: produces constants (Constant, ConstantOfShape);
 * - `elementwise`, `normalization`, `pooling`, `reduction`, `layout`, `attention`: descriptive
 *   (listings, plugins that recognise layers), no special treatment by the engines.
 */
export type OperatorRole = 'weight' | 'elementwise' | 'normalization' | 'pooling' | 'reduction' | 'layout' | 'attention' | 'shape' | 'constant';

/** What shape inference knows while visiting one node (values before it in graph order). */
export interface InferContext {
  /** Static shape of a value, or null when unknown. */
  shape(v: string | undefined): Dim[] | null;
  /** Statically known contents of a small tensor (shape arithmetic), or undefined. */
  constant(v: string | undefined): ConstValue | undefined;
  /** Default-domain opset of the model. */
  readonly opset: number;
}

/** Per output (by position): its shape (null: unknown) and its constant contents, when known. */
export interface InferResult {
  shapes?: (Dim[] | null)[];
  constants?: (ConstValue | undefined)[];
}

/** Infers a node's outputs; may return `{}` (nothing known) and may throw (treated as `{}`). */
export type ShapeInference = (node: Node, ctx: InferContext) => InferResult;

/** One definition per operator type, all sharing `common` (a family of activations, of reductions…). */
export function operators(opTypes: readonly string[], common: Omit<OperatorDef, 'opType'>): OperatorDef[] {
  return opTypes.map((opType) => ({ opType, ...common }));
}
