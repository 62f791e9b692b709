import { intAttr, intsAttr, type Dim, type Node } from '../graph/graph.js';
import { operators, type InferContext, type InferResult, type OperatorDef, type ShapeInference } from './operator.js';
import { axisIn, channelOperand, featureAt, type Rule, type RuleContext } from './rule.js';
import { broadcastShapes, gatherConst, isNum, normAxis, productDims, reshapeShape, sumDims, unknownDims, type ConstValue } from './shape-math.js';
import { sliceBounds } from '../graph/slice-bounds.js';

/**
 * Operators that move data between axes without mixing channels: Flatten/Reshape (after global
 * pooling), Squeeze/Unsqueeze, Transpose, and selection/concatenation along non-channel axes.
 * Shape-only inputs (the Shape/Gather/Unsqueeze/Concat chain of `x.view(x.size(0), -1)`) are
 * constants to these rules: they carry no features.
 */

/**
 * Flatten and Reshape: the channel axis survives when some output axis has exactly C entries with
 * the same number of elements before it (and after it) as the input's channel axis — e.g.
 * [B, C, 1, 1] → [B, C]. A channel-major flatten — [B, C, H, W] → [B, C·H·W] (`nn.Flatten`,
 * `x.view(B, -1)`) — keeps the space too: each channel becomes H·W consecutive features, and the
 * layers reading them get the point's transform as M ⊗ I(H·W). Anything else mixes channels.
 */
export const reshape: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  if (ctx.node.inputs[1] && ctx.isFeature(ctx.node.inputs[1])) {
    ctx.decline('its target shape depends on activations, not only on shapes');
  }
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (!xs || !ys) return ctx.decline(`the shape of "${!xs ? x : y}" is unknown`, 'give the model static shapes (all but the batch dimension)');
  const j = mapThroughReshape(xs, c, ys);
  if (j !== null) {
    ctx.join(y, j, ctx.elementOf(x)!);
    return;
  }
  const flat = channelMajorFlatten(xs, c, ys);
  if (flat === null) {
    return ctx.decline(
      `it reshapes [${dimList(xs)}] (channels on axis ${c}) to [${dimList(ys)}], mixing channels with other axes`,
      'only reshapes that keep the channel axis or flatten it channel-major ([C, H, W] → [C·H·W]) can be merged; splitting channels into heads needs an architecture plugin',
    );
  }
  ctx.spread(y, flat.axis, ctx.elementOf(x)!, flat.inner);
};

/**
 * Output axis and H·W when `ys` flattens the input's channel axis `c` with the axes right after
 * it (channel-major: channel c's features are consecutive), the axes before and after unchanged
 * in number of elements; null otherwise.
 */
export function channelMajorFlatten(xs: readonly Dim[], c: number, ys: readonly Dim[]): { axis: number; inner: number } | null {
  for (let last = c + 1; last < xs.length; last++) {
    const innerDims = xs.slice(c + 1, last + 1);
    if (!innerDims.every((d) => typeof d === 'number')) return null;
    const inner = (innerDims as number[]).reduce((a, b) => a * b, 1);
    const merged = typeof xs[c] === 'number' ? (xs[c] as number) * inner : null;
    for (let j = 0; j < ys.length; j++) {
      if (merged === null || ys[j] !== merged) continue;
      if (sameProduct(xs.slice(0, c), ys.slice(0, j)) || sameProduct(xs.slice(last + 1), ys.slice(j + 1))) return { axis: j, inner };
    }
  }
  return null;
}

/** Output axis holding input axis `c` intact after a reshape, or null. */
export function mapThroughReshape(xs: readonly Dim[], c: number, ys: readonly Dim[]): number | null {
  const channels = xs[c];
  if (typeof channels !== 'number') return null;
  for (let j = 0; j < ys.length; j++) {
    if (ys[j] !== channels) continue;
    // A reshape keeps the element count, so with C entries on both sides, equal products on one
    // side imply equal products on the other (an unknown window count before [.., 16, C] is fine).
    if (sameProduct(xs.slice(0, c), ys.slice(0, j)) || sameProduct(xs.slice(c + 1), ys.slice(j + 1))) return j;
  }
  return null;
}

/** Whether two lists of dims surely multiply to the same number (identical lists count, unknown dims included). */
function sameProduct(a: readonly Dim[], b: readonly Dim[]): boolean {
  if (a.length === b.length && a.every((d, i) => d === b[i])) return true;
  const ka = productKey(a);
  return ka !== null && ka === productKey(b);
}

function dimList(dims: readonly Dim[]): string {
  return dims.map((d) => d ?? '?').join(', ');
}

/** A canonical key of a product of dims (number × sorted symbols), null if any dim is unknown. */
function productKey(dims: readonly Dim[]): string | null {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (d === null) return null;
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  return `${n}|${syms.sort().join('*')}`;
}

export const transpose: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  const rank = ctx.rank(x);
  const perm = intsAttr(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
  ctx.join(y, perm.indexOf(c), ctx.elementOf(x)!);
};

function staticAxes(ctx: RuleContext, input: number): number[] | undefined {
  const attr = intsAttr(ctx.node, 'axes');
  if (attr) return attr;
  const v = ctx.node.inputs[input];
  if (!v) return undefined;
  const c = ctx.constant(v);
  if (!c || !c.values.every((d) => typeof d === 'number')) return ctx.decline('its axes are not constant');
  return c.values as number[];
}

export const squeeze: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  const rank = ctx.rank(x);
  let axes = staticAxes(ctx, 1)?.map((a) => axisIn(a, rank));
  if (!axes) {
    const xs = ctx.shape(x)!;
    axes = xs.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  }
  if (axes.includes(c)) ctx.decline('it removes the channel axis');
  ctx.join(y, c - axes.filter((a) => a < c).length, ctx.elementOf(x)!);
};

export const unsqueeze: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  const rankOut = ctx.rank(y);
  const axes = staticAxes(ctx, 1)?.map((a) => axisIn(a, rankOut));
  if (!axes) return ctx.decline('its axes are unknown');
  let src = 0;
  for (let i = 0; i < rankOut; i++) {
    if (axes.includes(i)) continue;
    if (src === c) {
      ctx.join(y, i, ctx.elementOf(x)!);
      return;
    }
    src++;
  }
  ctx.decline('its axes do not fit its input');
};

/**
 * Concat along a non-channel axis (e.g. tokens): all activation operands share one space. Along
 * the channel axis (DenseNet): the direct sum of the operands' spaces — each keeps its own merge
 * point at its offset, so merges are block-diagonal.
 */
export const concat: Rule = (ctx) => {
  const y = ctx.node.outputs[0];
  const inputs = ctx.node.inputs.filter((i) => i !== '');
  const rank = ctx.rank(y);
  const axis = axisIn(intAttr(ctx.node, 'axis', 0), rank);
  const channelled = inputs.filter((v) => ctx.isFeature(v) && ctx.channelAxis(v) !== null);
  if (channelled.length === 0) {
    const from = inputs.find((v) => ctx.isFeature(v))!;
    ctx.passThrough(y, from);
    return;
  }
  const c = ctx.channelAxis(channelled[0])!;
  if (axis === c) {
    const parts = inputs.map((v) => {
      if (!ctx.isFeature(v)) {
        return ctx.decline(`it concatenates the constant "${v}" to the channels of activations`, 'constant channels cannot be merged');
      }
      ctx.channel(v, c);
      return ctx.parts(v);
    });
    ctx.compose(y, c, parts.flat());
    return;
  }
  for (const v of channelled) {
    if (ctx.channelAxis(v) !== c) ctx.decline(`its operands carry channels on different axes`);
  }
  for (const v of inputs) {
    if (channelled.includes(v)) continue;
    if (!ctx.isFeature(v)) {
      ctx.decline(
        `it concatenates the constant "${v}" with activations (e.g. a class token)`,
        'constants that join a space need an architecture plugin that declares them as producers',
      );
    }
  }
  const ye = ctx.join(y, c, ctx.elementOf(channelled[0])!);
  for (const v of channelled.slice(1)) ctx.unite(ye, ctx.elementOf(v)!);
  for (const v of inputs) if (!channelled.includes(v)) ctx.unite(ye, ctx.channel(v, c));
};

/**
 * Split along a non-channel axis: every part keeps the space. Along the channel axis: each output
 * must take whole spaces of a concatenation (`torch.chunk` of a `torch.cat`); cutting one space
 * in pieces is refused.
 */
export const split: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const c = ctx.channelAxis(x);
  const outs = ctx.node.outputs.filter((o) => o !== '');
  if (c === null) {
    for (const o of outs) ctx.passThrough(o, x);
    return;
  }
  if (axisIn(intAttr(ctx.node, 'axis', 0), ctx.rank(x)) === c) {
    const parts = ctx.parts(x);
    const total = parts.reduce((n, p) => n + p.size, 0);
    const given = intsAttr(ctx.node, 'split') ?? (ctx.node.inputs[1] ? ctx.constant(ctx.node.inputs[1])?.values : undefined);
    const sizes =
      given ?? (total % ctx.node.outputs.length === 0 ? new Array<number>(ctx.node.outputs.length).fill(total / ctx.node.outputs.length) : undefined);
    if (!sizes || !sizes.every((d) => typeof d === 'number')) return ctx.decline('its split sizes are not constant');
    let start = 0;
    ctx.node.outputs.forEach((o, k) => {
      const end = start + (sizes[k] as number);
      if (o) ctx.compose(o, c, wholeParts(ctx, parts, start, end));
      start = end;
    });
    return;
  }
  const xe = ctx.elementOf(x)!;
  for (const o of outs) ctx.join(o, c, xe);
};

/** Gather along a non-channel axis with constant indices (e.g. the class token `x[:, 0]`). */
export const gather: Rule = (ctx) => {
  const x = ctx.node.inputs[0];
  const idx = ctx.node.inputs[1];
  if (!ctx.isFeature(x)) ctx.decline('it looks up rows of a parameter by activations (an embedding)', 'embeddings need an architecture plugin');
  if (ctx.isFeature(idx)) ctx.decline('its indices are activations');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  const axis = axisIn(intAttr(ctx.node, 'axis', 0), ctx.rank(x));
  if (axis === c) ctx.decline('it selects channels', 'channel selection changes the space');
  const idxRank = ctx.rank(idx);
  ctx.join(y, axis < c ? c - 1 + idxRank : c, ctx.elementOf(x)!);
};

/** Slice of non-channel axes (the channel axis only when taken whole). */
export const slice: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  for (const extra of ctx.node.inputs.slice(1)) if (extra && ctx.isFeature(extra)) ctx.decline('its bounds are activations');
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (xs && ys && ys[c] !== null && ys[c] === xs[c]) {
    ctx.join(y, c, ctx.elementOf(x)!);
    return;
  }
  const range = channelRange(ctx, c, xs?.[c] ?? null);
  if (!range) {
    return ctx.decline('it may cut the channel axis', 'only slices of non-channel axes, or of whole concatenated spaces along channels, are supported');
  }
  ctx.compose(y, c, wholeParts(ctx, ctx.parts(x), range.start, range.end));
};

/** The channels [start, end) a Slice with constant bounds and step 1 takes on axis `c` (opset ≥ 10), or null. */
function channelRange(ctx: RuleContext, c: number, size: Dim): { start: number; end: number } | null {
  const values = (i: number) => {
    const v = ctx.node.inputs[i] ? ctx.constant(ctx.node.inputs[i]) : undefined;
    return v && v.values.every((d) => typeof d === 'number') ? (v.values as number[]) : undefined;
  };
  const starts = values(1);
  const ends = values(2);
  if (!starts || !ends || typeof size !== 'number') return null;
  const rank = ctx.rank(ctx.node.inputs[0]);
  const axes = ctx.node.inputs[3] ? values(3) : starts.map((_, i) => i);
  const steps = ctx.node.inputs[4] ? values(4) : starts.map(() => 1);
  if (!axes || !steps) return null;
  const k = axes.findIndex((a) => axisIn(a, rank) === c);
  if (k < 0 || steps[k] !== 1) return null;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
  return { start: clamp(starts[k]), end: clamp(ends[k]) };
}

/** The parts covering channels [start, end) exactly; declines when the range cuts a space. */
function wholeParts(ctx: RuleContext, parts: readonly { el: number; size: number }[], start: number, end: number): { el: number; size: number }[] {
  const out: { el: number; size: number }[] = [];
  let at = 0;
  for (const p of parts) {
    const from = at;
    at += p.size;
    if (at <= start || from >= end) continue;
    if (from < start || at > end) {
      return ctx.decline(
        `it takes channels ${start}…${end - 1}, cutting a space of ${p.size} channels (${from}…${at - 1})`,
        'channel splits and slices must take whole concatenated spaces; a fused projection split into Q/K/V needs an architecture plugin',
      );
    }
    out.push(p);
  }
  if (out.length === 0) return ctx.decline('it takes no channels');
  return out;
}

/** Expand / Tile: broadcasting copies; the channel count must not change. */
export const expand: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  if (ctx.node.inputs[1] && ctx.isFeature(ctx.node.inputs[1])) ctx.decline('its shape is an activation');
  const cy = c + ctx.rank(y) - ctx.rank(x);
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (!xs || !ys || ys[cy] !== xs[c]) ctx.decline('it repeats the channel axis');
  ctx.join(y, cy, ctx.elementOf(x)!);
};

// ---------------------------------------------------------------- shape inference

/** Flatten: [d0…d(axis−1)] and [d(axis)…] multiplied into two axes. */
export const flattenShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return {};
  const axis = normAxis(intAttr(node, 'axis', 1), x.length + 1);
  return { shapes: [[productDims(x.slice(0, axis)), productDims(x.slice(axis))]] };
};

/** Reshape to a constant target (`reshapeShape`); a computed target of known length still gives the rank. */
export const reshapeOpShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  const target = ctx.constant(node.inputs[1]);
  // A computed target of known length still gives the rank (nn.MultiheadAttention's head split).
  if (!target) return { shapes: [unknownDims(ctx.shape(node.inputs[1]))] };
  const shape = reshapeShape(x, target.values, intAttr(node, 'allowzero', 0) === 1);
  const c = ctx.constant(node.inputs[0]);
  return { shapes: [shape], constants: [c && shape && shape.every(isNum) ? { shape: shape as number[], values: c.values } : undefined] };
};

/** Transpose by `perm` (default: reversed axes), constants permuted too. */
export const transposeShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return {};
  const perm = intsAttr(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  const shape = perm.map((p) => x[p]);
  const c = ctx.constant(node.inputs[0]);
  const constant =
    c && shape.every(isNum)
      ? { shape: shape as number[], values: gatherConst(c, shape as number[], (dst) => perm.map((_, a) => dst[perm.indexOf(a)])) }
      : undefined;
  return { shapes: [shape], constants: [constant] };
};

function axesOf(node: Node, ctx: InferContext, input: number): number[] | undefined {
  const attr = intsAttr(node, 'axes');
  if (attr) return attr;
  const c = ctx.constant(node.inputs[input]);
  if (c && c.values.every(isNum)) return c.values as number[];
  return undefined;
}

/** Squeeze the listed axes (default: every axis of size 1). */
export const squeezeShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return {};
  const axes = axesOf(node, ctx, 1);
  const norm = axes ? axes.map((a) => normAxis(a, x.length)) : x.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  const shape = x.filter((_, i) => !norm.includes(i));
  const c = ctx.constant(node.inputs[0]);
  return { shapes: [shape], constants: [c && shape.every(isNum) ? { shape: shape as number[], values: c.values } : undefined] };
};

/** Unsqueeze: size-1 axes inserted at the listed output positions. */
export const unsqueezeShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  const axes = axesOf(node, ctx, 1);
  if (!x || !axes) return {};
  const rank = x.length + axes.length;
  const norm = axes.map((a) => normAxis(a, rank));
  const shape: Dim[] = [];
  let src = 0;
  for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x[src++]);
  const c = ctx.constant(node.inputs[0]);
  return { shapes: [shape], constants: [c && shape.every(isNum) ? { shape: shape as number[], values: c.values } : undefined] };
};

/** Concat: sizes add up along `axis`; 1-d constants (shape vectors) are concatenated. */
export const concatShape: ShapeInference = (node, ctx) => {
  const ins = node.inputs.filter((i) => i).map((i) => ctx.shape(i));
  if (ins.some((s) => !s) || ins.length === 0) return {};
  const shapes = ins as Dim[][];
  const axis = normAxis(intAttr(node, 'axis', 0), shapes[0].length);
  const out = shapes[0].map((d, i) => (i === axis ? sumDims(shapes.map((s) => s[axis])) : d));
  const cs = node.inputs.filter((i) => i).map((i) => ctx.constant(i));
  const constant =
    shapes[0].length === 1 && cs.every((c) => c) ? { shape: [cs.reduce((n, c) => n + c!.values.length, 0)], values: cs.flatMap((c) => c!.values) } : undefined;
  return { shapes: [out], constants: [constant] };
};

/** Gather: the indices' shape replaces `axis`; picks from 1-d constants (`x.size(0)`). */
export const gatherShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
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
};

/** Slice with ONNX semantics (negative steps included); computed bounds leave the sliced axes unknown. */
export const sliceShape: ShapeInference = (node, ctx): InferResult => {
  const x = ctx.shape(node.inputs[0]);
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
    const b = sliceBounds(starts[k] as number, ends[k] as number, step, d);
    out[axis] = b.count;
    picks.set(axis, { first: b.start, step, count: b.count });
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
};

/** Expand: broadcast to a constant shape; a computed shape of known length gives the rank. */
export const expandShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  const s = ctx.constant(node.inputs[1]);
  if (s) return { shapes: [broadcastShapes(x, s.values)] };
  const target = unknownDims(ctx.shape(node.inputs[1]));
  return {
    shapes: [
      x && target
        ? broadcastShapes(
            x.map((d) => (d === 1 ? null : d)),
            target,
          )
        : null,
    ],
  };
};

/** Split into `split` sizes (input or attribute) or equal parts (one per output), along `axis`. */
export const splitShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return { shapes: [] };
  const axis = normAxis(intAttr(node, 'axis', 0), x.length);
  const n = node.outputs.length;
  const given = intsAttr(node, 'split') ?? (node.inputs[1] ? ctx.constant(node.inputs[1])?.values : undefined);
  const d = x[axis];
  const sizes: Dim[] = given ? given : typeof d === 'number' && d % n === 0 ? new Array<Dim>(n).fill(d / n) : new Array<Dim>(n).fill(null);
  return { shapes: sizes.map((s) => x.map((v, i) => (i === axis ? (isNum(s) ? s : null) : v))) };
};

/** Data movement between axes: reshapes, transposes, selection and concatenation. */
export const layoutOperators: readonly OperatorDef[] = [
  { opType: 'Flatten', role: 'layout', rule: reshape, infer: flattenShape, observeThrough: true },
  { opType: 'Reshape', role: 'layout', rule: reshape, infer: reshapeOpShape, observeThrough: true },
  { opType: 'Transpose', role: 'layout', rule: transpose, infer: transposeShape, observeThrough: true },
  { opType: 'Squeeze', role: 'layout', rule: squeeze, infer: squeezeShape, observeThrough: true },
  { opType: 'Unsqueeze', role: 'layout', rule: unsqueeze, infer: unsqueezeShape, observeThrough: true },
  { opType: 'Concat', role: 'layout', rule: concat, infer: concatShape },
  { opType: 'Split', role: 'layout', rule: split, infer: splitShape },
  { opType: 'Gather', role: 'layout', rule: gather, infer: gatherShape },
  { opType: 'Slice', role: 'layout', rule: slice, infer: sliceShape },
  { opType: 'Expand', role: 'layout', rule: expand, infer: expandShape },
  ...operators(['Tile'], { role: 'layout', rule: expand }),
];
