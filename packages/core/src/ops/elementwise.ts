import { intAttr, type Dim, type Node } from '../graph/graph.js';
import { operators, type InferContext, type OperatorDef, type ShapeInference } from './operator.js';
import { axisIn, channelOperand, featureAt, featureInputs, type Rule, type RuleContext } from './rule.js';
import { broadcastShapes, isNum, type ConstValue } from './shape-math.js';

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
      ctx.decline(`its per-channel operand "${v}" is computed, not an initializer`, 'export with constant folding so per-channel constants are initializers');
    }
    perChannel.push({ param: v, axis: pos });
  }
  const first = ctx.elementOf(channelled[0])!;
  const ye = ctx.join(out, axis, first);
  const others = [...channelled.slice(1).map((v) => ctx.elementOf(v)!), ...joinAxisLess.map((j) => ctx.channel(j.value, j.axis))];
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
  const operand = channelOperand(ctx);
  if (!operand) return;
  const { x, y, c } = operand;
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

// ---------------------------------------------------------------- shape inference

/** One output of the input's shape (Dropout's mask too); Identity and Cast carry a constant input through. */
export const sameShape: ShapeInference = (node, ctx) => {
  const x = ctx.shape(node.inputs[0]);
  const shapes: (Dim[] | null)[] = [x];
  if (node.opType === 'Dropout' && node.outputs.length > 1) shapes.push(x);
  const carries = node.opType === 'Identity' || node.opType === 'Cast';
  return { shapes, constants: carries ? [ctx.constant(node.inputs[0])] : undefined };
};

/** NumPy broadcasting of every input; small constants are computed (shape arithmetic, `expand`'s Where/Equal). */
export const broadcastShape: ShapeInference = (node, ctx) => {
  const ins = node.inputs.filter((i) => i).map((i) => ctx.shape(i));
  const shape = ins.reduce<Dim[] | null>((acc, s) => broadcastShapes(acc, s), ins[0] ?? null);
  const op = node.opType;
  const constant = op === 'Where' ? constWhere(node, ctx) : op === 'Equal' ? constEqual(node, ctx) : constArith(op, node, ctx);
  return { shapes: [shape], constants: [constant] };
};

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

// ---------------------------------------------------------------- registrations

/** Channel-wise activations and casts: one activation in, same space out. */
const ACTIVATIONS = [
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'Gelu',
  'Erf',
  'Elu',
  'Selu',
  'Celu',
  'Softplus',
  'Softsign',
  'HardSigmoid',
  'HardSwish',
  'Mish',
  'ThresholdedRelu',
  'Clip',
  'Sqrt',
  'Exp',
  'Log',
  'Neg',
  'Abs',
  'Reciprocal',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Sin',
  'Cos',
  'Cast',
];

/** Element-wise operators: activations, arithmetic, softmax, comparisons (shape inference only). */
export const elementwiseOperators: readonly OperatorDef[] = [
  ...operators(ACTIVATIONS, { role: 'elementwise', rule: unary, infer: sameShape }),
  ...operators(['Identity', 'Dropout'], { role: 'elementwise', rule: unary, infer: sameShape, observeThrough: true }),
  ...operators(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean'], { role: 'elementwise', rule: broadcast, infer: broadcastShape }),
  { opType: 'PRelu', role: 'elementwise', rule: broadcast, infer: sameShape },
  ...operators(['Softmax', 'LogSoftmax', 'Hardmax'], { role: 'elementwise', rule: softmax, infer: sameShape }),
  // No rule: comparisons and logic make masks, not features; they matter for shape arithmetic.
  ...operators(['Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Mod'], { role: 'elementwise', infer: broadcastShape }),
  { opType: 'Not', role: 'elementwise', infer: sameShape },
];
