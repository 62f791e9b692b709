/** Largest |a[i] − b[i]|; arrays of different lengths are an error. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Merge rows rescaled to sum to exactly 1 when they are averages (non-negative entries summing
 * to 1 within 10⁻⁴); other rows (dense matchers) are kept. Matchers follow the reference and
 * divide by (members + 1e-5), which scales every zipped layer by 1 − 5·10⁻⁶ for a pair; through
 * the 20–50 layers of a ResNet that compounds to ~10⁻⁴ of the logits by itself (BatchNorm
 * re-estimation removes it in a real merge), which would hide what the invariants check.
 */
export function exactAverages(merge: Float32Array, channels: number): Float32Array {
  const width = merge.length / channels;
  const out = Float32Array.from(merge);
  for (let g = 0; g < channels; g++) {
    let sum = 0;
    let negative = false;
    for (let r = 0; r < width; r++) {
      sum += merge[g * width + r];
      if (merge[g * width + r] < 0) negative = true;
    }
    if (negative || Math.abs(sum - 1) > 1e-4) continue;
    for (let r = 0; r < width; r++) out[g * width + r] = merge[g * width + r] / sum;
  }
  return out;
}

/**
 * For each merged feature, the channel of model k it takes, when the unmerge [N·C, C] is a
 * one-to-one matching (every merged feature has exactly one channel of each model); else null.
 */
export function pairing(unmerge: ArrayLike<number>, channels: number, k: number): Int32Array | null {
  const of = new Int32Array(channels).fill(-1);
  for (let i = 0; i < channels; i++) {
    for (let f = 0; f < channels; f++) {
      const u = unmerge[(k * channels + i) * channels + f];
      if (u === 0) continue;
      if (u !== 1 || of[f] !== -1) return null;
      of[f] = i;
    }
  }
  return of.every((i) => i >= 0) ? of : null;
}
