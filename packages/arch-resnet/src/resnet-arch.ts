import { defineArchitecture, type ArchitectureRegistry, type Graph, type ReferenceModel } from '@zipit/core';
import { buildResNet, type ResNetSpec } from './build.js';
import { declareResnetMergeGraph } from './declare.js';
import { readResnetLayout, type ResNetLayout } from './layout.js';

/** One line describing a recognised ResNet. */
function summarise(graph: Graph, layout: ResNetLayout): { variant: string; summary: string } {
  const bottleneck = layout.blocks[0].branch.length === 3;
  const depth = 2 + layout.blocks.reduce((n, b) => n + b.branch.length, 0);
  const stages = new Map<string, number>();
  for (const b of layout.blocks) {
    const stage = b.name.includes('.') ? b.name.slice(0, b.name.lastIndexOf('.')) : b.name;
    stages.set(stage, (stages.get(stage) ?? 0) + 1);
  }
  const widths = [...new Set(layout.blocks.map((b) => graph.initializers.get(b.branch[b.branch.length - 1].conv.inputs[1])!.shape[0]))];
  const folded = layout.stem.bn ? 'BatchNorm kept' : 'BatchNorm folded into Conv';
  const shortcuts = layout.blocks.filter((b) => b.shortcut).length;
  return {
    variant: `resnet${depth}`,
    summary:
      `ResNet-${depth} (${bottleneck ? 'Bottleneck' : 'BasicBlock'}): ${layout.blocks.length} blocks in stages [${[...stages.values()].join(', ')}], ` +
      `widths [${widths.join(', ')}], ${shortcuts} projection shortcut${shortcuts === 1 ? '' : 's'}, ${folded}`,
  };
}

const reference = (name: string, spec: ResNetSpec): ReferenceModel => ({
  name,
  input: { name: 'input', shape: ['batch', spec.inChannels ?? 3, spec.imageSize ?? 32, spec.imageSize ?? 32] },
  build: ({ seed, classes, foldedBatchNorm }) =>
    buildResNet({ ...spec, seed, classes: classes ?? spec.classes, foldedBatchNorm: foldedBatchNorm ?? spec.foldedBatchNorm }),
});

/**
 * ResNets with BasicBlocks or Bottlenecks, identity or projection shortcuts, BatchNorm kept or
 * folded: CIFAR-style (the reference's ResNet-20) and torchvision layouts.
 */
export const resnetArch = defineArchitecture<ResNetLayout>({
  name: 'resnet',
  family: 'ResNet',
  description: 'ResNet (BasicBlock/Bottleneck, identity or projection shortcuts, BatchNorm kept or folded)',
  read: readResnetLayout,
  summarise,
  declare: declareResnetMergeGraph,
  references: [
    reference('resnet20-w1', { layout: 'cifar', block: 'basic', depths: [3, 3, 3], width: 1, imageSize: 16 }),
    reference('resnet20-w2', { layout: 'cifar', block: 'basic', depths: [3, 3, 3], width: 2, imageSize: 16 }),
    reference('resnet18-w0.25', { layout: 'torchvision', block: 'basic', depths: [2, 2, 2, 2], width: 0.25, imageSize: 32 }),
    reference('resnet50-w0.125', { layout: 'torchvision', block: 'bottleneck', depths: [3, 4, 6, 3], width: 0.125, imageSize: 32 }),
  ],
});

/** Registers {@link resnetArch} (idempotent). */
export function registerResnet(registry: ArchitectureRegistry): void {
  registry.ensure(resnetArch);
}
