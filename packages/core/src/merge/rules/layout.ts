import { intAttr, intsAttr, type Dim } from '../../graph/graph.js';
import { axisIn, featureAt, type Rule, type RuleContext } from './rule.js';

/**
 * Operators that move data between axes without mixing channels: Flatten/Reshape (after global
 * pooling), Squeeze/Unsqueeze, Transpose, and selection/concatenation along non-channel axes.
 * Shape-only inputs (the Shape/Gather/Unsqueeze/Concat chain of `x.view(x.size(0), -1)`) are
 * constants to these rules: they carry no features.
 */

/**
 * Flatten and Reshape: the channel axis survives iff some output axis has exactly C entries with
 * the same number of elements before it (and after it) as the input's channel axis — e.g.
 * [B, C, 1, 1] → [B, C]. Flattening C×H×W with H·W > 1 mixes channels with positions.
 */
export const reshape: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  if (ctx.node.inputs[1] && ctx.isFeature(ctx.node.inputs[1])) {
    ctx.decline('its target shape depends on activations, not only on shapes');
  }
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (!xs || !ys) return ctx.decline(`the shape of "${!xs ? x : y}" is unknown`, 'give the model static shapes (all but the batch dimension)');
  const j = mapThroughReshape(xs, c, ys);
  if (j === null) {
    return ctx.decline(
      `it reshapes [${dimList(xs)}] (channels on axis ${c}) to [${dimList(ys)}], mixing channels with other axes`,
      'pool globally before flattening (e.g. AdaptiveAvgPool2d(1)); splitting channels into heads needs an architecture plugin',
    );
  }
  ctx.join(y, j, ctx.elementOf(x)!);
};

/** Output axis holding input axis `c` intact after a reshape, or null. */
export function mapThroughReshape(xs: readonly Dim[], c: number, ys: readonly Dim[]): number | null {
  const channels = xs[c];
  if (typeof channels !== 'number') return null;
  for (let j = 0; j < ys.length; j++) {
    if (ys[j] !== channels) continue;
    if (sameProduct(xs.slice(0, c), ys.slice(0, j)) && sameProduct(xs.slice(c + 1), ys.slice(j + 1))) return j;
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
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
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
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
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
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
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

/** Concat along a non-channel axis (e.g. tokens): all activation operands share one space. */
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
    ctx.decline(
      'Concat along the channel axis joins several spaces into one',
      'concatenated channels need block structure declared by an architecture plugin',
    );
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

/** Split along a non-channel axis: every part keeps the space. */
export const split: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const c = ctx.channelAxis(x);
  const outs = ctx.node.outputs.filter((o) => o !== '');
  if (c === null) {
    for (const o of outs) ctx.passThrough(o, x);
    return;
  }
  if (axisIn(intAttr(ctx.node, 'axis', 0), ctx.rank(x)) === c) {
    ctx.decline('Split along the channel axis divides a space', 'split channels need block structure declared by an architecture plugin');
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
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  for (const extra of ctx.node.inputs.slice(1)) if (extra && ctx.isFeature(extra)) ctx.decline('its bounds are activations');
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (!xs || !ys || ys[c] === null || ys[c] !== xs[c]) {
    ctx.decline('it may cut the channel axis', 'only slices of non-channel axes (or of the whole channel axis) are supported');
  }
  ctx.join(y, c, ctx.elementOf(x)!);
};

/** Expand / Tile: broadcasting copies; the channel count must not change. */
export const expand: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  if (ctx.node.inputs[1] && ctx.isFeature(ctx.node.inputs[1])) ctx.decline('its shape is an activation');
  const cy = c + ctx.rank(y) - ctx.rank(x);
  const xs = ctx.shape(x);
  const ys = ctx.shape(y);
  if (!xs || !ys || ys[cy] !== xs[c]) ctx.decline('it repeats the channel axis');
  ctx.join(y, cy, ctx.elementOf(x)!);
};
