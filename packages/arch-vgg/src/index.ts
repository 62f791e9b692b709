export { buildVgg, VGG_CONFIGS, VGG_VARIANTS, vggWidths, type VggBatchNorm, type VggOptions, type VggVariant } from './build.js';
export { declareVggMergeGraph } from './declare.js';
export { parseVgg, type VggLayer, type VggLayout, type VggParse } from './layout.js';
export { registerVgg, vggArch } from './vgg-arch.js';
