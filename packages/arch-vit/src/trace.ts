import { intAttr, intsAttr, sizeOf as size, type Node } from '@zipit/core';
import type { ConcreteShapes, SliceAxis } from './concrete.js';

/**
 * Channel tracing: a tensor of channel ids (element e of a value holds the channel it carries)
 * pushed through the operators that only move elements — Reshape, Transpose, Gather, Slice,
 * Split, Squeeze/Unsqueeze, and scaling by a scalar — tells exactly where every channel of a
 * projection ends up after PyTorch splits it into heads, in whatever layout the exporter chose
 * (timm's `reshape(B, N, 3, H, d).permute(2, 0, 3, 1, 4)`, nn.MultiheadAttention's heads folded
 * into the batch, …). Recognition then checks the layout instead of pattern-matching it.
 */
export interface Ids {
  shape: number[];
  data: number[];
}

/** Operators that move elements without changing them. */
export const LAYOUT_OPS: ReadonlySet<string> = new Set([
  'Transpose',
  'Reshape',
  'Flatten',
  'Squeeze',
  'Unsqueeze',
  'Gather',
  'Slice',
  'Split',
  'Identity',
  'Dropout',
  'Cast',
]);

/** Element-wise operators that are layout-neutral when the other operand is a known scalar (the 1/√d scale). */
const SCALAR_OPS: ReadonlySet<string> = new Set(['Mul', 'Div']);

/** Ids of a value whose channels are on `axis`: each element holds its index along that axis. */
export function channelIds(shape: readonly number[], axis: number): Ids {
  const inner = size(shape.slice(axis + 1));
  const dim = shape[axis];
  const data = new Array<number>(size(shape));
  for (let e = 0; e < data.length; e++) data[e] = Math.floor(e / inner) % dim;
  return { shape: [...shape], data };
}

/**
 * Whether `node` passes `input` on to its output unchanged up to layout (or a scalar factor):
 * a layout operator reading it as its data input, or Mul/Div by a known scalar.
 */
export function isLayoutStep(node: Node, input: string, cs: ConcreteShapes): boolean {
  if (LAYOUT_OPS.has(node.opType)) return node.inputs[0] === input;
  if (SCALAR_OPS.has(node.opType) && node.inputs.length === 2) {
    const other = node.inputs[0] === input ? node.inputs[1] : node.inputs[1] === input && node.opType === 'Mul' ? node.inputs[0] : undefined;
    const s = other === undefined ? undefined : cs.shape(other);
    return s !== undefined && size(s) === 1;
  }
  return false;
}

/** The ids of `output` (an output of the layout step `node`) given the ids of its input. Undefined when unknown. */
export function applyStep(node: Node, x: Ids, output: string, cs: ConcreteShapes): Ids | undefined {
  const outShape = cs.shape(output);
  switch (node.opType) {
    case 'Identity':
    case 'Dropout':
    case 'Cast':
    case 'Mul':
    case 'Div':
      return x;
    case 'Reshape':
    case 'Flatten':
    case 'Squeeze':
    case 'Unsqueeze':
      return outShape && size(outShape) === x.data.length ? { shape: outShape, data: x.data } : undefined;
    case 'Transpose': {
      const perm = intsAttr(node, 'perm') ?? x.shape.map((_, k) => x.shape.length - 1 - k);
      return { shape: perm.map((p) => x.shape[p]), data: transposeValues(x.data, x.shape, perm) };
    }
    case 'Gather': {
      const idxShape = cs.shape(node.inputs[1]);
      const idx = cs.values(node.inputs[1]);
      if (!idxShape || !idx) return undefined;
      const axis = norm(intAttr(node, 'axis', 0), x.shape.length);
      const dim = x.shape[axis];
      const outer = size(x.shape.slice(0, axis));
      const inner = size(x.shape.slice(axis + 1));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const raw of idx) {
          const k = raw < 0 ? raw + dim : raw;
          for (let q = 0; q < inner; q++) data.push(x.data[(o * dim + k) * inner + q]);
        }
      }
      return { shape: [...x.shape.slice(0, axis), ...idxShape, ...x.shape.slice(axis + 1)], data };
    }
    case 'Slice': {
      const spec = cs.sliceSpec(node, x.shape);
      return spec && { shape: spec.map((s) => s.count), data: sliceValues(x.data, x.shape, spec) };
    }
    case 'Split': {
      const axis = norm(intAttr(node, 'axis', 0), x.shape.length);
      let start = 0;
      for (const o of node.outputs) {
        const s = cs.shape(o);
        if (!s) return undefined;
        if (o === output) {
          const spec = x.shape.map((d, a) => (a === axis ? { start, step: 1, count: s[a] } : { start: 0, step: 1, count: d }));
          return { shape: s, data: sliceValues(x.data, x.shape, spec) };
        }
        start += s[axis];
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Pushes ids through a chain of layout steps (each reading the previous step's output). */
export function applyChain(chain: readonly { node: Node; output: string }[], x: Ids, cs: ConcreteShapes): Ids | undefined {
  let cur: Ids | undefined = x;
  for (const step of chain) {
    if (!cur) return undefined;
    cur = applyStep(step.node, cur, step.output, cs);
  }
  return cur;
}

/** Whether axis `axis` of `ids` holds channel j at index j everywhere (channels passed through unchanged). */
export function isIdentityOn(ids: Ids, axis: number): boolean {
  const inner = size(ids.shape.slice(axis + 1));
  const dim = ids.shape[axis];
  for (let e = 0; e < ids.data.length; e++) if (ids.data[e] !== Math.floor(e / inner) % dim) return false;
  return true;
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** Elements between consecutive indices of each axis of a row-major array of `shape`. */
function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = acc;
    acc *= shape[k];
  }
  return strides;
}

/** `values` of `shape` with its axes permuted by `perm` (ONNX Transpose), row-major. */
function transposeValues(values: readonly number[], shape: readonly number[], perm: readonly number[]): number[] {
  const n = shape.length;
  const strides = rowMajorStrides(shape);
  const outShape = perm.map((p) => shape[p]);
  const out: number[] = [];
  const idx = new Array<number>(n).fill(0);
  for (let e = 0; e < values.length; e++) {
    let off = 0;
    for (let k = 0; k < n; k++) off += idx[k] * strides[perm[k]];
    out.push(values[off]);
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < outShape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** The elements of `values` (of `shape`, row-major) that `spec` selects on each axis. */
function sliceValues(values: readonly number[], shape: readonly number[], spec: readonly SliceAxis[]): number[] {
  const n = shape.length;
  const strides = rowMajorStrides(shape);
  const total = size(spec.map((s) => s.count));
  const out: number[] = [];
  const idx = new Array<number>(n).fill(0);
  for (let e = 0; e < total; e++) {
    let off = 0;
    for (let k = 0; k < n; k++) off += (spec[k].start + idx[k] * spec[k].step) * strides[k];
    out.push(values[off]);
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < spec[k].count) break;
      idx[k] = 0;
    }
  }
  return out;
}
