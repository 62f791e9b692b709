export { walkBatches, type Batch, type Batches, type PassOptions, type Progress } from './batches.js';
export { collectStatistics, type CollectStatisticsOptions } from './collect-statistics.js';
export { argmaxRows, evaluateModel, type EvaluatedBatch, type Evaluation, type EvaluateOptions } from './evaluate.js';
export { runModel, type BatchResult, type RunModelOptions } from './run-model.js';
export { ModelSession, defaultThreads, type SessionOptions } from './session.js';
export { buildStatisticsGraph, type SpaceRequest, type StatisticsGraph, type StatisticsOutputs } from './statistics-graph.js';
export { dataInputs, singleDataInput, tapValues, valueNames } from './tap.js';
export { resetBatchNorm, type ResetBatchNormResult } from './reset-batchnorm.js';
export { channelMoments } from './channel-moments.js';
