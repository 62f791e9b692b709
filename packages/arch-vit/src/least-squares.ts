import { UnsupportedError, type Graph, type RefitLayer, type RefitPlan } from '@zipit/core';
import { readVitLayout, type Linear, type VitLayout } from './layout.js';

/**
 * What a least-squares refit of a zipped ViT walks (after PLeaS, Nasery et al., CVPR 2024).
 * Averaging aligned weights is only right where the models' inputs agree; in a merged network
 * they drift apart more with every block. Refitted in graph order, each zipped layer gets the
 * weights that best map the merged model's *actual* input to that layer onto the average of the
 * models' outputs at that layer expressed in the merged basis, with a ridge pull towards the
 * zipped weights. The normal equations and weight I/O are core's (`LinearFit`, `readLinear`,
 * `writeLinear`, re-exported here); the pass over data is @zipit/pipeline's `refitLayers`.
 */
export { LinearFit, readLinear, writeLinear } from '@zipit/core';

/** The layers a refit walks, in graph order: per block its junction, Q/K/V (a fused one once), output projection, fc1, fc2. */
export function vitFitLayers(graph: Graph, opts: { junctions?: boolean } = {}): Linear[] {
  const r = readVitLayout(graph);
  if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
  return fitLayers(r.layout, opts);
}

function fitLayers(layout: VitLayout, opts: { junctions?: boolean }): Linear[] {
  return layout.blocks.flatMap((b) => {
    const qkv = [b.attn.q.linear, b.attn.k.linear, b.attn.v.linear].filter((l, i, ls) => ls.findIndex((m) => m.node === l.node) === i);
    return [...(opts.junctions && b.junction ? [b.junction] : []), ...qkv, b.attn.out, b.fc1, b.fc2];
  });
}

/** A layout's linear layer as core's `RefitLayer`. */
function refitLayer(l: Linear): RefitLayer {
  return {
    node: l.node.name,
    input: l.node.inputs[0],
    output: l.output,
    weight: l.weight,
    ...(l.bias ? { bias: l.bias } : {}),
    inAxis: l.inAxis,
    inChannels: l.inChannels,
    outChannels: l.outChannels,
  };
}

/**
 * vitArch's `refitLayers`: the biased layers of {@link vitFitLayers} (Q/K/V, output projection,
 * fc1, fc2 per block; zipped junctions are identities a refit would only disturb), the stream
 * junctions as unmerges (after a partial stop, the first one of each model holds its Uₖ) and the head.
 */
export function vitRefitPlan(_graph: Graph, layout: VitLayout): RefitPlan {
  return {
    layers: fitLayers(layout, {})
      .filter((l) => l.bias)
      .map(refitLayer),
    unmerge: layout.blocks.flatMap((b) => (b.junction ? [refitLayer(b.junction)] : [])),
    ...(layout.head.bias ? { head: refitLayer(layout.head) } : {}),
  };
}
