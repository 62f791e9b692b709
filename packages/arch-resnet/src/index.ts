export { buildResNet, buildResNet18, buildResNet20, buildResNet50, type ResNetOptions, type ResNetSpec } from './build.js';
export { declareResnetMergeGraph } from './declare.js';
export { readResnetLayout, type ConvUnit, type ResidualBlock, type ResNetLayout } from './layout.js';
export { registerResnet, resnetArch } from './resnet-arch.js';
