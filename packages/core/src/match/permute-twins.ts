import type { TwinTies } from './zipit-ties.js';

/**
 * Exact twins between model 0 and model k, paired before the permutation matcher's linear sum
 * assignment sees them, so that a self-merge or a copy with permuted hidden units is recovered
 * exactly at every depth. The assignment alone maximises Σ corr in float32 and cannot: on late,
 * low-resolution layers (few samples per feature) its optimum is tied —
 *
 * - a dead feature (zero on every merge sample) has correlation 0 with everything, its twin
 *   included, so the dead features of both models may be assigned to each other in any order,
 *   or to live features whose correlations are 0 too;
 * - two features of one model active on the same single sample are perfectly correlated (1.0 in
 *   float32, while a twin may round one ulp below), so swapping their partners costs nothing
 *   the float32 sum can see, though their scales differ and the average is not exact.
 *
 * Twins are the pairs that zipit-ties.ts makes exact for ZipIt (`TwinTies.twin`): features of
 * different models whose normalised distance δ = (σᵢ² + σⱼ² − 2 covᵢⱼ)/(σᵢ² + σⱼ²), in float64,
 * is ≤ 2⁻²¹ (and, with means, whose raw distance D̂ is too); near twins (near-twins.ts: equal to
 * float32 noise, unique); and the k-th zero-variance feature of each model — among those of equal
 * mean when the means are known, ranked by weight signature when given (exact on the data, where
 * they are constant; without means, only if the constants are equal).
 * Merging a twin pair loses nothing the data can show, so every twin pair is fixed first:
 * greedily by `TwinTies.distance`, then smaller row, then smaller column (deterministic; on the
 * equivalence classes of identical features that twins form, the greedy matching is maximum).
 * Models without twins — any two independently trained ones — get exactly the reference's
 * assignment (golden parity).
 *
 * Returns, per feature r of model 0, the column of model k paired with it (−1: left to the
 * assignment).
 */
export function pairTwins(ties: TwinTies, c: number, k: number): Int32Array {
  const rows: number[] = [];
  const cols: number[] = [];
  const dist: number[] = [];
  for (let r = 0; r < c; r++) {
    for (let j = 0; j < c; j++) {
      if (!ties.twin(r, k * c + j)) continue;
      rows.push(r);
      cols.push(j);
      dist.push(ties.distance(r, k * c + j));
    }
  }
  const order = Array.from(dist.keys()).sort((a, b) => dist[a] - dist[b] || rows[a] - rows[b] || cols[a] - cols[b]);
  const colForRow = new Int32Array(c).fill(-1);
  const taken = new Uint8Array(c);
  for (const p of order) {
    const r = rows[p];
    const j = cols[p];
    if (colForRow[r] >= 0 || taken[j]) continue;
    colForRow[r] = j;
    taken[j] = 1;
  }
  return colForRow;
}
