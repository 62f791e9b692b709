import { broadcast, softmax, unary } from './elementwise.js';
import { concat, expand, gather, reshape, slice, split, squeeze, transpose, unsqueeze } from './layout.js';
import { conv, convTranspose, gemm, matMul } from './linear.js';
import { batchNormalization, instanceNormalization, layerNormalization } from './normalization.js';
import type { Rule } from './rule.js';
import { pad, pool, reduce, resize } from './spatial.js';

export type { Rule, RuleContext } from './rule.js';
export { Decline } from './rule.js';

const UNARY = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Gelu', 'Erf', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign',
  'HardSigmoid', 'HardSwish', 'Mish', 'ThresholdedRelu', 'Clip', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs',
  'Reciprocal', 'Identity', 'Dropout', 'Cast', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos',
];

/**
 * Propagation rules of the default ONNX domain, by operator type. Operators whose inputs are all
 * constants or shapes need no rule (their outputs carry no features); neither do Shape and Size.
 */
export const defaultRules: ReadonlyMap<string, Rule> = new Map<string, Rule>([
  ...UNARY.map((op): [string, Rule] => [op, unary]),
  ...['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu'].map((op): [string, Rule] => [op, broadcast]),
  ...['Softmax', 'LogSoftmax', 'Hardmax'].map((op): [string, Rule] => [op, softmax]),
  ['Conv', conv],
  ['ConvTranspose', convTranspose],
  ['Gemm', gemm],
  ['MatMul', matMul],
  ['BatchNormalization', batchNormalization],
  ['InstanceNormalization', instanceNormalization],
  ['LayerNormalization', layerNormalization],
  ...['MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool'].map((op): [string, Rule] => [op, pool]),
  ...['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']
    .map((op): [string, Rule] => [op, reduce]),
  ['Pad', pad],
  ['Resize', resize],
  ['Upsample', resize],
  ['Flatten', reshape],
  ['Reshape', reshape],
  ['Transpose', transpose],
  ['Squeeze', squeeze],
  ['Unsqueeze', unsqueeze],
  ['Concat', concat],
  ['Split', split],
  ['Gather', gather],
  ['Slice', slice],
  ['Expand', expand],
  ['Tile', expand],
]);

/** Operators whose outputs describe shapes only, whatever their inputs. */
export const SHAPE_ONLY: ReadonlySet<string> = new Set(['Shape', 'Size']);
