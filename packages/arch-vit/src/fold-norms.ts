import { tensor, UnsupportedError, type Graph, type Tensor } from '@zipit/core';
import { readVitLayout, type Linear, type Norm } from './layout.js';

/**
 * Folds every LayerNorm's gain γ and bias β into the layers that read it — Q/K/V projections
 * (or the fused one), the MLP input layer, the head: W' = W·diag(γ), b' = b + W·β — and sets
 * γ = 1, β = 0. The function is unchanged (up to float rounding).
 *
 * Why: a gain-free LayerNorm commutes with every orthogonal map R that fixes the all-ones vector
 * (LN(Rx) = R·LN(x): R keeps the channel mean and the norm of the centred vector), but a gain
 * does not (γ ⊙ Rx ≠ R(γ ⊙ x)). With the gains in the readers, the whole residual stream of a
 * model can be rotated exactly (the orthogonal matcher with fixMean), and a merge of the stream
 * folds LayerNorm's per-channel scale into per-model weights instead of averaging it. Under
 * permutations both forms are equivalent; the folded γ = 1 and β = 0 stay stream producers of
 * the merge graph (R·1 = 1 keeps them so).
 *
 * Idempotent on graphs whose norms already have γ = 1 and β = 0. Refuses a reader without a bias
 * when β ≠ 0 (nowhere to put W·β).
 */
export function foldNormAffine(graph: Graph): Graph {
  const r = readVitLayout(graph);
  if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
  const layout = r.layout;
  const initializers = new Map(graph.initializers);
  const pairs: [Norm, Linear[]][] = [
    ...layout.blocks.flatMap((b): [Norm, Linear[]][] => [
      [b.norm1, unique([b.attn.q.linear, b.attn.k.linear, b.attn.v.linear])],
      [b.norm2, [b.fc1]],
    ]),
    [layout.norm, [layout.head]],
  ];
  for (const [norm, readers] of pairs) {
    const gamma = norm.scale ? floats(initializers.get(norm.scale)!) : undefined;
    const beta = norm.bias ? floats(initializers.get(norm.bias)!) : undefined;
    if (!gamma && !beta) continue;
    for (const l of readers) {
      const w = initializers.get(l.weight)!;
      if (w.shape.length !== 2)
        throw new UnsupportedError(`cannot fold ${norm.module} into ${l.node.name}: its weight ${l.weight} has rank ${w.shape.length}, not 2`);
      const wd = floats(w);
      const [rows, cols] = w.shape;
      const at = (o: number, i: number) => (l.inAxis === 0 ? i * cols + o : o * cols + i);
      if (beta && beta.some((x) => x !== 0)) {
        if (!l.bias) {
          throw new UnsupportedError(`cannot fold the bias of ${norm.module} into ${l.node.name}: the layer has no bias`, {
            hint: 'export the model with bias=True on the layers that read LayerNorms',
          });
        }
        const b = Float32Array.from(floats(initializers.get(l.bias)!));
        for (let o = 0; o < l.outChannels; o++) {
          let s = 0;
          for (let i = 0; i < l.inChannels; i++) s += wd[at(o, i)] * beta[i];
          b[o] += s;
        }
        initializers.set(l.bias, tensor('float32', initializers.get(l.bias)!.shape, b));
      }
      if (gamma) {
        const scaled = Float32Array.from(wd);
        for (let o = 0; o < l.outChannels; o++) for (let i = 0; i < l.inChannels; i++) scaled[at(o, i)] *= gamma[i];
        initializers.set(l.weight, tensor('float32', [rows, cols], scaled));
      }
    }
    if (norm.scale) initializers.set(norm.scale, tensor('float32', initializers.get(norm.scale)!.shape, new Float32Array(gamma!.length).fill(1)));
    if (norm.bias) initializers.set(norm.bias, tensor('float32', initializers.get(norm.bias)!.shape, new Float32Array(beta!.length)));
  }
  return { ...graph, initializers };
}

function unique(ls: Linear[]): Linear[] {
  return ls.filter((l, i) => ls.findIndex((m) => m.node === l.node) === i);
}

function floats(t: Tensor): Float32Array | Float64Array {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new UnsupportedError(`expected a float tensor, got ${t.dtype}`);
  return t.data as Float32Array | Float64Array;
}
