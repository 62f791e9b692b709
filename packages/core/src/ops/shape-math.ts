import type { Tensor } from '../tensor/tensor.js';
import { floatAttr, getAttribute, intAttr, intsAttr, type Dim, type Node } from '../graph/graph.js';

/**
 * Shape arithmetic shared by the operators' shape inference (`ops/*.ts`), the propagation rules
 * and the graph builder: products and sums of possibly symbolic dims, NumPy broadcasting, ONNX
 * Reshape targets, convolution/pooling windows, and the small constant tensors (shape vectors)
 * that drive them.
 */

/** A small constant tensor known at inference time; `values` may hold symbolic dims (from Shape). */
export interface ConstValue {
  shape: number[];
  values: Dim[];
}

/** Constants larger than this are not tracked (only shape-like tensors matter). */
export const MAX_CONST = 4096;

export function isNum(d: Dim): d is number {
  return typeof d === 'number';
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A possibly negative axis clamped into [0, rank] (Shape's start/end). */
export function normAxisClamp(axis: number, rank: number): number {
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

/**
 * ONNX Reshape of `x` to `target` (0 copies the input dim unless allowzero, -1 is inferred).
 * Symbolic dims that appear in both shapes cancel, so `[batch, 8, 1, 1]` → `[batch, -1]` gives `[batch, 8]`.
 */
export function reshapeShape(x: readonly Dim[] | null, target: readonly Dim[], allowZero = false): Dim[] | null {
  const dims: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (x ? (x[i] ?? null) : null) : t));
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

/** A shape of `[k]` (a 1-d shape tensor of known length) as k unknown dims; null otherwise. */
export function unknownDims(shapeOfShape: Dim[] | null): Dim[] | null {
  const k = shapeOfShape?.length === 1 ? shapeOfShape[0] : undefined;
  return typeof k === 'number' ? new Array<Dim>(k).fill(null) : null;
}

/**
 * Output spatial dims of a convolution or pooling window over `dims` (kernel, strides,
 * dilations, pads, auto_pad and ceil_mode attributes of `node`).
 */
export function windowed(node: Node, dims: Dim[], kernel: readonly number[], spatial: number): Dim[] {
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

/** Builds a constant of `shape` whose element at index `dst` is `src` at `sourceIndex(dst)`. */
export function gatherConst(src: ConstValue, shape: readonly number[], sourceIndex: (dst: number[]) => number[]): Dim[] {
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
