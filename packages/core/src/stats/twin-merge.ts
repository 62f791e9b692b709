/**
 * Whether a merge of one point averages only exact twins: every merged channel's members (the
 * non-zero entries of its row of `merge`, [channels, n]) are features equal on the data — the
 * same mean and variance and correlation 1, up to float32 rounding (`tolerance`, relative) —
 * and every source feature belongs to some merged channel. A zip whose every point is such a
 * merge (a model merged with itself or with a permuted copy of itself) computes what its inputs
 * compute: there is nothing for a BatchNorm reset to correct.
 *
 * `covariance(i, j)` is an entry of the point's population covariance and `means` its [n] means
 * over all models' features (FeatureStats of the point: `covarianceAt`, `mean`); only the
 * diagonal and the pairs within a merged channel are read, and the first row that is not a
 * twin merge ends the check — a real merge is told apart at once, without an [n, n] matrix.
 */
export function mergesOnlyTwins(
  merge: ArrayLike<number>,
  channels: number,
  covariance: (i: number, j: number) => number,
  means: ArrayLike<number>,
  tolerance = 1e-4,
): boolean {
  const n = means.length;
  if (merge.length !== channels * n) return false;
  const covered = new Uint8Array(n);
  for (let j = 0; j < channels; j++) {
    const members: number[] = [];
    for (let k = 0; k < n; k++) if (merge[j * n + k] !== 0) members.push(k);
    for (const k of members) covered[k] = 1;
    const a = members[0];
    if (a === undefined) continue;
    const va = Math.max(covariance(a, a), 0);
    for (const b of members.slice(1)) {
      const vb = Math.max(covariance(b, b), 0);
      const scale = Math.sqrt(Math.max(va, vb)) + Math.abs(means[a]) + Math.abs(means[b]);
      if (Math.abs(means[a] - means[b]) > tolerance * scale) return false;
      if (Math.abs(va - vb) > tolerance * Math.max(va, vb, Number.MIN_VALUE)) return false;
      // Correlation 1: var(a − b) = va + vb − 2 cov(a, b) ≈ 0 against the variances.
      const spread = va + vb - 2 * covariance(a, b);
      if (spread > 2 * tolerance * Math.max(va, vb) + tolerance * tolerance * scale * scale) return false;
    }
  }
  return covered.every((c) => c === 1);
}
