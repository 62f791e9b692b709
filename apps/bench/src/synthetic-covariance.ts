import { SeededRandom } from '@zipit/core';

/**
 * Synthetic covariance of two or more models whose features are noisy, permuted copies of
 * shared latent factors — the structure ZipIt sees on real networks — built as L Lᵀ + D with a
 * low-rank L so that generating n = 4096 features takes about a second.
 */
export function syntheticCovariance(perModel: number, numModels: number, seed = 1, rank = 64): Float32Array {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const n = perModel * numModels;
  const base = new Float64Array(perModel * rank);
  for (let i = 0; i < base.length; i++) base[i] = rnd() < 0.25 ? gauss() : 0;
  const L = new Float64Array(n * rank);
  for (let k = 0; k < numModels; k++) {
    const perm = Array.from({ length: perModel }, (_, i) => i);
    for (let i = perModel - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let i = 0; i < perModel; i++) {
      const src = (k === 0 ? i : perm[i]) * rank;
      const dst = (k * perModel + i) * rank;
      for (let r = 0; r < rank; r++) L[dst + r] = base[src + r] + 0.5 * gauss() * (rnd() < 0.3 ? 1 : 0);
    }
  }
  const cov = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * rank;
    for (let j = i; j < n; j++) {
      const lj = j * rank;
      let s = 0;
      for (let r = 0; r < rank; r++) s += L[li + r] * L[lj + r];
      if (i === j) s += 0.1 + rnd() * 0.1;
      cov[i * n + j] = s;
      cov[j * n + i] = s;
    }
  }
  return cov;
}

/** Seeded uniform numbers in [0, 1) (core's generator). */
export function mulberry32(seed: number): () => number {
  const r = new SeededRandom(seed);
  return () => r.next();
}
