export { buildVit, type VitSpec } from './build.js';
export { declareVitMergeGraph } from './declare.js';
export { readVitLayout, type Attention, type Linear, type Norm, type Projection, type VitBlock, type VitLayout } from './layout.js';
export { prepareVit } from './prepare.js';
export { foldNormAffine } from './fold-norms.js';
export { vitRotateMatcher } from './vit-rotate-matcher.js';
export { matchVit, vitPointKind, type VitMatchOptions, type VitPointKind, type VitPointMatch } from './vit-match.js';
export { registerVit, vitArch } from './vit-arch.js';
export {
  channelAffine,
  channelMomentsAccumulator,
  insertChannelAffine,
  logitRowDeviation,
  RepairTargetMoments,
  vitRepairSites,
  vitTemperatureSites,
  type ChannelTarget,
  type VitRepairKind,
  type VitRepairSite,
  type VitTemperatureSite,
} from './vit-repair.js';
export { LinearFit, readLinear, vitFitLayers, vitRefitPlan, writeLinear } from './least-squares.js';
export { zipHeads, type HeadSpace } from './head-zip.js';
export { blendSimilarity, mlpWeightSimilarity } from './weight-similarity.js';
