import { getAttribute, intsAttr, floatAttr } from '../../graph/graph.js';
import { reduceAxesOf } from '../../graph/infer-shapes.js';
import { axisIn, featureAt, type Rule } from './rule.js';

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
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
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
    ctx.decline(
      `Pad with the non-zero constant ${value} does not commute with merging`,
      'only zero, reflect or edge padding is exact',
    );
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
