export {
  fixedBatch,
  walkBatches,
  type Batch,
  type Batches,
  type PassOptions,
  type Progress,
  type Remainder,
  type WalkedBatch,
  type WalkOptions,
} from './batches.js';
export { channelMoments } from './channel-moments.js';
export { collectStatistics, type CollectStatisticsOptions } from './collect-statistics.js';
export { argmaxRows, evaluateModel, type EvaluatedBatch, type Evaluation, type EvaluateOptions } from './evaluate.js';
export { repairModel } from './repair.js';
export { anchoredResetBatchNorm } from './anchored-reset.js';
export { resetBatchNorm, type ResetBatchNormResult } from './reset-batchnorm.js';
export { runModel, type BatchResult, type RunModelOptions } from './run-model.js';
export { refitLayers, refitPlan, type RefitOptions, type RefitResult } from './refit-layers.js';
