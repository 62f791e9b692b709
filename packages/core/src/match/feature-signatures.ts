import type { GraphBody } from '../graph/graph.js';
import type { MergePoint, ParamRef } from '../merge/merge-graph.js';

/**
 * What each stacked feature of a merge point is, as far as the weights tell: per parameter slice
 * that writes or reads the feature (`MergePoint.producers` and `consumers`), the sum and the sum
 * of squares of its entries, in float64. Both are invariant to permutations of every other axis
 * (the neighbouring points' channels), so a feature and its twin in a copy with permuted hidden
 * units have equal signatures (to float64 rounding), while two different features of seeded or
 * trained weights never do.
 *
 * Why: features that are identical on every merge sample — a dead channel, zero wherever the
 * statistics look — cannot be told apart by any statistic of that site, yet can differ elsewhere.
 * A residual stream is observed at the end of its stage (`MergePoint.observe`), after the last
 * ReLU; a channel zero there may be non-zero at the stage's earlier blocks, and pairing it with
 * the wrong twin is not exact there (ResNet-18 at 32 px: 12 of 32 channels of layer4's stream).
 * zipit-ties.ts pairs such constants by signature instead of by index.
 */
export interface FeatureSignatures {
  /** Numbers per feature. */
  width: number;
  /** [n, width] row-major, n = N·C stacked features (model-major). */
  values: Float64Array;
}

/**
 * The signatures of a point's N·C stacked features: for model k, its parameters read from
 * `graphs[k]` (same names in every model: one architecture). A parameter that is missing or not
 * float32/float64 contributes zeros (no information, every feature alike).
 */
export function pointSignatures(graphs: readonly GraphBody[], point: MergePoint): FeatureSignatures {
  const refs = [...point.producers, ...point.consumers];
  const c = point.channels;
  const width = 2 * refs.length;
  const values = new Float64Array(graphs.length * c * width);
  graphs.forEach((g, k) => {
    refs.forEach((r, q) => sliceMoments(g, r, c, values, k * c, width, 2 * q));
  });
  return { width, values };
}

/** Writes Σw and Σw² of channel ch's slice of `r` to values[(first + ch)·width + at …]. */
function sliceMoments(g: GraphBody, r: ParamRef, channels: number, values: Float64Array, first: number, width: number, at: number): void {
  const t = g.initializers.get(r.param);
  if (!t || (t.dtype !== 'float32' && t.dtype !== 'float64') || r.axis >= t.shape.length) return;
  const data = t.data as Float32Array | Float64Array;
  const dim = t.shape[r.axis];
  const inner = t.shape.slice(r.axis + 1).reduce((a, b) => a * b, 1);
  const outer = dim === 0 ? 0 : data.length / (dim * inner);
  const offset = r.offset ?? 0;
  const repeat = r.repeat ?? 1;
  if (offset + channels * repeat > dim) return;
  for (let ch = 0; ch < channels; ch++) {
    let sum = 0;
    let squares = 0;
    for (let o = 0; o < outer; o++) {
      const from = (o * dim + offset + ch * repeat) * inner;
      for (let e = from, end = from + repeat * inner; e < end; e++) {
        const w = data[e];
        sum += w;
        squares += w * w;
      }
    }
    const row = (first + ch) * width + at;
    values[row] = sum;
    values[row + 1] = squares;
  }
}

/**
 * Distance of features i and j by signature: Σ over entries of (a − b)² / (a² + b²) (0 where
 * both are 0), so every entry weighs alike whatever its scale. 0 for twins (up to rounding).
 */
export function signatureDistance(s: FeatureSignatures, i: number, j: number): number {
  const w = s.width;
  let d = 0;
  for (let q = 0; q < w; q++) {
    const a = s.values[i * w + q];
    const b = s.values[j * w + q];
    const den = a * a + b * b;
    if (den > 0) d += ((a - b) * (a - b)) / den;
  }
  return d;
}
