import { intAttr } from '../../graph/graph.js';
import { axisIn, featureAt, featureInputs, type Rule, type RuleContext } from './rule.js';

/**
 * Element-wise operators keep the space of their input. Binary operators between activations
 * unite the spaces of both sides (Add/Sum/Sub/Mean record a residual tie); a parameter that
 * varies along the channel axis produces the space (Add/Sub/Mul: a bias or a scale).
 */

/**
 * One activation in, same space out: Relu, LeakyRelu, Sigmoid, Tanh, Gelu, Erf, Clip, Identity,
 * Dropout, Cast… Extra inputs (Clip's min/max, Dropout's ratio) must be constants.
 */
export const unary: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  for (const extra of ctx.node.inputs.slice(1)) {
    if (extra && ctx.isFeature(extra)) ctx.decline(`its input "${extra}" is an activation, expected a constant`);
  }
  passOrJoin(ctx, x, ctx.node.outputs[0]);
};

function passOrJoin(ctx: RuleContext, x: string, y: string): void {
  const c = ctx.channelAxis(x);
  if (c === null) ctx.passThrough(y, x);
  else ctx.join(y, c, ctx.elementOf(x)!);
}

/** Operators where one activation may be added/scaled by a per-channel parameter. */
const PER_CHANNEL_PARAM = new Set(['Add', 'Sub', 'Mul', 'PRelu']);
/** Operators whose activation operands form a residual tie. */
const TIES = new Set(['Add', 'Sub', 'Sum', 'Mean']);

/**
 * NumPy-broadcasting operators: Add, Sub, Mul, Div, Pow, Max, Min, Sum, Mean, PRelu. All
 * channel-carrying operands must put their channels on the same (right-aligned) axis.
 */
export const broadcast: Rule = (ctx) => {
  const op = ctx.node.opType;
  const out = ctx.node.outputs[0];
  const rankOut = ctx.rank(out);
  const inputs = ctx.node.inputs.filter((i) => i !== '');
  const features = featureInputs(ctx);
  const channelled = features.filter((v) => ctx.channelAxis(v) !== null);
  if (channelled.length === 0) {
    const from = features.find((v) => ctx.isFeature(v));
    if (!from) return ctx.decline('it has no activation input');
    ctx.passThrough(out, from);
    return;
  }
  const aligned = (v: string, axis: number) => axis + rankOut - ctx.rank(v);
  const axis = aligned(channelled[0], ctx.channelAxis(channelled[0])!);
  for (const v of channelled) {
    const a = aligned(v, ctx.channelAxis(v)!);
    if (a !== axis) {
      ctx.decline(`its operands carry channels on different axes ("${channelled[0]}" on ${axis}, "${v}" on ${a} after broadcasting)`);
    }
  }
  const channelShape = ctx.shape(channelled[0]);
  const channels = channelShape?.[ctx.channelAxis(channelled[0])!];
  const perChannel: { param: string; axis: number }[] = [];
  const joinAxisLess: { value: string; axis: number }[] = [];
  for (const v of inputs) {
    if (channelled.includes(v)) continue;
    const shape = ctx.param(v)?.shape ?? ctx.shape(v);
    if (!shape) return ctx.decline(`the shape of its operand "${v}" is unknown`);
    const pos = axis - (rankOut - shape.length);
    const size = pos >= 0 ? shape[pos] : 1;
    if (size === 1 && channels !== 1) continue;
    if (typeof channels !== 'number' || size !== channels) {
      ctx.decline(`its operand "${v}" has ${String(size)} entries on the channel axis, the activation ${String(channels)}`);
    }
    if (ctx.isFeature(v)) {
      joinAxisLess.push({ value: v, axis: pos });
      continue;
    }
    if (channels === 1) continue;
    if (!PER_CHANNEL_PARAM.has(op)) {
      ctx.decline(
        `${op} with a per-channel operand "${v}" does not commute with merging`,
        'only per-channel Add/Sub/Mul (biases and scales) can be merged; fold the operation into a neighbouring layer',
      );
    }
    if (!ctx.param(v)) {
      ctx.decline(
        `its per-channel operand "${v}" is computed, not an initializer`,
        'export with constant folding so per-channel constants are initializers',
      );
    }
    perChannel.push({ param: v, axis: pos });
  }
  const first = ctx.elementOf(channelled[0])!;
  const ye = ctx.join(out, axis, first);
  const others = [
    ...channelled.slice(1).map((v) => ctx.elementOf(v)!),
    ...joinAxisLess.map((j) => ctx.channel(j.value, j.axis)),
  ];
  for (const el of others) {
    if (TIES.has(op)) ctx.tie(ye, el, features);
    else ctx.unite(ye, el);
  }
  for (const p of perChannel) ctx.produce(p.param, p.axis, ye);
};

/**
 * Softmax / LogSoftmax / Hardmax: per channel when taken over another axis (attention over
 * tokens); over the channel axis it mixes channels, so that space cannot be merged (harmless
 * after a task head, whose outputs are never merged).
 */
export const softmax: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const y = ctx.node.outputs[0];
  const c = ctx.channelAxis(x);
  if (c === null) {
    ctx.passThrough(y, x);
    return;
  }
  const rank = ctx.rank(x);
  const legacy = ctx.opset < 13;
  const axis = axisIn(intAttr(ctx.node, 'axis', legacy ? 1 : -1), rank);
  // Before opset 13 the input is coerced to 2-D: the normalised axes are [axis, rank).
  const mixes = legacy ? c >= axis : c === axis;
  const ye = ctx.join(y, c, ctx.elementOf(x)!);
  if (mixes) {
    ctx.mixing(
      ye,
      `${ctx.node.opType} over the channel axis mixes channels (it is not a channel-wise activation)`,
      'merging stops before it; only a softmax after a task head or over non-channel axes is supported',
    );
  }
};
