import { getAttribute, intAttr, intsAttr, floatAttr, type Dim } from '../graph/graph.js';
import { operators, type OperatorDef, type ShapeInference } from './operator.js';
import { axisIn, channelOperand, featureAt, type Rule } from './rule.js';
import { normAxis, reduceAxesOf, windowed } from './shape-math.js';

/**
 * Operators that work on each channel separately over spatial/token axes: pooling, reductions
 * over non-channel axes, padding, resizing. They keep the space.
 */

/** MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool, GlobalLpPool: NC… layout. */
export const pool: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const xe = ctx.channel(x, 1);
  ctx.join(ctx.node.outputs[0], 1, xe);
};

/**
 * ReduceMean/Sum/Max/…: over non-channel axes the space is kept (its axis shifts when
 * keepdims=0); over the channel axis the result carries no channels (e.g. the mean of a
 * LayerNorm written out as ReduceMean/Sub/Pow/Sqrt/Div).
 */
export const reduce: Rule = (ctx) => {
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
  const axes = reduceAxesOf(ctx.node, ctx.rank(x), (v) => ctx.constant(v));
  if (axes === null) return ctx.decline('its reduction axes are not constant');
  if (axes.includes(c)) {
    ctx.noChannel(y);
    return;
  }
  const keep = (getAttribute(ctx.node, 'keepdims')?.value ?? 1) === 1;
  const shift = keep ? 0 : axes.filter((a) => a < c).length;
  ctx.join(y, c - shift, ctx.elementOf(x)!);
};

/**
 * Pad: zero padding (or reflect/edge, which copy values per channel) of non-channel axes keeps
 * the space; a non-zero constant does not commute with merging (M·(c·1) ≠ c·1 in general).
 */
export const pad: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const rank = ctx.rank(x);
  const modeAttr = getAttribute(ctx.node, 'mode');
  const mode = modeAttr && modeAttr.type === 'string' ? modeAttr.value : 'constant';
  let pads: number[] | undefined = intsAttr(ctx.node, 'pads');
  let value = floatAttr(ctx.node, 'value', 0);
  if (!pads) {
    const p = ctx.node.inputs[1] ? ctx.constant(ctx.node.inputs[1]) : undefined;
    if (!p || !p.values.every((v) => typeof v === 'number')) return ctx.decline('its pads are not constant');
    pads = p.values as number[];
    const v = ctx.node.inputs[2];
    if (v) {
      const cv = ctx.constant(v);
      if (!cv || typeof cv.values[0] !== 'number') return ctx.decline('its padding value is not constant');
      value = cv.values[0] as number;
    }
  }
  let axes = Array.from({ length: rank }, (_, i) => i);
  if (ctx.node.inputs[3]) {
    const a = ctx.constant(ctx.node.inputs[3]);
    if (!a) return ctx.decline('its axes are not constant');
    axes = a.values.map((v) => axisIn(Number(v), rank));
  }
  if (mode === 'constant' && value !== 0) {
    ctx.decline(`Pad with the non-zero constant ${value} does not commute with merging`, 'only zero, reflect or edge padding is exact');
  }
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge') ctx.decline(`Pad mode "${mode}" is not supported`);
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  const k = axes.indexOf(c);
  if (k >= 0 && (pads[k] !== 0 || pads[k + axes.length] !== 0)) {
    ctx.decline('it pads the channel axis', 'padding channels changes the channel count of the space');
  }
  ctx.join(y, c, ctx.elementOf(x)!);
};

/** Resize/Upsample of NC… tensors: spatial only, the channel count must not change. */
export const resize: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (xs && ys && xs[1] !== ys[1]) ctx.decline('it resizes the channel axis');
  const xe = ctx.channel(x, 1);
  ctx.join(y, 1, xe);
};

// ---------------------------------------------------------------- shape inference

/** MaxPool/AveragePool/LpPool: windows over the spatial axes (MaxPool's indices output alike). */
export const poolShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  const kernel = intsAttr(node, 'kernel_shape');
  const s: Dim[] | null = x && kernel ? [x[0], x[1], ...windowed(node, x.slice(2), kernel, x.length - 2)] : null;
  return { shapes: node.outputs.length > 1 ? [s, s] : [s] };
};

/** Global pooling: every spatial axis becomes 1. */
export const globalPoolShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  return { shapes: [x && [x[0], x[1], ...x.slice(2).map(() => 1)]] };
};

/** Reductions: the reduced axes become 1 (keepdims, the default) or disappear. */
export const reduceShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  if (!x) return {};
  const axes = reduceAxesOf(node, x.length, (v) => ctx.constant(v));
  if (axes === null) return {};
  const keep = intAttr(node, 'keepdims', 1) === 1;
  return { shapes: [keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i))] };
};

/** Pad: each padded axis grows by its begin + end pads (attribute before opset 11, input after). */
export const padShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
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
};

const REDUCTIONS = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp'];
/** Reductions a point's statistics may be observed through (they keep each channel's values apart). */
const OBSERVED_REDUCTIONS = new Set(['ReduceMean', 'ReduceMax', 'ReduceSum']);

/** Per-channel work over spatial or token axes: pooling, reductions, padding, resizing. */
export const poolingOperators: readonly OperatorDef[] = [
  ...operators(['MaxPool', 'AveragePool', 'LpPool'], { role: 'pooling', rule: pool, infer: poolShape, observeThrough: true }),
  ...operators(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'], { role: 'pooling', rule: pool, infer: globalPoolShape, observeThrough: true }),
  ...REDUCTIONS.map(
    (opType): OperatorDef => ({ opType, role: 'reduction', rule: reduce, infer: reduceShape, observeThrough: OBSERVED_REDUCTIONS.has(opType) }),
  ),
  { opType: 'Pad', role: 'pooling', rule: pad, infer: padShape, observeThrough: true },
  ...operators(['Resize', 'Upsample'], { role: 'pooling', rule: resize }),
];
