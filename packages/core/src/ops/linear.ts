import { intAttr, intsAttr, type Dim } from '../graph/graph.js';
import type { OperatorDef, ShapeInference } from './operator.js';
import { featureAt, paramAt, type Rule, type RuleContext } from './rule.js';
import { broadcastShapes, windowed } from './shape-math.js';

/**
 * Layers with weights: their output channels start a new space (weight output axis and bias
 * produce it), their input channels read the input's space (weight input axis consumes it).
 */

/** Conv, weight [O, I/group, k…]: group = 1, or depthwise (group = I = O, which keeps the space). */
export const conv: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const w = paramAt(ctx, 1, 'weight');
  const b = ctx.node.inputs[2] ? paramAt(ctx, 2, 'bias') : undefined;
  const shape = ctx.param(w)!.shape;
  if (shape.length < 3) ctx.decline(`its weight has rank ${shape.length}, expected ≥ 3`);
  const group = intAttr(ctx.node, 'group', 1);
  const [out, inPerGroup] = shape;
  const y = ctx.node.outputs[0];
  if (group === 1) {
    const xe = ctx.channel(x, 1);
    ctx.consume(w, 1, xe);
    const ye = ctx.fresh(y, 1);
    ctx.produce(w, 0, ye);
    if (b) ctx.produce(b, 0, ye);
    return;
  }
  if (inPerGroup === 1 && out === group) {
    const xe = ctx.channel(x, 1);
    const ye = ctx.join(y, 1, xe);
    ctx.produce(w, 0, ye);
    if (b) ctx.produce(b, 0, ye);
    return;
  }
  ctx.decline(
    `grouped convolution (group=${group}, ${inPerGroup} input channels per group) mixes channels within groups`,
    'only group=1 and depthwise (one filter per channel) convolutions can be merged automatically',
  );
};

/** ConvTranspose, weight [I, O/group, k…]: group = 1 only. */
export const convTranspose: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const w = paramAt(ctx, 1, 'weight');
  const b = ctx.node.inputs[2] ? paramAt(ctx, 2, 'bias') : undefined;
  if (intAttr(ctx.node, 'group', 1) !== 1) ctx.decline('grouped transposed convolution mixes channels within groups');
  const xe = ctx.channel(x, 1);
  ctx.consume(w, 0, xe);
  const ye = ctx.fresh(ctx.node.outputs[0], 1);
  ctx.produce(w, 1, ye);
  if (b) ctx.produce(b, 0, ye);
};

/** Gemm(A [M, K], B, C): B is [K, N], or [N, K] with transB; C a bias broadcast to [M, N]. */
export const gemm: Rule = (ctx) => {
  if (intAttr(ctx.node, 'transA', 0) !== 0) {
    ctx.decline('Gemm with transA=1 reads its input channels on axis 0', 'export the layer as x @ Wᵀ (transA=0)');
  }
  const a = ctx.node.inputs[0];
  if (!ctx.isFeature(a)) {
    ctx.decline('its input A is not an activation (weights on the left)', 'only y = x · W (+ b) layers can be merged automatically');
  }
  if (!ctx.param(ctx.node.inputs[1])) {
    ctx.decline(
      'Gemm of two activations (its B input is not an initializer)',
      'products of activations (attention) need an architecture plugin that declares their spaces',
    );
  }
  const w = ctx.node.inputs[1];
  const wShape = ctx.param(w)!.shape;
  if (wShape.length !== 2) ctx.decline(`its weight has rank ${wShape.length}, expected 2`);
  const transB = intAttr(ctx.node, 'transB', 0) === 1;
  const n = transB ? wShape[0] : wShape[1];
  const bias = biasAxis(ctx, 2, n);
  const ae = ctx.channel(a, 1);
  ctx.consume(w, transB ? 1 : 0, ae);
  const ye = ctx.fresh(ctx.node.outputs[0], 1);
  ctx.produce(w, transB ? 0 : 1, ye);
  if (bias) ctx.produce(bias.param, bias.axis, ye);
};

/** Gemm's C: a per-output bias ([N] or [1, N]) to produce, nothing (scalar or absent), or a decline. */
function biasAxis(ctx: RuleContext, index: number, n: number): { param: string; axis: number } | undefined {
  const c = ctx.node.inputs[index];
  if (!c) return undefined;
  if (ctx.isFeature(c)) ctx.decline('its bias C is an activation', 'only stored biases can be merged');
  const t = ctx.param(c);
  const shape = t?.shape ?? ctx.shape(c);
  if (!shape) return ctx.decline(`the shape of its bias "${c}" is unknown`);
  const last = shape.length - 1;
  if (last < 0 || (shape[last] === 1 && n !== 1)) return undefined;
  if (shape[last] !== n || (shape.length === 2 && shape[0] !== 1) || shape.length > 2) {
    ctx.decline(`its bias has shape [${shape.join(', ')}], expected [${n}] or [1, ${n}]`);
  }
  if (!t) ctx.decline(`its per-output bias "${c}" is not an initializer`, 'export with constant folding so biases are initializers');
  return { param: c, axis: last };
}

/**
 * MatMul(X [..., K], W [K, N]) with W an initializer: X's last axis reads the space W's rows
 * consume; the output's last axis is a new space. A following `Add(bias)` is an element-wise
 * rule (per-channel parameter = producer).
 */
export const matMul: Rule = (ctx) => {
  const [a, b] = ctx.node.inputs;
  const aFeature = ctx.isFeature(a);
  const bFeature = ctx.isFeature(b);
  if (aFeature && bFeature) {
    ctx.decline(
      'MatMul of two activations (attention scores or mixing) is not a layer with weights',
      'declare the attention spaces with an architecture plugin (e.g. @zipit/arch-vit)',
    );
  }
  if (!aFeature) {
    ctx.decline('the weight is on the left (W · X)', 'only X · W layers (nn.Linear as exported by PyTorch) can be merged automatically');
  }
  const w = paramAt(ctx, 1, 'weight');
  const wShape = ctx.param(w)!.shape;
  if (wShape.length !== 2) ctx.decline(`its weight has rank ${wShape.length}, expected 2 ([in, out])`);
  const rank = ctx.rank(a);
  if (rank < 2) ctx.decline('its input has rank 1');
  const ae = ctx.channel(a, rank - 1);
  ctx.consume(w, 0, ae);
  const ye = ctx.fresh(ctx.node.outputs[0], ctx.rank(ctx.node.outputs[0]) - 1);
  ctx.produce(w, 1, ye);
};

// ---------------------------------------------------------------- shape inference

/** Conv: [N, C, d…] with weight [O, I/group, k…] → [N, O, windowed d…]. */
export const convShape: ShapeInference = (node, ctx) => {
  const w = ctx.shape(node.inputs[1]);
  if (!w) return { shapes: [null] };
  const x = ctx.shape(node.inputs[0]) ?? w.map(() => null);
  const spatial = x.length - 2;
  const kernel = intsAttr(node, 'kernel_shape') ?? (w.slice(2) as number[]);
  return { shapes: [[x[0], w[0], ...windowed(node, x.slice(2), kernel, spatial)]] };
};

/** Gemm: [M, K] · [K, N] (either side transposed by transA/transB) → [M, N]. */
export const gemmShape: ShapeInference = (node, ctx) => {
  const a = ctx.shape(node.inputs[0]);
  const b = ctx.shape(node.inputs[1]);
  if (!a || !b || a.length !== 2 || b.length !== 2) return {};
  const m = intAttr(node, 'transA', 0) ? a[1] : a[0];
  const n = intAttr(node, 'transB', 0) ? b[0] : b[1];
  return { shapes: [[m, n]] };
};

/** MatMul with NumPy semantics: batch axes broadcast, 1-d operands promoted and dropped again. */
export const matMulShape: ShapeInference = (node, ctx) => ({ shapes: [matmulDims(ctx.shape(node.inputs[0]), ctx.shape(node.inputs[1]))] });

function matmulDims(a: Dim[] | null, b: Dim[] | null): Dim[] | null {
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

/** Layers with a weight at input 1: their outputs start new spaces; task heads are found among them. */
export const linearOperators: readonly OperatorDef[] = [
  { opType: 'Conv', role: 'weight', rule: conv, infer: convShape },
  { opType: 'ConvTranspose', role: 'weight', rule: convTranspose },
  { opType: 'Gemm', role: 'weight', rule: gemm, infer: gemmShape },
  { opType: 'MatMul', role: 'weight', rule: matMul, infer: matMulShape },
];
