import type { Tensor } from '../tensor/tensor.js';
import { floatAttr, getAttribute, intAttr, intsAttr, opsetVersion, type Dim, type Graph, type GraphBody, type Node } from './graph.js';

/**
 * Light static shape inference for the operators of classification CNNs, MLPs and transformers,
 * plus constant propagation of the small integer tensors that drive Reshape, so that the
 * `Shape → Gather → Unsqueeze → Concat → Reshape` chain PyTorch emits for `x.view(x.size(0), -1)`
 * resolves to a known target shape. Symbolic dimensions (e.g. "batch") flow through as strings.
 * Operators it does not know get unknown (null) output shapes; it never throws on them.
 */

/** A small constant tensor known at inference time; `values` may hold symbolic dims (from Shape). */
export interface ConstValue {
  shape: number[];
  values: Dim[];
}

export interface ShapeTable {
  /** Shape of a value, or null when unknown. Initializers and graph inputs included. */
  shapes: Map<string, Dim[] | null>;
  /** Values whose contents are known statically (small initializers, Constant nodes, shape arithmetic). */
  constants: Map<string, ConstValue>;
}

/** Constants larger than this are not tracked (only shape-like tensors matter). */
const MAX_CONST = 4096;

export function inferShapes(graph: GraphBody | Graph): ShapeTable {
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
  const opset = 'opsetImports' in graph ? opsetVersion(graph) ?? 13 : 13;
  const ctx: InferContext = {
    shape: (v) => (v ? shapes.get(v) ?? null : null),
    constant: (v) => (v ? constants.get(v) : undefined),
    opset,
  };
  for (const node of graph.nodes) {
    let result: NodeResult = {};
    try {
      result = inferNode(node, ctx);
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

interface InferContext {
  shape(v: string | undefined): Dim[] | null;
  constant(v: string | undefined): ConstValue | undefined;
  opset: number;
}

interface NodeResult {
  shapes?: (Dim[] | null)[];
  constants?: (ConstValue | undefined)[];
}

const SAME_SHAPE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign',
  'HardSigmoid', 'HardSwish', 'Mish', 'Clip', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Reciprocal', 'Floor', 'Ceil',
  'Round', 'Sign', 'Identity', 'Dropout', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'Not', 'Sin', 'Cos', 'ThresholdedRelu',
]);

const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Mod',
]);

function inferNode(node: Node, ctx: InferContext): NodeResult {
  const op = node.domain === '' || node.domain === 'ai.onnx' ? node.opType : '';
  const x = ctx.shape(node.inputs[0]);
  if (SAME_SHAPE.has(op)) {
    const out: (Dim[] | null)[] = [x];
    if (op === 'Dropout' && node.outputs.length > 1) out.push(x);
    return { shapes: out, constants: op === 'Identity' ? [ctx.constant(node.inputs[0])] : undefined };
  }
  if (BROADCAST.has(op)) {
    const ins = node.inputs.filter((i) => i).map((i) => ctx.shape(i));
    const shape = ins.reduce<Dim[] | null>((acc, s) => broadcastShapes(acc, s), ins[0] ?? null);
    const constant = op === 'Where' ? constWhere(node, ctx) : op === 'Equal' ? constEqual(node, ctx) : constArith(op, node, ctx);
    return { shapes: [shape], constants: [constant] };
  }
  switch (op) {
    case 'Conv': return { shapes: [convShape(node, ctx)] };
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const s = poolShape(node, x);
      return { shapes: node.outputs.length > 1 ? [s, s] : [s] };
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': case 'GlobalLpPool':
      return { shapes: [x && [x[0], x[1], ...x.slice(2).map(() => 1)]] };
    case 'Gemm': {
      const a = x;
      const b = ctx.shape(node.inputs[1]);
      if (!a || !b || a.length !== 2 || b.length !== 2) return {};
      const m = intAttr(node, 'transA', 0) ? a[1] : a[0];
      const n = intAttr(node, 'transB', 0) ? b[0] : b[1];
      return { shapes: [[m, n]] };
    }
    case 'MatMul': return { shapes: [matmulShape(x, ctx.shape(node.inputs[1]))] };
    case 'Flatten': {
      if (!x) return {};
      const axis = normAxis(intAttr(node, 'axis', 1), x.length + 1);
      return { shapes: [[productDims(x.slice(0, axis)), productDims(x.slice(axis))]] };
    }
    case 'Reshape': {
      const target = ctx.constant(node.inputs[1]);
      // A computed target of known length still gives the rank (nn.MultiheadAttention's head split).
      if (!target) return { shapes: [unknownDims(ctx.shape(node.inputs[1]))] };
      const shape = reshapeShape(x, target.values, intAttr(node, 'allowzero', 0) === 1);
      const c = ctx.constant(node.inputs[0]);
      return { shapes: [shape], constants: [c && shape && shape.every(isNum) ? { shape: shape as number[], values: c.values } : undefined] };
    }
    case 'Transpose': {
      if (!x) return {};
      const perm = intsAttr(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      const shape = perm.map((p) => x[p]);
      const c = ctx.constant(node.inputs[0]);
      const constant = c && shape.every(isNum)
        ? { shape: shape as number[], values: gatherConst(c, shape as number[], (dst) => perm.map((_, a) => dst[perm.indexOf(a)])) }
        : undefined;
      return { shapes: [shape], constants: [constant] };
    }
    case 'Squeeze': case 'Unsqueeze': {
      const axes = axesOf(node, ctx, 1);
      const c = ctx.constant(node.inputs[0]);
      if (!x) return {};
      let shape: Dim[] | null;
      if (op === 'Squeeze') {
        const norm = axes ? axes.map((a) => normAxis(a, x.length)) : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
        shape = x.filter((_, i) => !norm.includes(i));
      } else {
        if (!axes) return {};
        const rank = x.length + axes.length;
        const norm = axes.map((a) => normAxis(a, rank));
        shape = [];
        let src = 0;
        for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x[src++]);
      }
      return { shapes: [shape], constants: [c && shape.every(isNum) ? { shape: shape as number[], values: c.values } : undefined] };
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2':
    case 'ReduceL1': case 'ReduceSumSquare': case 'ReduceLogSumExp': {
      if (!x) return {};
      const axes = reduceAxes(node, ctx, x.length);
      if (axes === null) return {};
      const keep = intAttr(node, 'keepdims', 1) === 1;
      return { shapes: [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))] };
    }
    case 'Concat': {
      const ins = node.inputs.filter((i) => i).map((i) => ctx.shape(i));
      if (ins.some((s) => !s) || ins.length === 0) return {};
      const shapes = ins as Dim[][];
      const axis = normAxis(intAttr(node, 'axis', 0), shapes[0].length);
      const out = shapes[0].map((d, i) => (i === axis ? sumDims(shapes.map((s) => s[axis])) : d));
      const cs = node.inputs.filter((i) => i).map((i) => ctx.constant(i));
      const constant = shapes[0].length === 1 && cs.every((c) => c)
        ? { shape: [cs.reduce((n, c) => n + c!.values.length, 0)], values: cs.flatMap((c) => c!.values) }
        : undefined;
      return { shapes: [out], constants: [constant] };
    }
    case 'Pad': {
      if (!x) return {};
      const pads = ctx.opset >= 11 || !intsAttr(node, 'pads') ? ctx.constant(node.inputs[1])?.values : intsAttr(node, 'pads');
      if (!pads) return {};
      const axesC = node.inputs[3] ? ctx.constant(node.inputs[3]) : undefined;
      const axes = axesC ? axesC.values.map((a) => normAxis(Number(a), x.length)) : x.map((_, i) => i);
      const out = [...x];
      axes.forEach((a, k) => {
        const grow = (pads[k] as number) + (pads[k + axes.length] as number);
        out[a] = grow === 0 ? x[a] : typeof x[a] === 'number' ? (x[a] as number) + grow : null;
      });
      return { shapes: [out] };
    }
    case 'Shape': {
      if (!x) return { shapes: [null] };
      const start = normAxisClamp(intAttr(node, 'start', 0), x.length);
      const end = getAttribute(node, 'end') ? normAxisClamp(intAttr(node, 'end', x.length), x.length) : x.length;
      const values = x.slice(start, Math.max(start, end));
      return { shapes: [[values.length]], constants: [{ shape: [values.length], values }] };
    }
    case 'Size': {
      return { shapes: [[]], constants: [x ? { shape: [], values: [productDims(x)] } : undefined] };
    }
    case 'Gather': {
      const idx = ctx.constant(node.inputs[1]);
      const ishape = ctx.shape(node.inputs[1]);
      if (!x || !ishape) return {};
      const axis = normAxis(intAttr(node, 'axis', 0), x.length);
      const shape = [...x.slice(0, axis), ...ishape, ...x.slice(axis + 1)];
      const data = ctx.constant(node.inputs[0]);
      let constant: ConstValue | undefined;
      if (data && idx && x.length === 1) {
        const values = idx.values.map((i) => data.values[normAxis(Number(i), data.values.length)]);
        constant = { shape: [...idx.shape], values };
      }
      return { shapes: [shape], constants: [constant] };
    }
    case 'Slice': return sliceShape(node, ctx, x);
    case 'Cast': return { shapes: [x], constants: [ctx.constant(node.inputs[0])] };
    case 'Constant': {
      const c = constantNodeValue(node);
      return { shapes: [c ? c.shape : null], constants: [c] };
    }
    case 'ConstantOfShape': {
      const s = ctx.constant(node.inputs[0]);
      if (!s) return { shapes: [null] };
      const v = getAttribute(node, 'value');
      const fill = v && v.type === 'tensor' ? tensorConst(v.value)?.values[0] ?? 0 : 0;
      const shape = s.values;
      const constant = shape.every(isNum) ? { shape: shape as number[], values: new Array<Dim>(productDims(shape) as number).fill(fill) } : undefined;
      return { shapes: [shape], constants: [constant] };
    }
    case 'Expand': {
      const s = ctx.constant(node.inputs[1]);
      if (s) return { shapes: [broadcastShapes(x, s.values)] };
      const target = unknownDims(ctx.shape(node.inputs[1]));
      return { shapes: [x && target ? broadcastShapes(x.map((d) => (d === 1 ? null : d)), target) : null] };
    }
    case 'Split': return { shapes: splitShapes(node, ctx, x) };
    default:
      return {};
  }
}

// ---------------------------------------------------------------- helpers

function isNum(d: Dim): d is number {
  return typeof d === 'number';
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function normAxisClamp(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return Math.min(Math.max(a, 0), rank);
}

/** Product of dims: numbers multiply; one symbolic dim times numbers that multiply to 1 stays symbolic. */
export function productDims(dims: readonly Dim[]): Dim {
  let p = 1;
  let symbolic: Dim | undefined;
  for (const d of dims) {
    if (typeof d === 'number') p *= d;
    else if (d === null || symbolic !== undefined) return null;
    else symbolic = d;
  }
  if (symbolic === undefined) return p;
  return p === 1 ? symbolic : null;
}

/** Sum of dims, or null when any is not a fixed number. */
export function sumDims(dims: readonly Dim[]): Dim {
  let s = 0;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    s += d;
  }
  return s;
}

/** NumPy broadcasting of two shapes; unknown when either is unknown. */
export function broadcastShapes(a: readonly Dim[] | null, b: readonly Dim[] | null): Dim[] | null {
  if (!a || !b) return null;
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === 1) out.push(db);
    else if (db === 1 || da === db) out.push(da);
    else if (typeof da === 'number' && typeof db === 'number') return null;
    else out.push(typeof da === 'number' ? da : db);
  }
  return out;
}

function matmulShape(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
  if (!a || !b || a.length === 0 || b.length === 0) return null;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) return null;
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

function convShape(node: Node, ctx: InferContext): Dim[] | null {
  const w = ctx.shape(node.inputs[1]);
  if (!w) return null;
  const x = ctx.shape(node.inputs[0]) ?? w.map(() => null);
  const spatial = x.length - 2;
  const kernel = intsAttr(node, 'kernel_shape') ?? (w.slice(2) as number[]);
  return [x[0], w[0], ...windowed(node, x.slice(2), kernel, spatial)];
}

function poolShape(node: Node, x: Dim[] | null): Dim[] | null {
  if (!x) return null;
  const kernel = intsAttr(node, 'kernel_shape');
  if (!kernel) return null;
  return [x[0], x[1], ...windowed(node, x.slice(2), kernel, x.length - 2)];
}

function windowed(node: Node, dims: Dim[], kernel: readonly number[], spatial: number): Dim[] {
  const strides = intsAttr(node, 'strides') ?? new Array<number>(spatial).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? new Array<number>(spatial).fill(1);
  const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
  const autoPad = getAttribute(node, 'auto_pad');
  const mode = autoPad && autoPad.type === 'string' ? autoPad.value : 'NOTSET';
  const ceil = intAttr(node, 'ceil_mode', 0) === 1;
  return dims.map((d, i) => {
    if (typeof d !== 'number') return null;
    if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') return Math.ceil(d / strides[i]);
    const eff = dilations[i] * (kernel[i] - 1) + 1;
    const pad = mode === 'VALID' ? 0 : pads[i] + pads[i + spatial];
    const q = (d + pad - eff) / strides[i];
    return (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  });
}

/**
 * ONNX Reshape of `x` to `target` (0 copies the input dim unless allowzero, -1 is inferred).
 * Symbolic dims that appear in both shapes cancel, so `[batch, 8, 1, 1]` → `[batch, -1]` gives `[batch, 8]`.
 */
export function reshapeShape(x: readonly Dim[] | null, target: readonly Dim[], allowZero = false): Dim[] | null {
  const dims: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (x ? x[i] ?? null : null) : t));
  const inferred = dims.indexOf(-1);
  if (inferred < 0) return dims;
  // An unknown input dim leaves the inferred one unknown; the rank is still the target's.
  if (!x || x.includes(null)) {
    dims[inferred] = null;
    return dims;
  }
  let num = 1;
  const sym: Dim[] = [];
  for (const d of x) {
    if (typeof d === 'number') num *= d;
    else sym.push(d as string);
  }
  let den = 1;
  for (let i = 0; i < dims.length; i++) {
    if (i === inferred) continue;
    const d = dims[i];
    if (typeof d === 'number') den *= d;
    else {
      const k = sym.indexOf(d);
      if (d === null || k < 0) return null;
      sym.splice(k, 1);
    }
  }
  if (sym.length > 0 || den === 0 || num % den !== 0) {
    dims[inferred] = sym.length === 1 && num === den ? sym[0] : null;
    return dims;
  }
  dims[inferred] = num / den;
  return dims;
}

function axesOf(node: Node, ctx: InferContext, input: number): number[] | undefined {
  const attr = intsAttr(node, 'axes');
  if (attr) return attr;
  const c = ctx.constant(node.inputs[input]);
  if (c && c.values.every(isNum)) return c.values as number[];
  return undefined;
}

/** Normalised reduction axes, [] meaning "none" when noop_with_empty_axes, or null when unknown. */
export function reduceAxesOf(node: Node, rank: number, constant: (v: string) => ConstValue | undefined): number[] | null {
  const attr = intsAttr(node, 'axes');
  let axes: number[] | undefined = attr;
  if (!axes && node.inputs[1]) {
    const c = constant(node.inputs[1]);
    if (!c || !c.values.every(isNum)) return null;
    axes = c.values as number[];
  }
  if (!axes || axes.length === 0) {
    return intAttr(node, 'noop_with_empty_axes', 0) === 1 ? [] : Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => normAxis(a, rank));
}

function reduceAxes(node: Node, ctx: InferContext, rank: number): number[] | null {
  return reduceAxesOf(node, rank, (v) => ctx.constant(v));
}

function sliceShape(node: Node, ctx: InferContext, x: Dim[] | null): NodeResult {
  if (!x) return {};
  let starts: Dim[] | undefined;
  let ends: Dim[] | undefined;
  let axes: Dim[] | undefined;
  let steps: Dim[] | undefined;
  if (ctx.opset < 10 && intsAttr(node, 'starts')) {
    starts = intsAttr(node, 'starts');
    ends = intsAttr(node, 'ends');
    axes = intsAttr(node, 'axes');
  } else {
    starts = ctx.constant(node.inputs[1])?.values;
    ends = ctx.constant(node.inputs[2])?.values;
    axes = node.inputs[3] ? ctx.constant(node.inputs[3])?.values : undefined;
    steps = node.inputs[4] ? ctx.constant(node.inputs[4])?.values : undefined;
    if ((node.inputs[3] && !axes) || (node.inputs[4] && !steps)) return {};
  }
  if (!starts || !ends) {
    // Computed bounds (the Q/K/V thirds of a fused projection): the sliced axes are unknown, the rank is not.
    const count = ctx.shape(node.inputs[1])?.[0];
    const listed = axes ?? (isNum(count ?? null) ? Array.from({ length: count as number }, (_, i) => i) : null);
    const sliced = listed?.every(isNum) ? listed.map((a) => normAxis(a as number, x.length)) : null;
    return { shapes: [x.map((d, i) => (sliced === null || sliced.includes(i) ? null : d))] };
  }
  const out = [...x];
  // Per axis: first index, step and count (ONNX Slice semantics, negative steps included).
  const picks = new Map<number, { first: number; step: number; count: number }>();
  for (let k = 0; k < starts.length; k++) {
    const axis = normAxis(Number(axes ? axes[k] : k), x.length);
    const d = x[axis];
    const step = steps ? Number(steps[k]) : 1;
    if (typeof d !== 'number' || !isNum(starts[k]) || !isNum(ends[k]) || step === 0) {
      out[axis] = null;
      continue;
    }
    let s = starts[k] as number;
    let e = ends[k] as number;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const count = Math.max(0, Math.ceil((e - s) / step));
    out[axis] = count;
    picks.set(axis, { first: s, step, count });
  }
  const data = ctx.constant(node.inputs[0]);
  let constant: ConstValue | undefined;
  if (data && out.every(isNum) && data.shape.length === x.length) {
    const index = (axis: number, i: number) => {
      const p = picks.get(axis);
      return p ? p.first + i * p.step : i;
    };
    constant = { shape: out as number[], values: gatherConst(data, out as number[], (dst) => dst.map((i, a) => index(a, i))) };
  }
  return { shapes: [out], constants: [constant] };
}

/** Builds a constant of `shape` whose element at index `dst` is `src` at `sourceIndex(dst)`. */
function gatherConst(src: ConstValue, shape: readonly number[], sourceIndex: (dst: number[]) => number[]): Dim[] {
  const total = shape.reduce((p, d) => p * d, 1);
  const srcStrides = strides(src.shape);
  const values: Dim[] = [];
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    for (let a = shape.length - 1; a >= 0; a--) {
      idx[a] = rem % shape[a];
      rem = Math.floor(rem / shape[a]);
    }
    const s = sourceIndex(idx);
    let off = 0;
    for (let a = 0; a < s.length; a++) off += s[a] * srcStrides[a];
    values.push(src.values[off]);
  }
  return values;
}

function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let a = shape.length - 2; a >= 0; a--) out[a] = out[a + 1] * shape[a + 1];
  return out;
}

function constArith(op: string, node: Node, ctx: InferContext): ConstValue | undefined {
  if (!['Add', 'Sub', 'Mul', 'Div', 'Mod'].includes(op) || node.inputs.length !== 2) return undefined;
  const a = ctx.constant(node.inputs[0]);
  const b = ctx.constant(node.inputs[1]);
  if (!a || !b) return undefined;
  const n = Math.max(a.values.length, b.values.length);
  if ((a.values.length !== n && a.values.length !== 1) || (b.values.length !== n && b.values.length !== 1)) return undefined;
  const values: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const p = a.values[a.values.length === 1 ? 0 : i];
    const q = b.values[b.values.length === 1 ? 0 : i];
    if (!isNum(p) || !isNum(q)) {
      if (op === 'Mul' && (p === 1 || q === 1)) values.push(p === 1 ? q : p);
      else if ((op === 'Add' || op === 'Sub') && q === 0) values.push(p);
      else if (op === 'Div' && q === 1) values.push(p);
      else values.push(null);
      continue;
    }
    if (op === 'Add') values.push(p + q);
    else if (op === 'Sub') values.push(p - q);
    else if (op === 'Mul') values.push(p * q);
    // Mod: integer remainder with the divisor's sign (fmod=0), what window padding (Swin) computes.
    else if (op === 'Mod') values.push(q === 0 ? null : intAttr(node, 'fmod', 0) === 1 ? p % q : ((p % q) + q) % q);
    else values.push(Number.isInteger(p) && Number.isInteger(q) ? Math.trunc(p / q) : p / q);
  }
  return { shape: a.values.length >= b.values.length ? [...a.shape] : [...b.shape], values };
}

/** A shape of `[k]` (a 1-d shape tensor of known length) as k unknown dims; null otherwise. */
function unknownDims(shapeOfShape: Dim[] | null): Dim[] | null {
  const k = shapeOfShape?.length === 1 ? shapeOfShape[0] : undefined;
  return typeof k === 'number' ? new Array<Dim>(k).fill(null) : null;
}

/** Split into `split` sizes (input or attribute) or equal parts (one per output), along `axis`. */
function splitShapes(node: Node, ctx: InferContext, x: Dim[] | null): (Dim[] | null)[] {
  if (!x) return [];
  const axis = normAxis(intAttr(node, 'axis', 0), x.length);
  const n = node.outputs.length;
  const given = intsAttr(node, 'split') ?? (node.inputs[1] ? ctx.constant(node.inputs[1])?.values : undefined);
  const d = x[axis];
  const sizes: Dim[] = given
    ? given
    : typeof d === 'number' && d % n === 0 ? new Array<Dim>(n).fill(d / n) : new Array<Dim>(n).fill(null);
  return sizes.map((s) => x.map((v, i) => (i === axis ? (isNum(s) ? s : null) : v)));
}

/**
 * Equal of two small constants. A symbolic dim (a size) equals no negative number, which is what
 * PyTorch's `expand(n, -1, -1)` lowering asks (`Where(Equal(shape, -1), 1, shape)`).
 */
function constEqual(node: Node, ctx: InferContext): ConstValue | undefined {
  const a = ctx.constant(node.inputs[0]);
  const b = ctx.constant(node.inputs[1]);
  if (!a || !b) return undefined;
  const n = Math.max(a.values.length, b.values.length);
  if ((a.values.length !== n && a.values.length !== 1) || (b.values.length !== n && b.values.length !== 1)) return undefined;
  const values: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const p = a.values[a.values.length === 1 ? 0 : i];
    const q = b.values[b.values.length === 1 ? 0 : i];
    if (isNum(p) && isNum(q)) values.push(p === q ? 1 : 0);
    else if (p !== null && q !== null && p === q) values.push(1);
    else if ((typeof p === 'string' && isNum(q) && q < 0) || (typeof q === 'string' && isNum(p) && p < 0)) values.push(0);
    else values.push(null);
  }
  return { shape: a.values.length >= b.values.length ? [...a.shape] : [...b.shape], values };
}

/** Where(cond, x, y) of small constants of one length (or scalars). */
function constWhere(node: Node, ctx: InferContext): ConstValue | undefined {
  const cs = [0, 1, 2].map((i) => ctx.constant(node.inputs[i]));
  if (cs.some((c) => !c)) return undefined;
  const [c, a, b] = cs as ConstValue[];
  const n = Math.max(c.values.length, a.values.length, b.values.length);
  if ([c, a, b].some((t) => t.values.length !== n && t.values.length !== 1)) return undefined;
  const at = (t: ConstValue, i: number) => t.values[t.values.length === 1 ? 0 : i];
  const values: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const cond = at(c, i);
    values.push(cond === null || typeof cond === 'string' ? null : cond !== 0 ? at(a, i) : at(b, i));
  }
  const shape = [c, a, b].find((t) => t.values.length === n)!.shape;
  return { shape: [...shape], values };
}

/** The value of a Constant node (tensor or value_int(s)/value_float(s)), or undefined. */
export function constantNodeValue(node: Node): ConstValue | undefined {
  const v = getAttribute(node, 'value');
  if (v && v.type === 'tensor') return tensorConst(v.value);
  const i = getAttribute(node, 'value_int');
  if (i && i.type === 'int') return { shape: [], values: [i.value] };
  const is = getAttribute(node, 'value_ints');
  if (is && is.type === 'ints') return { shape: [is.value.length], values: [...is.value] };
  const f = getAttribute(node, 'value_float');
  if (f && f.type === 'float') return { shape: [], values: [floatAttr(node, 'value_float', 0)] };
  const fs = getAttribute(node, 'value_floats');
  if (fs && fs.type === 'floats') return { shape: [fs.value.length], values: [...fs.value] };
  return undefined;
}

/** Numeric contents of a small tensor as plain numbers (int64 narrowed), or undefined. */
export function tensorConst(t: Tensor): ConstValue | undefined {
  if (t.dtype === 'string' || t.dtype === 'float16' || t.dtype === 'bfloat16') return undefined;
  if (t.data.length > MAX_CONST) return undefined;
  const values: number[] = [];
  for (let i = 0; i < t.data.length; i++) values.push(Number((t.data as ArrayLike<number | bigint>)[i]));
  return { shape: [...t.shape], values };
}
