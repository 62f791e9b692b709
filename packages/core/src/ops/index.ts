/**
 * The operator registry: one `OperatorDef` per operator (propagation rule, shape inference,
 * role, observe-through), one file per family. Rules are exported as `…Rule`, inferences as
 * `…Shape`, for plugins that register an operator behaving like a built-in one. Shape helpers
 * (`productDims`, `reshapeShape`, …) are exported from `graph/infer-shapes.ts`.
 */
export * from './operator.js';
export * from './registry.js';
export * from './builtin.js';
export { Decline, axisIn, channelOperand, featureAt, featureInputs, paramAt, type Rule, type RuleContext } from './rule.js';
export {
  broadcast as broadcastRule,
  broadcastShape,
  elementwiseOperators,
  sameShape,
  softmax as softmaxRule,
  unary as unaryRule,
} from './elementwise.js';
export {
  conv as convRule,
  convShape,
  convTranspose as convTransposeRule,
  gemm as gemmRule,
  gemmShape,
  linearOperators,
  matMul as matMulRule,
  matMulShape,
} from './linear.js';
export {
  batchNormalization as batchNormalizationRule,
  instanceNormalization as instanceNormalizationRule,
  layerNormalization as layerNormalizationRule,
  normalizationOperators,
} from './normalization.js';
export {
  globalPoolShape,
  pad as padRule,
  padShape,
  pool as poolRule,
  poolShape,
  poolingOperators,
  reduce as reduceRule,
  reduceShape,
  resize as resizeRule,
} from './pooling.js';
export {
  channelMajorFlatten,
  concat as concatRule,
  concatShape,
  expand as expandRule,
  expandShape,
  flattenShape,
  gather as gatherRule,
  gatherShape,
  layoutOperators,
  mapThroughReshape,
  reshape as reshapeRule,
  reshapeOpShape,
  slice as sliceRule,
  sliceShape,
  split as splitRule,
  splitShape,
  squeeze as squeezeRule,
  squeezeShape,
  transpose as transposeRule,
  transposeShape,
  unsqueeze as unsqueezeRule,
  unsqueezeShape,
} from './layout.js';
export { constantOfShape, constantShape, shapeOperators, shapeShape, sizeShape } from './shape.js';
