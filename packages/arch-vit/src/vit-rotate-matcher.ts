import { defaultMatcherRegistry, getPointMatcher, UnsupportedError, type Graph, type GraphMatcher } from '@zipit/core';
import { readVitLayout } from './layout.js';
import { matchVit } from './vit-match.js';

/**
 * `vit-rotate`: the ViT matching that did best on ViTs trained apart (README, "ViTs trained
 * apart"): the residual stream rotated onto model 0 by orthogonal Procrustes (R·1 = 1, segments
 * matched once from their summed covariances), the per-head Q·Kᵀ and V spaces rotated too (or
 * ZipIt! within aligned heads with `heads = 0`, or, with `heads = 2`, ZipIt! over whole heads
 * within and across models, members rotated onto each other: `zipHeads`), the MLP hidden units (read by GELU) matched by
 * ZipIt! (α, β). The rotations are exact for models whose LayerNorm gains are folded
 * (`foldNormAffine`); on unfolded models the stream rotation is approximate under LayerNorm's
 * gain (measured: the same accuracy, ±0.2 points). Refuses graphs that are not ViTs.
 */
export const vitRotateMatcher: GraphMatcher = {
  kind: 'graph',
  name: 'vit-rotate',
  description: 'ViTs: orthogonal alignment of the residual stream and heads, ZipIt! on the MLP hidden units',
  defaults: { heads: 1, alpha: 0.5, beta: 1 },
  parameters: {
    heads: {
      description:
        '1: rotate the per-head Q·Kᵀ and V spaces; 0: ZipIt! within aligned heads; 2: ZipIt! over whole heads (within and across models), members rotated onto each other',
      min: 0,
      max: 2,
      integer: true,
    },
    alpha: { description: "ZipIt!'s α for the MLP hidden units (and the heads with heads = 0 or 2)" },
    beta: { description: "ZipIt!'s β for the MLP hidden units (and the heads with heads = 0 or 2)", min: 0 },
  },
  matchGraph(input) {
    // The pipeline hands over the models' full graphs (GraphBody is what the interface promises).
    const r = readVitLayout(input.graphs[0] as Graph);
    if (!r.ok) throw new UnsupportedError(`matcher "vit-rotate" merges Vision Transformers only: ${r.reason}`, { hint: 'use zipit or permute for this model' });
    const registry = defaultMatcherRegistry();
    const zipit = { matcher: getPointMatcher(registry, 'zipit'), params: { alpha: input.params.alpha ?? 0.5, beta: input.params.beta ?? 1 } };
    const orthogonal = { matcher: getPointMatcher(registry, 'orthogonal') };
    const heads = input.params.heads ?? 1;
    return matchVit(input.mergeGraph, input.covariance, input.numModels, {
      stream: orthogonal,
      attention: heads !== 0 ? orthogonal : zipit,
      ...(heads === 2 ? { headZip: zipit } : {}),
      mlp: zipit,
      alignBlocks: input.alignBlocks,
      upTo: input.upTo,
    });
  },
};
