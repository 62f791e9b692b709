import { defineArchitecture, type ArchitectureRegistry, type ReferenceModel } from '@zipit/core';
import { buildVit, type VitSpec } from './build.js';
import { declareVitMergeGraph } from './declare.js';
import { readVitLayout, type VitLayout } from './layout.js';
import { prepareVit } from './prepare.js';
import { vitRefitPlan } from './least-squares.js';

function summarise(layout: VitLayout): { variant: string; summary: string } {
  const a = layout.blocks[0].attn;
  const fused = a.q.linear.node === a.k.linear.node ? 'fused QKV' : 'separate Q/K/V';
  const junctions = layout.blocks.some((b) => b.junction) ? ', stream junctions' : '';
  return {
    variant: `vit-d${layout.blocks.length}-h${a.heads}`,
    summary:
      `ViT: ${layout.blocks.length} blocks, width ${layout.dim}, ${a.heads} heads of ${a.qkHeadDim} (${fused}), ` +
      `MLP ${layout.blocks[0].fc1.outChannels}, ${layout.tokens} tokens, ${layout.pool.kind === 'cls' ? 'class-token' : 'mean-token'} head${junctions}`,
  };
}

const reference = (name: string, spec: VitSpec): ReferenceModel => ({
  name,
  input: { name: 'input', shape: ['batch', spec.inChannels ?? 1, spec.imageSize ?? 16, spec.imageSize ?? 16] },
  build: ({ seed, classes }) => buildVit({ ...spec, seed, classes: classes ?? spec.classes }),
});

/**
 * Vision Transformers (pre-norm blocks, multi-head self-attention with separate or fused Q/K/V,
 * GELU MLP, class-token or mean-token head), with head-aware attention spaces: Q and K share
 * one transform per head, V and the output projection another, and heads move as whole blocks.
 */
export const vitArch = defineArchitecture<VitLayout>({
  name: 'vit',
  family: 'ViT',
  description: 'Vision Transformer (pre-norm blocks, multi-head attention with separate or fused Q/K/V, GELU MLP)',
  read: readVitLayout,
  summarise: (_graph, layout) => summarise(layout),
  declare: declareVitMergeGraph,
  prepare: prepareVit,
  refitLayers: vitRefitPlan,
  declinedHint: 'the attention spaces of a ViT cannot be derived automatically',
  references: [
    reference('vit-d2-h2', { depth: 2, heads: 2, dim: 16 }),
    reference('vit-d2-h4-fused', { depth: 2, heads: 4, dim: 16, qkv: 'fused' }),
    reference('vit-d4-h2-mean', { depth: 4, heads: 2, dim: 16, pool: 'mean' }),
    reference('vit-d4-h4', { depth: 4, heads: 4, dim: 16 }),
  ],
});

/** Registers {@link vitArch} (idempotent). */
export function registerVit(registry: ArchitectureRegistry): void {
  registry.ensure(vitArch);
}
