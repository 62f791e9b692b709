import type { SeededRandom } from '../graph/builder.js';
import type { Graph } from '../graph/graph.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { MergeGraph } from './merge-graph.js';

/**
 * Hidden-unit permutations for the "a permuted copy is recovered" invariant: one random
 * permutation per merge point. For a point with blocks (attention heads) the permutation keeps
 * blocks whole — a random order of blocks, then a random order inside each block — and points
 * of one `blocks.group` share the order of blocks (a head moves with its Q, K and V features);
 * points that share a transform (`shareTransform`) get one permutation.
 * `perm[c]` is the original channel that channel c of the permuted model holds.
 */
export function randomPointPermutations(mg: MergeGraph, rng: SeededRandom): Int32Array[] {
  const blockOrders = new Map<string, Int32Array>();
  const shared = new Map<string, Int32Array>();
  return mg.points.map((p) => {
    if (p.shareTransform !== undefined) {
      let perm = shared.get(p.shareTransform);
      if (!perm) shared.set(p.shareTransform, (perm = shuffled(p.channels, rng)));
      return perm;
    }
    const b = p.blocks;
    if (!b || b.count <= 1) return shuffled(p.channels, rng);
    const key = b.group ?? `#${p.index}`;
    let order = blockOrders.get(key);
    if (!order) blockOrders.set(key, (order = shuffled(b.count, rng)));
    const perm = new Int32Array(p.channels);
    for (let j = 0; j < b.count; j++) {
      const inner = shuffled(b.size, rng);
      for (let i = 0; i < b.size; i++) perm[j * b.size + i] = order[j] * b.size + inner[i];
    }
    return perm;
  });
}

/**
 * The same function with the channels of every point permuted: along each producer and
 * consumer axis (from its offset), entry c becomes the original entry `perms[point][c]`.
 */
export function permuteModel(graph: Graph, mg: MergeGraph, perms: readonly Int32Array[]): Graph {
  const inits = new Map(graph.initializers);
  mg.points.forEach((p, i) => {
    const perm = perms[i];
    for (const r of [...p.producers, ...p.consumers]) {
      const t = inits.get(r.param)!;
      inits.set(r.param, permuteAxis(t, r.axis, r.offset ?? 0, r.repeat ?? 1, perm));
    }
  });
  return { ...graph, initializers: inits };
}

/** Entry offset + c·repeat + s along `axis` takes entry offset + perm[c]·repeat + s (s < repeat: a flattened channel's copies). */
function permuteAxis(t: Tensor, axis: number, offset: number, repeat: number, perm: Int32Array): Tensor {
  const src = t.data as Float32Array | Float64Array;
  const out = src.slice();
  const dim = t.shape[axis];
  const inner = t.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = src.length / (dim * inner);
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < perm.length; c++) {
      const to = (o * dim + offset + c * repeat) * inner;
      const from = (o * dim + offset + perm[c] * repeat) * inner;
      for (let q = 0; q < inner * repeat; q++) out[to + q] = src[from + q];
    }
  }
  return tensor(t.dtype as 'float32', t.shape, out as Float32Array);
}

function shuffled(n: number, rng: SeededRandom): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
