import { getAttribute, intAttr, intsAttr, opsetVersion, type Graph, type Node } from './graph.js';
import { defaultOperators } from '../ops/builtin.js';
import type { OperatorRegistry } from '../ops/registry.js';
import { inferShapes } from './infer-shapes.js';
import { sizeOf, tensor, type DType, type Tensor } from '../tensor/tensor.js';
import { sliceBounds } from './slice-bounds.js';
import { dtypeOfOnnxCode } from '../tensor/onnx-dtype-codes.js';

/**
 * Constant folding of shape arithmetic. PyTorch computes the targets of `view`/`reshape`/`expand`
 * at run time when the batch axis is dynamic (`Shape → Gather → Unsqueeze → Concat → Reshape`),
 * and writes them as constants when every size is fixed. Once a model is bound to a fixed batch
 * (`fixBatch`), those computations are constants too; folding them gives the graph a fixed-size
 * export would have, so that a fixed and a dynamic export of one model compare as one
 * architecture (and the merged model carries no dead arithmetic).
 *
 * What folds: a node of the default domain whose every output is computed here, from
 * - integer and bool initializers and `Constant` nodes (float ones are weights: a float scalar
 *   initializer is only an operand next to a computed value, as in `size / 2.0`),
 * - `Shape`/`Size` of a value whose shape static inference (`inferShapes`, the operator
 *   registry) knows in full,
 * - the integer ops on such values: Gather, Unsqueeze, Squeeze, Concat, Slice, Reshape, Expand,
 *   Cast, ConstantOfShape, Range, Identity, Add/Sub/Mul/Div/Mod/Min/Max, Neg/Abs/Floor/Ceil,
 *   Equal/Less/Greater(OrEqual), Not/And/Or, Where.
 * Values derived that way may pass through a float type (`Cast(int → float) → Cast(float → int)`),
 * evaluated at that type's precision. Tensors beyond {@link MAX_FOLD} elements are not computed.
 * A folded value read by a remaining node becomes an initializer under the value's name; nodes
 * producing graph outputs stay, and initializers that only folded nodes read go. Folding repeats
 * until nothing more folds (see {@link evaluateConstants}).
 * The graph computes the same. Returns the input unchanged when nothing folds.
 */
export function foldConstants(graph: Graph, operators: OperatorRegistry = defaultOperators): Graph {
  return evaluateConstants(graph, operators).graph;
}

/** A value computed by {@link evaluateConstants}: element type, shape and row-major contents. */
export interface ConstantValue {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

/**
 * {@link foldConstants}, also returning every value it computed under the original graph's
 * names — folded values no remaining node reads are gone from the folded graph, but not from
 * `values` (with the integer initializers and `Constant` outputs). Folding repeats until nothing
 * more folds: a folded Reshape or Expand target gives static inference the shape of an activation
 * whose `Shape` folds in the next round (`cls_token.expand(B, -1, -1)` before `x.reshape(B, N, …)`).
 */
export function evaluateConstants(graph: Graph, operators: OperatorRegistry = defaultOperators): { graph: Graph; values: ReadonlyMap<string, ConstantValue> } {
  const values = new Map<string, Value>();
  let current = graph;
  for (;;) {
    const next = foldOnce(current, operators, values);
    if (next === current) return { graph: current, values };
    current = next;
  }
}

/** One round of folding; `known` collects the values computed. Returns `graph` itself when nothing folds. */
function foldOnce(graph: Graph, operators: OperatorRegistry, known: Map<string, Value>): Graph {
  const { shapes } = inferShapes(graph, operators);
  const opset = opsetVersion(graph) ?? 13;
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const floatScalars = new Map<string, Value>();
  for (const [name, t] of graph.initializers) {
    if (inputs.has(name) || t.data.length > MAX_FOLD) continue;
    if (isIntegral(t.dtype)) known.set(name, fromTensor(t));
    else if (isFloat(t.dtype) && t.data.length === 1) floatScalars.set(name, fromTensor(t));
  }
  const folded = new Set<Node>();
  for (const node of graph.nodes) {
    if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
    // A float scalar is an operand of shape arithmetic (`size / 2.0`), never folded on its own.
    const derived = ARITHMETIC.has(node.opType) && node.inputs.some((i) => i && known.has(i));
    const operands = derived ? (v: string) => known.get(v) ?? floatScalars.get(v) : (v: string) => known.get(v);
    let out: Value[] | undefined;
    try {
      out = evaluate(node, operands, (v) => shapes.get(v) ?? null, opset);
    } catch {
      out = undefined;
    }
    if (!out || out.length !== node.outputs.length || out.some((v) => sizeOf(v.shape) > MAX_FOLD)) continue;
    node.outputs.forEach((o, k) => known.set(o, out[k]));
    folded.add(node);
  }
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  for (const node of folded) if (node.outputs.some((o) => graphOutputs.has(o))) folded.delete(node);
  if (folded.size === 0) return graph;

  const nodes = graph.nodes.filter((n) => !folded.has(n));
  const read = new Set<string>();
  for (const n of nodes) for (const i of n.inputs) if (i) read.add(i);
  for (const o of graphOutputs) read.add(o);
  const initializers = new Map<string, Tensor>();
  const readByFolded = new Set<string>();
  for (const n of folded) for (const i of n.inputs) if (i) readByFolded.add(i);
  for (const [name, t] of graph.initializers) {
    if (readByFolded.has(name) && !read.has(name) && !inputs.has(name)) continue;
    initializers.set(name, t);
  }
  const made = new Set<string>();
  for (const n of folded) {
    for (const o of n.outputs) {
      if (!o || !read.has(o)) continue;
      initializers.set(o, toTensor(known.get(o)!));
      made.add(o);
    }
  }
  const valueInfo = graph.valueInfo.filter((vi) => !made.has(vi.name) && nodes.some((n) => n.outputs.includes(vi.name)));
  return { ...graph, nodes, initializers, valueInfo };
}

/** Operators that may take a float scalar initializer as an operand of shape arithmetic. */
const ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div', 'Mod', 'Min', 'Max', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);

/** Largest tensor computed while folding (shape vectors and small index tensors). */
export const MAX_FOLD = 4096;

/** A computed tensor: its element type, shape and row-major contents as plain numbers. */
interface Value {
  dtype: DType;
  shape: number[];
  values: number[];
}

const INTEGRAL = new Set<DType>(['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool']);

function isIntegral(dtype: DType): boolean {
  return INTEGRAL.has(dtype);
}

function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64';
}

function fromTensor(t: Tensor): Value {
  return { dtype: t.dtype, shape: [...t.shape], values: Array.from(t.data as ArrayLike<number | bigint>, Number) };
}

function toTensor(v: Value): Tensor {
  const n = v.values;
  switch (v.dtype) {
    case 'int64':
      return tensor(
        'int64',
        v.shape,
        BigInt64Array.from(n, (x) => BigInt(x)),
      );
    case 'uint64':
      return tensor(
        'uint64',
        v.shape,
        BigUint64Array.from(n, (x) => BigInt(x)),
      );
    case 'int32':
      return tensor('int32', v.shape, Int32Array.from(n));
    case 'uint32':
      return tensor('uint32', v.shape, Uint32Array.from(n));
    case 'int16':
      return tensor('int16', v.shape, Int16Array.from(n));
    case 'uint16':
      return tensor('uint16', v.shape, Uint16Array.from(n));
    case 'int8':
      return tensor('int8', v.shape, Int8Array.from(n));
    case 'uint8':
      return tensor('uint8', v.shape, Uint8Array.from(n));
    case 'bool':
      return tensor(
        'bool',
        v.shape,
        Uint8Array.from(n, (x) => (x ? 1 : 0)),
      );
    case 'float64':
      return tensor('float64', v.shape, Float64Array.from(n));
    default:
      return tensor('float32', v.shape, Float32Array.from(n));
  }
}

/** `x` as stored in `dtype`: integers truncate toward zero (ONNX Cast, integer Div), float32 rounds. */
function narrow(x: number, dtype: DType): number {
  if (dtype === 'bool') return x ? 1 : 0;
  if (dtype === 'float32') return Math.fround(x);
  if (dtype === 'float64') return x;
  return Math.trunc(x);
}

type ShapeOf = (v: string) => readonly (number | string | null)[] | null;

/** The node's outputs when all of them can be computed from what is known, else undefined. */
function evaluate(node: Node, known: (v: string) => Value | undefined, shapeOf: ShapeOf, opset: number): Value[] | undefined {
  const op = node.opType;
  if (op === 'Constant') {
    const t = getAttribute(node, 'value');
    if (t?.type === 'tensor') return isIntegral(t.value.dtype) ? [fromTensor(t.value)] : undefined;
    const i = getAttribute(node, 'value_int');
    if (i?.type === 'int') return [{ dtype: 'int64', shape: [], values: [i.value] }];
    const is = getAttribute(node, 'value_ints');
    if (is?.type === 'ints') return [{ dtype: 'int64', shape: [is.value.length], values: [...is.value] }];
    return undefined;
  }
  if (op === 'Shape' || op === 'Size') {
    const s = shapeOf(node.inputs[0]);
    if (!s || !s.every((d): d is number => typeof d === 'number' && d >= 0)) return undefined;
    if (op === 'Size') return [{ dtype: 'int64', shape: [], values: [sizeOf(s)] }];
    const start = clampAxis(intAttr(node, 'start', 0), s.length);
    const end = getAttribute(node, 'end') ? clampAxis(intAttr(node, 'end', s.length), s.length) : s.length;
    const values = s.slice(start, Math.max(start, end));
    return [{ dtype: 'int64', shape: [values.length], values }];
  }
  const args: (Value | undefined)[] = [];
  for (const i of node.inputs) {
    if (!i) {
      args.push(undefined);
      continue;
    }
    const v = known(i);
    if (!v) return undefined;
    args.push(v);
  }
  const kernel = KERNELS[op];
  const out = kernel?.(node, args, opset);
  return out && [out];
}

type Kernel = (node: Node, args: (Value | undefined)[], opset: number) => Value | undefined;

/** Axes from the attribute (older opsets) or the given input (newer ones). */
function axesOf(node: Node, args: (Value | undefined)[], input: number): number[] | undefined {
  return intsAttr(node, 'axes') ?? args[input]?.values;
}

function clampAxis(a: number, rank: number): number {
  const x = a < 0 ? a + rank : a;
  return Math.min(Math.max(x, 0), rank);
}

function norm(a: number, rank: number): number {
  const x = a < 0 ? a + rank : a;
  if (x < 0 || x >= rank) throw new RangeError(`axis ${a} out of range for rank ${rank}`);
  return x;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/** NumPy broadcasting of shapes; throws when they do not broadcast. */
function broadcast(shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const x = s[k - (rank - s.length)] ?? 1;
      if (x === 1) continue;
      if (d !== 1 && d !== x) throw new RangeError('shapes do not broadcast');
      d = x;
    }
    out.push(d);
  }
  return out;
}

/** Element `flat` of `shape` read from `v` broadcast to it. */
function at(v: Value, shape: readonly number[], outStrides: readonly number[], flat: number): number {
  const off = shape.length - v.shape.length;
  const vs = strides(v.shape);
  let idx = 0;
  for (let k = 0; k < v.shape.length; k++) {
    const coord = Math.floor(flat / outStrides[k + off]) % shape[k + off];
    idx += (v.shape[k] === 1 ? 0 : coord) * vs[k];
  }
  return v.values[idx];
}

function elementwise(args: readonly Value[], dtype: DType, f: (xs: number[]) => number): Value {
  const shape = broadcast(args.map((a) => a.shape));
  const st = strides(shape);
  const n = sizeOf(shape);
  const values: number[] = [];
  for (let e = 0; e < n; e++) values.push(narrow(f(args.map((a) => at(a, shape, st, e))), dtype));
  return { dtype, shape, values };
}

function binary(f: (a: number, b: number, dtype: DType, node: Node) => number): Kernel {
  return (node, [a, b]) => (a && b && a.dtype === b.dtype ? elementwise([a, b], a.dtype, ([x, y]) => f(x, y, a.dtype, node)) : undefined);
}

function compare(f: (a: number, b: number) => boolean): Kernel {
  return (_, [a, b]) => (a && b ? elementwise([a, b], 'bool', ([x, y]) => (f(x, y) ? 1 : 0)) : undefined);
}

function unary(f: (a: number) => number): Kernel {
  return (_, [a]) => (a ? elementwise([a], a.dtype, ([x]) => f(x)) : undefined);
}

function reshaped(a: Value, shape: number[]): Value {
  if (sizeOf(shape) !== a.values.length) throw new RangeError('reshape changes the element count');
  return { dtype: a.dtype, shape, values: a.values };
}

/** Integer division truncates toward zero, as onnxruntime's kernels do. */
function divide(a: number, b: number, dtype: DType): number {
  if (isFloat(dtype)) return a / b;
  if (b === 0) throw new RangeError('integer division by zero');
  return Math.trunc(a / b);
}

const KERNELS: Record<string, Kernel> = {
  Identity: (_, [a]) => a,
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary(divide),
  Mod: binary((a, b, dtype, node) => {
    if (!isFloat(dtype) && b === 0) throw new RangeError('integer modulo by zero');
    return intAttr(node, 'fmod', 0) === 1 || isFloat(dtype) ? a % b : ((a % b) + b) % b;
  }),
  Min: (_, args) => (args.every((a) => a) ? elementwise(args as Value[], args[0]!.dtype, (xs) => Math.min(...xs)) : undefined),
  Max: (_, args) => (args.every((a) => a) ? elementwise(args as Value[], args[0]!.dtype, (xs) => Math.max(...xs)) : undefined),
  Neg: unary((a) => -a),
  Abs: unary(Math.abs),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Equal: compare((a, b) => a === b),
  Less: compare((a, b) => a < b),
  Greater: compare((a, b) => a > b),
  LessOrEqual: compare((a, b) => a <= b),
  GreaterOrEqual: compare((a, b) => a >= b),
  And: compare((a, b) => a !== 0 && b !== 0),
  Or: compare((a, b) => a !== 0 || b !== 0),
  Not: (_, [a]) => (a ? elementwise([a], 'bool', ([x]) => (x ? 0 : 1)) : undefined),
  Where: (_, [c, a, b]) => (c && a && b ? elementwise([c, a, b], a.dtype, ([p, x, y]) => (p ? x : y)) : undefined),
  Cast: (node, [a]) => {
    const to = dtypeOfOnnxCode(intAttr(node, 'to', 0));
    if (!a || !to || !(isIntegral(to) || isFloat(to))) return undefined;
    if (!isFloat(to) && a.values.some((x) => !Number.isFinite(x))) return undefined;
    return { dtype: to, shape: [...a.shape], values: a.values.map((x) => narrow(x, to)) };
  },
  ConstantOfShape: (node, [s]) => {
    if (!s) return undefined;
    const t = getAttribute(node, 'value');
    const fill = t?.type === 'tensor' ? fromTensor(t.value) : { dtype: 'float32' as DType, shape: [1], values: [0] };
    if (!isIntegral(fill.dtype) && !isFloat(fill.dtype)) return undefined;
    return { dtype: fill.dtype, shape: [...s.values], values: new Array<number>(sizeOf(s.values)).fill(fill.values[0] ?? 0) };
  },
  Range: (_, [start, limit, delta]) => {
    if (!start || !limit || !delta || delta.values[0] === 0) return undefined;
    const [a, b, d] = [start.values[0], limit.values[0], delta.values[0]];
    const n = Math.max(Math.ceil((b - a) / d), 0);
    return { dtype: start.dtype, shape: [n], values: Array.from({ length: n }, (_, k) => narrow(a + k * d, start.dtype)) };
  },
  Unsqueeze: (node, args) => {
    const a = args[0];
    const axes = a && axesOf(node, args, 1);
    if (!a || !axes) return undefined;
    const rank = a.shape.length + axes.length;
    const at = new Set(axes.map((x) => norm(x, rank)));
    const shape: number[] = [];
    let k = 0;
    for (let d = 0; d < rank; d++) shape.push(at.has(d) ? 1 : a.shape[k++]);
    return reshaped(a, shape);
  },
  Squeeze: (node, args) => {
    const a = args[0];
    if (!a) return undefined;
    const axes = axesOf(node, args, 1)?.map((x) => norm(x, a.shape.length));
    return reshaped(
      a,
      a.shape.filter((d, k) => (axes ? !axes.includes(k) : d !== 1)),
    );
  },
  Reshape: (node, [a, target]) => {
    if (!a || !target) return undefined;
    const allowZero = intAttr(node, 'allowzero', 0) === 1;
    const shape = target.values.map((d, k) => (d === 0 && !allowZero ? a.shape[k] : d));
    const free = shape.indexOf(-1);
    if (free >= 0) shape[free] = a.values.length / sizeOf(shape.filter((_, k) => k !== free));
    return reshaped(a, shape);
  },
  Concat: (node, args) => {
    const ins = args.filter((a): a is Value => a !== undefined);
    if (ins.length !== args.length || ins.length === 0) return undefined;
    const axis = norm(intAttr(node, 'axis', 0), ins[0].shape.length);
    const shape = [...ins[0].shape];
    shape[axis] = ins.reduce((n, a) => n + a.shape[axis], 0);
    const outer = sizeOf(shape.slice(0, axis));
    const values: number[] = [];
    for (let o = 0; o < outer; o++) {
      for (const a of ins) {
        const chunk = sizeOf(a.shape.slice(axis));
        values.push(...a.values.slice(o * chunk, (o + 1) * chunk));
      }
    }
    return { dtype: ins[0].dtype, shape, values };
  },
  Gather: (node, [a, idx]) => {
    if (!a || !idx) return undefined;
    const axis = norm(intAttr(node, 'axis', 0), a.shape.length);
    const d = a.shape[axis];
    const picks = idx.values.map((k) => {
      const j = k < 0 ? k + d : k;
      if (j < 0 || j >= d) throw new RangeError(`index ${k} out of range`);
      return j;
    });
    const outer = sizeOf(a.shape.slice(0, axis));
    const inner = sizeOf(a.shape.slice(axis + 1));
    const values: number[] = [];
    for (let o = 0; o < outer; o++) for (const j of picks) for (let q = 0; q < inner; q++) values.push(a.values[(o * d + j) * inner + q]);
    return { dtype: a.dtype, shape: [...a.shape.slice(0, axis), ...idx.shape, ...a.shape.slice(axis + 1)], values };
  },
  Slice: (node, args, opset) => {
    const a = args[0];
    if (!a) return undefined;
    const fromInputs = opset >= 10;
    const get = (k: number, attr: string) => (fromInputs ? args[k]?.values : intsAttr(node, attr));
    const starts = get(1, 'starts');
    const ends = get(2, 'ends');
    if (!starts || !ends || (fromInputs && ((node.inputs[3] && !args[3]) || (node.inputs[4] && !args[4])))) return undefined;
    const rank = a.shape.length;
    const axes = (get(3, 'axes') ?? starts.map((_, k) => k)).map((x) => norm(x, rank));
    const steps = get(4, 'steps') ?? starts.map(() => 1);
    const first = a.shape.map(() => 0);
    const step = a.shape.map(() => 1);
    const count = [...a.shape];
    axes.forEach((ax, k) => {
      const b = sliceBounds(starts[k], ends[k], steps[k], a.shape[ax]);
      first[ax] = b.start;
      step[ax] = b.step;
      count[ax] = b.count;
    });
    const inStrides = strides(a.shape);
    const outStrides = strides(count);
    const values: number[] = [];
    for (let e = 0; e < sizeOf(count); e++) {
      let src = 0;
      for (let k = 0; k < rank; k++) src += (first[k] + (Math.floor(e / outStrides[k]) % count[k]) * step[k]) * inStrides[k];
      values.push(a.values[src]);
    }
    return { dtype: a.dtype, shape: count, values };
  },
  Expand: (_, [a, target]) => {
    if (!a || !target) return undefined;
    const shape = broadcast([a.shape, target.values]);
    const st = strides(shape);
    return { dtype: a.dtype, shape, values: Array.from({ length: sizeOf(shape) }, (_, e) => at(a, shape, st, e)) };
  },
};
