/**
 * Twins across models that the covariance alone misses: features that agree on every merge
 * sample to float32 noise, found from their raw (uncentred) second moments.
 *
 * Late, low-resolution layers of a deep network on few images (MobileNetV2 and EfficientNet-B0
 * at 32 px, 8 images) carry features that are constant up to float32 noise: σ/|μ| ~ 2⁻²²…2⁻⁸,
 * where the "variation" is the runtime's rounding, different for a channel and its permuted twin
 * (they sit at different positions of the same sums). Their correlation with the twin is noise
 * (0.3…0.99), so the centred distance δ of zipit-ties.ts misses the twin, and their means differ
 * by more than a few ulps (the rounding accumulates over the layers: up to 2⁻⁹ relative for a
 * mean near 0), so pairing constants by equal mean misses them too. What does survive the noise
 * is the raw distance
 *
 *   D̂ᵢⱼ = E[(xᵢ − xⱼ)²] / (E[xᵢ²] + E[xⱼ²])   (float64, from cov + μμᵀ)
 *
 * — 0 for identical features, 1 for orthogonal ones, 2 for opposite ones. Measured on every
 * point of the torchvision zoo (test/zoo) with a permuted copy, over the twins that δ misses: a
 * twin's D̂ is at most 2⁻¹⁸·⁸; it is always the nearest feature of the other model, and every
 * other one is at least 2⁵·⁷ times farther (2¹⁶ times, except for near-duplicate features of one
 * model: constants whose means differ by ~2⁻¹⁸). So (i, j), i of model a and j of model b, are
 * *near twins* when
 *
 * - j is i's nearest feature of model b and i is j's nearest feature of model a (mutual),
 * - D̂ᵢⱼ ≤ 2⁻¹⁶ (they agree to 2⁻⁸ of their RMS on every sample), and
 * - D̂ᵢⱼ < ¼ of the second-nearest distance on both sides (unique: no other feature of the
 *   other model comes as close; exact duplicates never are).
 *
 * Two independently trained models have no such pairs but by coincidence of features that are
 * (near) constant at equal values — and merging those loses nothing the data can show either.
 * Zero features (E[x²] = 0, dead ReLUs) have no near twin: every zero feature is equally near;
 * zipit-ties.ts pairs constants.
 */

/** D̂ below which a mutual nearest pair may be near twins (agreement to 2⁻⁸ RMS). */
export const NEAR_TWIN_DISTANCE = 2 ** -16;

/** A near twin's D̂ is below this share of the second-nearest feature's, on both sides. */
export const NEAR_TWIN_MARGIN = 2 ** -2;

/** Near twins of every feature in every other model. */
export interface NearTwins {
  /** [n]: each feature's raw second moment E[x²] (for {@link rawDistance}). */
  raw: Float64Array;
  /** [n · N]: the near twin of feature i in model m at i·N + m, or −1. */
  twin: Int32Array;
  /** [n · N]: D̂ of feature i with that twin (NaN where there is none). */
  distance: Float64Array;
}

/**
 * Near twins (see the file comment) of n stacked features of N models, from their covariance
 * [n, n] (row-major) and means [n]; `origin[i]` is feature i's model. O(n²) time, O(n·N) memory.
 */
export function nearTwins(cov: ArrayLike<number>, means: ArrayLike<number>, origin: Int32Array, numModels: number): NearTwins {
  const n = origin.length;
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) raw[i] = Math.max(0, cov[i * n + i] + means[i] * means[i]);
  const slots = n * numModels;
  const best = new Int32Array(slots).fill(-1);
  const bestD = new Float64Array(slots).fill(Infinity);
  const secondD = new Float64Array(slots).fill(Infinity);
  const offer = (slot: number, j: number, d: number) => {
    if (d < bestD[slot]) {
      secondD[slot] = bestD[slot];
      bestD[slot] = d;
      best[slot] = j;
    } else if (d < secondD[slot]) secondD[slot] = d;
  };
  for (let i = 0; i < n; i++) {
    if (raw[i] === 0) continue;
    const oi = origin[i];
    for (let j = i + 1; j < n; j++) {
      const oj = origin[j];
      if (oj === oi || raw[j] === 0) continue;
      const d = rawDistance(cov, means, raw, i, j);
      offer(i * numModels + oj, j, d);
      offer(j * numModels + oi, i, d);
    }
  }
  const twin = new Int32Array(slots).fill(-1);
  const distance = new Float64Array(slots).fill(Number.NaN);
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < numModels; m++) {
      const slot = i * numModels + m;
      const j = best[slot];
      if (j < 0) continue;
      const back = j * numModels + origin[i];
      const d = bestD[slot];
      if (best[back] !== i || !(d <= NEAR_TWIN_DISTANCE) || !(d < NEAR_TWIN_MARGIN * secondD[slot]) || !(d < NEAR_TWIN_MARGIN * secondD[back])) continue;
      twin[slot] = j;
      distance[slot] = d;
    }
  }
  return { raw, twin, distance };
}

/**
 * D̂ᵢⱼ = E[(xᵢ − xⱼ)²] / (E[xᵢ²] + E[xⱼ²]) in float64 from the covariance [n, n], the means and
 * the raw second moments `raw` (E[x²] = cov + μ²); 0 when both features are zero.
 */
export function rawDistance(cov: ArrayLike<number>, means: ArrayLike<number>, raw: Float64Array, i: number, j: number): number {
  const s = raw[i] + raw[j];
  if (s === 0) return 0;
  return Math.max(0, s - 2 * (cov[i * raw.length + j] + means[i] * means[j])) / s;
}
