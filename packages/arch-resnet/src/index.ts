export { buildResNet, buildResNet18, buildResNet20, buildResNet50, type ResNetOptions, type ResNetSpec } from './build.js';
export { declareMergeGraph } from './declare.js';
export { readLayout, type ConvUnit, type LayoutResult, type ResidualBlock, type ResNetLayout } from './layout.js';
export { registerResnet, resnetArch } from './resnet-arch.js';
