import { intAttr } from '../graph/graph.js';
import { sameShape } from './elementwise.js';
import type { OperatorDef } from './operator.js';
import { axisIn, featureAt, paramAt, type Rule } from './rule.js';

/**
 * Normalisations keep their input's space; their per-channel parameters (and running
 * statistics) produce it. BatchNorm and InstanceNorm are exact under any merge of the affine
 * part and exact under permutations for the statistics; LayerNorm over the channel axis mixes
 * channels through its mean and variance: exact under permutations, approximate under zips.
 */

/** BatchNormalization(X, scale, B, mean, var): channels on axis 1. */
export const batchNormalization: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const params = [1, 2, 3, 4].map((i) => paramAt(ctx, i, ['scale', 'bias', 'running mean', 'running variance'][i - 1]));
  const xe = ctx.channel(x, 1);
  const ye = ctx.join(ctx.node.outputs[0], 1, xe);
  for (const p of params) ctx.produce(p, 0, ye);
};

/** InstanceNormalization(X, scale, B): per-channel statistics over space. */
export const instanceNormalization: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const scale = paramAt(ctx, 1, 'scale');
  const bias = paramAt(ctx, 2, 'bias');
  const xe = ctx.channel(x, 1);
  const ye = ctx.join(ctx.node.outputs[0], 1, xe);
  ctx.produce(scale, 0, ye);
  ctx.produce(bias, 0, ye);
};

/** LayerNormalization(X, Scale, B) over axes [axis, rank): supported over exactly the channel axis (the last). */
export const layerNormalization: Rule = (ctx) => {
  const x = featureAt(ctx, 0, 'input');
  const scale = paramAt(ctx, 1, 'scale');
  const bias = ctx.node.inputs[2] ? paramAt(ctx, 2, 'bias') : undefined;
  const rank = ctx.rank(x);
  const first = axisIn(intAttr(ctx.node, 'axis', -1), rank);
  const c = ctx.channelAxis(x) ?? rank - 1;
  if (first !== rank - 1 || c !== rank - 1) {
    ctx.decline(
      `LayerNormalization over axes ${first}…${rank - 1} with channels on axis ${c}`,
      'only LayerNorm over exactly the channel axis (the last one) is supported',
    );
  }
  const xe = ctx.channel(x, c);
  const ye = ctx.join(ctx.node.outputs[0], c, xe);
  ctx.produce(scale, 0, ye);
  if (bias) ctx.produce(bias, 0, ye);
};

/** BatchNorm, InstanceNorm, LayerNorm: output of the input's shape, parameters produce the space. */
export const normalizationOperators: readonly OperatorDef[] = [
  { opType: 'BatchNormalization', role: 'normalization', rule: batchNormalization, infer: sameShape },
  { opType: 'InstanceNormalization', role: 'normalization', rule: instanceNormalization, infer: sameShape },
  { opType: 'LayerNormalization', role: 'normalization', rule: layerNormalization, infer: sameShape },
];
