import { defineArchitecture, type ArchitectureRegistry, type ReferenceModel } from '@zipit/core';
import { buildVgg, type VggVariant } from './build.js';
import { declareVggMergeGraph } from './declare.js';
import { parseVgg, type VggLayout } from './layout.js';

function summarise(layout: VggLayout): { variant: string; summary: string } {
  const number = layout.variant.slice(3);
  const widths = layout.layers.map((l) => l.channels);
  const bn = layout.batchNorm ? 'BatchNorm kept' : 'no BatchNorm nodes (none, or folded into Conv)';
  return {
    variant: `${layout.variant}${layout.batchNorm ? '-bn' : ''}`,
    summary:
      `VGG-${number} (CIFAR layout): ${widths.length} conv layers of ${Math.min(...widths)}–${Math.max(...widths)} channels ` +
      `(width ×${layout.width}), ${bn}, classifier with ${layout.classes} classes`,
  };
}

const reference = (variant: VggVariant, width: number): ReferenceModel => ({
  name: `${variant}-w${width}`,
  input: { name: 'input', shape: ['batch', 3, 32, 32] },
  build: ({ seed, classes, foldedBatchNorm }) => buildVgg({ variant, width, seed, classes, batchNorm: foldedBatchNorm ? 'folded' : 'kept' }),
});

/**
 * CIFAR-style VGG-11/13/16/19 (the reference implementation's `models/vgg.py`), with BatchNorm
 * kept, folded into the convolutions, or absent: one merge point per conv layer.
 */
export const vggArch = defineArchitecture<VggLayout>({
  name: 'vgg',
  family: 'VGG',
  description: 'CIFAR-style VGG-11/13/16/19 (3×3 conv, ReLU, 2×2 max-pool, one Linear classifier), BatchNorm kept, folded or absent',
  read: parseVgg,
  summarise: (_graph, layout) => summarise(layout),
  declare: declareVggMergeGraph,
  references: [reference('vgg11', 0.125), reference('vgg16', 0.0625)],
});

/** Registers {@link vggArch} (idempotent). */
export function registerVgg(registry: ArchitectureRegistry): void {
  registry.ensure(vggArch);
}
