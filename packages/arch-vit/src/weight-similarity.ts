import { InvalidArgumentError, UnsupportedError, type Graph, type MatchResult, type Tensor } from '@zipit/core';
import { readVitLayout, type Linear } from './layout.js';

/**
 * Weight-space similarity of a block's MLP hidden units across and within models, in the spirit
 * of MuDSC (Xu et al., CVPR 2024: merge by the similarity of features *and* of their weights).
 * Hidden unit i of model k is described by its incoming weights expressed in the merged stream
 * basis, W₁ₖ[i, :]·Uₖ (the fc1 row the merged model will hold), and its outgoing weights in that
 * basis, N·Mₖ·W₂ₖ[:, i] — so units of different models are compared after the stream alignment
 * `stream` (the result for the stream, matched first). The similarity of two units is the mean
 * of the cosines of their incoming and of their outgoing vectors. Returns [N·H, N·H]
 * (model-major), ones on the diagonal.
 */
export function mlpWeightSimilarity(graphs: readonly Graph[], block: number, stream: MatchResult): Float64Array {
  const n = graphs.length;
  const c = stream.channels;
  if (stream.numModels !== n) throw new InvalidArgumentError(`a stream matching of ${stream.numModels} models for ${n} graphs`);
  const incoming: Float64Array[] = [];
  const outgoing: Float64Array[] = [];
  let h = -1;
  for (const [k, graph] of graphs.entries()) {
    const r = readVitLayout(graph);
    if (!r.ok) throw new UnsupportedError(`not a ViT: ${r.reason}`);
    const b = r.layout.blocks[block];
    if (!b) throw new InvalidArgumentError(`the ViT has ${r.layout.blocks.length} blocks, not ${block + 1}`);
    const w1 = weightAt(graph, b.fc1);
    const w2 = weightAt(graph, b.fc2);
    if (b.fc1.inChannels !== c || b.fc2.outChannels !== c)
      throw new InvalidArgumentError(`block ${block}'s MLP does not read and write the ${c}-channel stream`);
    h = b.fc1.outChannels;
    const inK = new Float64Array(h * c);
    const outK = new Float64Array(h * c);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < c; j++) {
        let a = 0;
        let o = 0;
        for (let s = 0; s < c; s++) {
          a += w1(i, s) * stream.unmerge[(k * c + s) * c + j];
          o += n * stream.merge[j * n * c + k * c + s] * w2(s, i);
        }
        inK[i * c + j] = a;
        outK[i * c + j] = o;
      }
    }
    incoming.push(normalisedRows(inK, h, c));
    outgoing.push(normalisedRows(outK, h, c));
  }
  const size = n * h;
  const sim = new Float64Array(size * size);
  for (let x = 0; x < size; x++) {
    const [kx, ix] = [Math.floor(x / h), x % h];
    for (let y = x; y < size; y++) {
      const [ky, iy] = [Math.floor(y / h), y % h];
      let s = 0;
      for (let j = 0; j < c; j++) {
        s += incoming[kx][ix * c + j] * incoming[ky][iy * c + j] + outgoing[kx][ix * c + j] * outgoing[ky][iy * c + j];
      }
      sim[x * size + y] = sim[y * size + x] = x === y ? 1 : s / 2;
    }
  }
  return sim;
}

/**
 * The similarity matrix a per-point matcher reads in place of a covariance: (1 − λ)·corr + λ·weights,
 * unit diagonal (so the matcher's correlation of it is itself). `covariance` [N·C, N·C].
 */
export function blendSimilarity(covariance: Float32Array | Float64Array, weights: Float64Array, lambda: number): Float64Array {
  const size = Math.round(Math.sqrt(covariance.length));
  if (weights.length !== covariance.length)
    throw new InvalidArgumentError(`similarities of ${weights.length} entries for a covariance of ${covariance.length}`);
  const sd = Float64Array.from({ length: size }, (_, i) => Math.sqrt(Math.max(covariance[i * size + i], 1e-14)));
  const out = new Float64Array(covariance.length);
  for (let x = 0; x < size; x++) {
    for (let y = 0; y < size; y++) {
      const corr = x === y ? 1 : covariance[x * size + y] / (sd[x] * sd[y]);
      out[x * size + y] = x === y ? 1 : (1 - lambda) * corr + lambda * weights[x * size + y];
    }
  }
  return out;
}

/** Reads W[out, in] of a 2-D layer weight, whatever its axis order. */
function weightAt(graph: Graph, l: Linear): (out: number, inp: number) => number {
  const t: Tensor | undefined = graph.initializers.get(l.weight);
  if (!t || t.shape.length !== 2) throw new UnsupportedError(`the weight ${l.weight} of ${l.node.name} is not a 2-D initializer`);
  const d = t.data as Float32Array;
  const cols = t.shape[1];
  return l.inAxis === 0 ? (o, i) => d[i * cols + o] : (o, i) => d[o * cols + i];
}

function normalisedRows(m: Float64Array, rows: number, cols: number): Float64Array {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += m[r * cols + j] ** 2;
    const f = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < cols; j++) m[r * cols + j] *= f;
  }
  return m;
}
