import { constantNodeValue, getAttribute, intAttr, intsAttr, opsetVersion, type Dim, type Graph, type Node, type Tensor } from '@zipit/core';

/**
 * Shapes of every value, and the contents of small tensors, for one concrete batch size.
 *
 * Recognising attention means following channels through the Reshape/Transpose/Gather/Slice
 * chains that split them into heads, whose target shapes PyTorch computes at run time from
 * `Shape` (`x.reshape(B, N, 3, H, C // H)`, `cls_token.expand(B, -1, -1)`, …). With the batch
 * fixed, all of that arithmetic is plain integers, so a small evaluator resolves every shape
 * exactly where symbolic inference gives up (Expand/Where/Equal chains, B·H products). Values
 * are computed for tensors of at most {@link MAX_VALUES} elements whose inputs are all known;
 * float activations only get shapes. An operator it does not know leaves its outputs unknown.
 */
export class ConcreteShapes {
  private readonly shapes = new Map<string, number[]>();
  private readonly vals = new Map<string, number[]>();
  private readonly ints = new Set<string>();
  private readonly opset: number;

  constructor(
    graph: Graph,
    readonly batch: number,
  ) {
    this.opset = opsetVersion(graph) ?? 13;
    for (const [name, t] of graph.initializers) this.setTensor(name, t);
    for (const i of graph.inputs) {
      if (this.shapes.has(i.name) || !i.shape) continue;
      this.shapes.set(
        i.name,
        i.shape.map((d: Dim) => (typeof d === 'number' && d > 0 ? d : batch)),
      );
    }
    for (const node of graph.nodes) {
      try {
        this.visit(node);
      } catch {
        // An operator this evaluator gets wrong must not stop recognition elsewhere: its outputs stay unknown.
      }
    }
  }

  shape(v: string): number[] | undefined {
    return this.shapes.get(v);
  }

  /** Row-major contents of a small known tensor. */
  values(v: string): number[] | undefined {
    return this.vals.get(v);
  }

  /** A known tensor holding exactly one number. */
  scalar(v: string): number | undefined {
    const x = this.vals.get(v);
    return x && x.length === 1 ? x[0] : undefined;
  }

  private setTensor(name: string, t: Tensor): void {
    this.shapes.set(name, [...t.shape]);
    if (t.dtype !== 'float32' && t.dtype !== 'float64') this.ints.add(name);
    if (t.data.length > MAX_VALUES || t.dtype === 'string' || t.dtype === 'float16' || t.dtype === 'bfloat16') return;
    this.vals.set(name, Array.from(t.data as ArrayLike<number | bigint>, Number));
  }

  private set(out: string, shape: number[] | undefined, values?: number[], isInt = false): void {
    if (!out || !shape) return;
    this.shapes.set(out, shape);
    if (isInt) this.ints.add(out);
    if (values && values.length === size(shape) && values.length <= MAX_VALUES) this.vals.set(out, values);
  }

  private visit(node: Node): void {
    const op = node.domain === '' || node.domain === 'ai.onnx' ? node.opType : '';
    const [i0, i1, i2] = node.inputs;
    const s0 = this.shapes.get(i0);
    const v0 = this.vals.get(i0);
    const int0 = this.ints.has(i0);
    const out = node.outputs[0];
    if (op === 'Constant') {
      const c = constantNodeValue(node);
      const t = getAttribute(node, 'value');
      const isInt =
        t?.type === 'tensor'
          ? t.value.dtype !== 'float32' && t.value.dtype !== 'float64'
          : getAttribute(node, 'value_int') !== undefined || getAttribute(node, 'value_ints') !== undefined;
      if (c) this.set(out, c.shape, c.values.every((x) => typeof x === 'number') ? (c.values as number[]) : undefined, isInt);
      return;
    }
    if (SAME.has(op)) {
      this.set(out, s0, op === 'Identity' ? v0 : undefined, int0);
      if (op === 'Dropout' && node.outputs[1]) this.set(node.outputs[1], s0);
      return;
    }
    if (op === 'Cast') {
      const to = intAttr(node, 'to', 1);
      const isInt = to !== 1 && to !== 10 && to !== 11 && to !== 16;
      this.set(out, s0, v0 && (isInt ? v0.map(Math.trunc) : v0), isInt);
      return;
    }
    if (BINARY[op]) {
      const ins = node.inputs.filter((i) => i);
      const shapes = ins.map((i) => this.shapes.get(i));
      if (shapes.some((s) => !s)) return;
      const shape = shapes.slice(1).reduce<number[] | undefined>((a, s) => a && broadcast(a, s!), shapes[0]);
      const vs = ins.map((i) => this.vals.get(i));
      const isInt = op === 'Equal' || op === 'Less' || op === 'Greater' ? true : op === 'Where' ? this.ints.has(ins[1]) : this.ints.has(ins[0]);
      let values: number[] | undefined;
      if (shape && vs.every((v) => v) && size(shape) <= MAX_VALUES) {
        const args = vs.map((v, k) => broadcastTo(v!, shapes[k]!, shape));
        values = args[0].map((_, e) =>
          BINARY[op](
            args.map((a) => a[e]),
            isInt && op !== 'Where' && op !== 'Equal',
          ),
        );
      }
      this.set(out, shape, values, isInt);
      return;
    }
    switch (op) {
      case 'Shape': {
        if (!s0) return;
        const r = s0.length;
        const start = clampAxis(intAttr(node, 'start', 0), r);
        const end = clampAxis(intAttr(node, 'end', r), r);
        const values = s0.slice(start, end);
        this.set(out, [values.length], values, true);
        return;
      }
      case 'Size':
        if (s0) this.set(out, [], [size(s0)], true);
        return;
      case 'Gather': {
        const is = this.shapes.get(i1);
        const iv = this.vals.get(i1);
        if (!s0 || !is) return;
        const axis = norm(intAttr(node, 'axis', 0), s0.length);
        const shape = [...s0.slice(0, axis), ...is, ...s0.slice(axis + 1)];
        let values: number[] | undefined;
        if (v0 && iv) {
          const idx = iv.map((k) => (k < 0 ? k + s0[axis] : k));
          const outer = size(s0.slice(0, axis));
          const inner = size(s0.slice(axis + 1));
          values = [];
          for (let o = 0; o < outer; o++) for (const k of idx) for (let q = 0; q < inner; q++) values.push(v0[(o * s0[axis] + k) * inner + q]);
        }
        this.set(out, shape, values, int0);
        return;
      }
      case 'Unsqueeze': {
        if (!s0) return;
        const axes = this.axesOf(node, 1);
        if (!axes) return;
        const rank = s0.length + axes.length;
        const a = axes.map((x) => norm(x, rank));
        const shape: number[] = [];
        let k = 0;
        for (let d = 0; d < rank; d++) shape.push(a.includes(d) ? 1 : s0[k++]);
        this.set(out, shape, v0, int0);
        return;
      }
      case 'Squeeze': {
        if (!s0) return;
        const axes = this.axesOf(node, 1)?.map((x) => norm(x, s0.length)) ?? s0.map((d, k) => (d === 1 ? k : -1)).filter((k) => k >= 0);
        this.set(
          out,
          s0.filter((_, k) => !axes.includes(k)),
          v0,
          int0,
        );
        return;
      }
      case 'Concat': {
        const ins = node.inputs.filter((i) => i);
        const shapes = ins.map((i) => this.shapes.get(i));
        if (shapes.some((s) => !s)) return;
        const axis = norm(intAttr(node, 'axis', 0), shapes[0]!.length);
        const shape = [...shapes[0]!];
        shape[axis] = shapes.reduce((acc, s) => acc + s![axis], 0);
        const vs = ins.map((i) => this.vals.get(i));
        let values: number[] | undefined;
        if (vs.every((v) => v)) {
          const outer = size(shape.slice(0, axis));
          values = [];
          for (let o = 0; o < outer; o++) {
            ins.forEach((_, k) => {
              const chunk = size(shapes[k]!.slice(axis));
              values!.push(...vs[k]!.slice(o * chunk, (o + 1) * chunk));
            });
          }
        }
        this.set(out, shape, values, this.ints.has(ins[0]));
        return;
      }
      case 'Reshape': {
        const target = this.vals.get(i1);
        if (!s0 || !target) return;
        const allowzero = intAttr(node, 'allowzero', 0) === 1;
        const shape = target.map((d, k) => (d === 0 && !allowzero ? s0[k] : d));
        const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
        const k = shape.indexOf(-1);
        if (k >= 0) shape[k] = size(s0) / known;
        if (size(shape) !== size(s0)) return;
        this.set(out, shape, v0, int0);
        return;
      }
      case 'Flatten': {
        if (!s0) return;
        const axis = norm(intAttr(node, 'axis', 1), s0.length);
        this.set(out, [size(s0.slice(0, axis)), size(s0.slice(axis))], v0, int0);
        return;
      }
      case 'Transpose': {
        if (!s0) return;
        const perm = intsAttr(node, 'perm') ?? s0.map((_, k) => s0.length - 1 - k);
        const shape = perm.map((p) => s0[p]);
        this.set(out, shape, v0 && transposeValues(v0, s0, perm), int0);
        return;
      }
      case 'Slice': {
        if (!s0) return;
        const spec = this.sliceSpec(node, s0);
        if (!spec) return;
        const shape = spec.map((x) => x.count);
        this.set(out, shape, v0 && sliceValues(v0, s0, spec), int0);
        return;
      }
      case 'Split': {
        if (!s0) return;
        const axis = norm(intAttr(node, 'axis', 0), s0.length);
        const parts = node.outputs.length;
        const sizes = (i1 ? this.vals.get(i1) : intsAttr(node, 'split')) ?? splitEven(s0[axis], parts);
        let start = 0;
        node.outputs.forEach((o, k) => {
          const shape = [...s0];
          shape[axis] = sizes[k];
          const spec = s0.map((d, a) => (a === axis ? { start, step: 1, count: sizes[k] } : { start: 0, step: 1, count: d }));
          this.set(o, shape, v0 && sliceValues(v0, s0, spec), int0);
          start += sizes[k];
        });
        return;
      }
      case 'Expand': {
        const target = this.vals.get(i1);
        if (!s0 || !target) return;
        const shape = broadcast(s0, target);
        if (!shape) return;
        this.set(out, shape, v0 && broadcastTo(v0, s0, shape), int0);
        return;
      }
      case 'Tile': {
        const reps = this.vals.get(i1);
        if (!s0 || !reps) return;
        this.set(
          out,
          s0.map((d, k) => d * reps[k]),
          undefined,
          int0,
        );
        return;
      }
      case 'ConstantOfShape': {
        const target = this.vals.get(i0);
        if (!target) return;
        const t = getAttribute(node, 'value');
        const fill = t?.type === 'tensor' ? Number((t.value.data as ArrayLike<number | bigint>)[0] ?? 0) : 0;
        const isInt = t?.type === 'tensor' ? t.value.dtype !== 'float32' && t.value.dtype !== 'float64' : false;
        this.set(out, [...target], new Array<number>(size(target)).fill(fill), isInt);
        return;
      }
      case 'Range': {
        const [a, b, d] = [this.scalar(i0), this.scalar(i1), this.scalar(i2)];
        if (a === undefined || b === undefined || d === undefined || d === 0) return;
        const n = Math.max(Math.ceil((b - a) / d), 0);
        this.set(
          out,
          [n],
          Array.from({ length: n }, (_, k) => a + k * d),
          int0,
        );
        return;
      }
      case 'MatMul': {
        const s1 = this.shapes.get(i1);
        if (!s0 || !s1 || s0.length < 2 || s1.length < 2) return;
        const batch = broadcast(s0.slice(0, -2), s1.slice(0, -2));
        if (batch) this.set(out, [...batch, s0[s0.length - 2], s1[s1.length - 1]]);
        return;
      }
      case 'Gemm': {
        const s1 = this.shapes.get(i1);
        if (!s0 || !s1) return;
        const m = intAttr(node, 'transA', 0) ? s0[1] : s0[0];
        const n = intAttr(node, 'transB', 0) ? s1[0] : s1[1];
        this.set(out, [m, n]);
        return;
      }
      case 'Conv': {
        const w = this.shapes.get(i1);
        if (!s0 || !w) return;
        const spatial = s0.length - 2;
        const kernel = intsAttr(node, 'kernel_shape') ?? w.slice(2);
        const strides = intsAttr(node, 'strides') ?? new Array<number>(spatial).fill(1);
        const dil = intsAttr(node, 'dilations') ?? new Array<number>(spatial).fill(1);
        const pads = intsAttr(node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
        const shape = [s0[0], w[0]];
        for (let k = 0; k < spatial; k++) shape.push(Math.floor((s0[2 + k] + pads[k] + pads[k + spatial] - dil[k] * (kernel[k] - 1) - 1) / strides[k]) + 1);
        this.set(out, shape);
        return;
      }
      case 'ReduceMean':
      case 'ReduceSum':
      case 'ReduceMax':
      case 'ReduceMin':
      case 'ReduceProd':
      case 'ReduceL2':
      case 'ReduceSumSquare': {
        if (!s0) return;
        const fromInput = (op === 'ReduceSum' && this.opset >= 13) || this.opset >= 18;
        let axes = fromInput ? (i1 ? this.vals.get(i1) : undefined) : intsAttr(node, 'axes');
        if (!axes || axes.length === 0) axes = intAttr(node, 'noop_with_empty_axes', 0) ? [] : s0.map((_, k) => k);
        const a = axes.map((x) => norm(x, s0.length));
        const keep = intAttr(node, 'keepdims', 1) === 1;
        this.set(out, keep ? s0.map((d, k) => (a.includes(k) ? 1 : d)) : s0.filter((_, k) => !a.includes(k)));
        return;
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
        if (s0) this.set(out, [s0[0], s0[1], ...s0.slice(2).map(() => 1)]);
        return;
      case 'LayerNormalization':
        this.set(out, s0);
        return;
      default:
    }
  }

  private axesOf(node: Node, input: number): number[] | undefined {
    const attr = intsAttr(node, 'axes');
    if (attr) return attr;
    const v = node.inputs[input];
    return v ? this.vals.get(v) : undefined;
  }

  /** Start, step and count per axis of a Slice node applied to `shape`, when its bounds are known. */
  sliceSpec(node: Node, shape: number[]): SliceAxis[] | undefined {
    const fromInputs = node.inputs.length > 1;
    const get = (k: number, attr: string) => (fromInputs ? (node.inputs[k] ? this.vals.get(node.inputs[k]) : undefined) : intsAttr(node, attr));
    const starts = get(1, 'starts');
    const ends = get(2, 'ends');
    if (!starts || !ends) return undefined;
    const axes = (get(3, 'axes') ?? starts.map((_, k) => k)).map((a) => norm(a, shape.length));
    const steps = get(4, 'steps') ?? starts.map(() => 1);
    const spec: SliceAxis[] = shape.map((d) => ({ start: 0, step: 1, count: d }));
    axes.forEach((a, k) => {
      const d = shape[a];
      const step = steps[k];
      let s = starts[k] < 0 ? starts[k] + d : starts[k];
      let e = ends[k] < 0 ? ends[k] + d : ends[k];
      if (step > 0) {
        s = Math.min(Math.max(s, 0), d);
        e = Math.min(Math.max(e, 0), d);
      } else {
        s = Math.min(Math.max(s, 0), d - 1);
        e = Math.min(Math.max(e, -1), d - 1);
      }
      spec[a] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
    });
    return spec;
  }
}

/** Largest tensor whose contents are evaluated (shape vectors and small constants). */
export const MAX_VALUES = 4096;

export interface SliceAxis {
  start: number;
  step: number;
  count: number;
}

const SAME = new Set([
  'Identity',
  'Dropout',
  'Relu',
  'LeakyRelu',
  'Gelu',
  'Erf',
  'Sqrt',
  'Tanh',
  'Sigmoid',
  'Neg',
  'Abs',
  'Exp',
  'Log',
  'Reciprocal',
  'Softmax',
  'LogSoftmax',
  'BatchNormalization',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Not',
  'Clip',
  'Elu',
  'HardSwish',
  'Softplus',
]);

const BINARY: Record<string, (args: number[], integer: boolean) => number> = {
  Add: ([a, b]) => a + b,
  Sub: ([a, b]) => a - b,
  Mul: ([a, b]) => a * b,
  Div: ([a, b], integer) => (integer ? Math.trunc(a / b) : a / b),
  Pow: ([a, b]) => a ** b,
  Max: (xs) => Math.max(...xs),
  Min: (xs) => Math.min(...xs),
  Mod: ([a, b]) => a % b,
  Equal: ([a, b]) => (a === b ? 1 : 0),
  Less: ([a, b]) => (a < b ? 1 : 0),
  Greater: ([a, b]) => (a > b ? 1 : 0),
  And: ([a, b]) => (a && b ? 1 : 0),
  Or: ([a, b]) => (a || b ? 1 : 0),
  Where: ([c, a, b]) => (c ? a : b),
};

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function clampAxis(axis: number, rank: number): number {
  return Math.min(Math.max(axis < 0 ? axis + rank : axis, 0), rank);
}

function splitEven(d: number, parts: number): number[] {
  const each = Math.ceil(d / parts);
  return Array.from({ length: parts }, (_, k) => Math.min(each, d - k * each));
}

function broadcast(a: readonly number[], b: readonly number[]): number[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const x = k < n - a.length ? 1 : a[k - (n - a.length)];
    const y = k < n - b.length ? 1 : b[k - (n - b.length)];
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function broadcastTo(values: readonly number[], from: readonly number[], to: readonly number[]): number[] {
  const n = to.length;
  const src = [...new Array<number>(n - from.length).fill(1), ...from];
  const strides = new Array<number>(n).fill(0);
  let acc = 1;
  for (let k = n - 1; k >= 0; k--) {
    strides[k] = src[k] === 1 ? 0 : acc;
    acc *= src[k];
  }
  const total = size(to);
  const out = new Array<number>(total);
  const idx = new Array<number>(n).fill(0);
  for (let e = 0; e < total; e++) {
    let off = 0;
    for (let k = 0; k < n; k++) off += idx[k] * strides[k];
    out[e] = values[off];
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < to[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

export function transposeValues(values: readonly number[], shape: readonly number[], perm: readonly number[]): number[] {
  const n = shape.length;
  const strides = new Array<number>(n);
  let acc = 1;
  for (let k = n - 1; k >= 0; k--) {
    strides[k] = acc;
    acc *= shape[k];
  }
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

export function sliceValues(values: readonly number[], shape: readonly number[], spec: readonly SliceAxis[]): number[] {
  const n = shape.length;
  const strides = new Array<number>(n);
  let acc = 1;
  for (let k = n - 1; k >= 0; k--) {
    strides[k] = acc;
    acc *= shape[k];
  }
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
