import { ShapeError } from '../errors.js';
import { CORRELATION_EPS, correlationRow32 } from '../stats/correlation.js';
import type { FeatureSignatures } from './feature-signatures.js';
import type { MatchContext } from './matcher.js';
import { type NearTwins, nearTwins, rawDistance } from './near-twins.js';

/**
 * Where ZipIt's similarity departs from the reference implementation so that a model merged
 * with itself (or with a copy whose hidden units are permuted) is recovered exactly at every
 * depth. The reference computes correlations in float32 and takes the first maximum in
 * row-major order; on exact twins that loses in three ways, all measured on late,
 * low-resolution layers (few samples per feature):
 *
 * 1. **Dead features.** A feature that is zero on every merge sample (a dead ReLU) has σ = 0,
 *    so its correlation with its twin is 0/1e-7 = 0 — while merged features keep positive
 *    similarities to each other, so they merge together before the dead twins do. Twins whose
 *    σ is below the clamp (σσ < 1e-7) lose the same way.
 * 2. **Rounding.** f(cov)/f(σ·σ) puts a twin's correlation one or two float32 ulps below (or
 *    above) 1, while a within-model pair that is perfectly correlated on the few samples (two
 *    features active on the same single image) can land on 1.0 or above.
 * 3. **Ties.** Among equal values the first in row-major order wins, which is a within-model
 *    pair (its column comes before the twin's) or the wrong cross-model partner.
 *
 * The rules, which change nothing where the reference's values are not tied at 1 (golden
 * parity holds):
 *
 * - two features **of different models** that are identical on the merge data — their
 *   normalised distance δ = (σᵢ² + σⱼ² − 2 covᵢⱼ)/(σᵢ² + σⱼ²), in float64, is ≤ 2⁻²¹, or both have
 *   zero variance (see below) — have similarity exactly 1: merging them loses nothing the data
 *   can show;
 * - float32 correlations within 2⁻²¹ of 1, or above it, are 1: float32 cannot tell them from a
 *   perfect correlation;
 * - among similarities tied at 1, pairs across models come before pairs within one model, then
 *   pairs of unmerged features by smaller δ (the closer twin), then the reference's row-major
 *   order (pairs with a merged feature compare by that order only). Ties below 1 keep the
 *   reference's row-major order: a twin is at 1, and breaking ties among the many zeros of dead
 *   features would cost rescans for nothing.
 *
 * With three or more models and α < 1, a merged pair of twins is at α from the third twin, so a
 * within-model pair of that model tied near 1 (perfectly correlated on the samples) merges
 * first: self-merges of N ≥ 3 models are exact only without such pairs.
 *
 * Constant features (zero variance on every merge sample: a dead ReLU, or a dead channel through
 * a bias and ReLU6/SiLU, constant and non-zero) cannot be told apart by covariance: within one
 * model they keep the reference's similarity 0, and across models the k-th of each model pair
 * up — when the caller passes the means (`MatchContext`), the k-th of each model *among those
 * of equal mean* (|μᵢ − μⱼ| ≤ 2⁻²¹·max(|μᵢ|, |μⱼ|)), so that a permuted copy's constants meet
 * their twins; without means, the k-th of all of them (exact for a self-merge; for a permuted
 * copy only where the constants are equal). With means, a feature whose spread is within
 * float32 rounding of its mean (σ ≤ 2⁻²²·|μ|, a few ulps: the runtime's float32 sums of a
 * constant differ per channel position) is constant too — its covariance with its twin is
 * rounding noise, so δ cannot find the twin. Constants that the data shows equal may still
 * differ where the statistics do not look (a residual stream is observed at the end of its
 * stage: a channel zero there may be non-zero at an earlier block); when the caller passes
 * weight signatures (feature-signatures.ts), a constant whose signature equals that of a
 * constant of the lowest model in its class takes that one's rank, so twins pair by what the
 * weights compute — independently trained models have no equal signatures and keep index order.
 *
 * With the means, two more rules (near-twins.ts has the measurements):
 *
 * - **near twins** — features of different models that agree on every sample to 2⁻⁸ of their
 *   RMS (raw distance D̂ ≤ 2⁻¹⁶), each other's nearest and 4 times nearer than any other — are
 *   twins, and the only twins either has in the other's model. They catch features constant up
 *   to accumulated float32 noise (σ/|μ| ~ 2⁻²²…2⁻⁸: EfficientNet-B0 and MobileNetV2 late layers),
 *   whose correlation with their twin is noise and whose means differ by more than 2⁻²¹;
 * - a δ-twin must also have D̂ ≤ 2⁻²¹: δ ignores the means, so features differing by a constant
 *   — or near-constant features whose spread is the same float32 quantum — have δ = 0.
 */

/** Relative tolerance under which two constant features' means are equal (8 float32 ulps). */
export const MEAN_TOLERANCE = 2 ** -21;

/** With means, features with σ ≤ CONSTANT_SPREAD·|μ| (4 float32 ulps) count as constant. */
export const CONSTANT_SPREAD = 2 ** -22;

/** Similarities at or above this are 1 (8 float32 ulps below 1: the rounding of f(cov)/f(σσ)). */
export const NEAR_ONE = 1 - 2 ** -21;

/** (σᵢσⱼ)² below which the reference clamps the correlation's denominator. */
const CLAMP_SQUARED = CORRELATION_EPS * CORRELATION_EPS;

/** The tie-break data of one ZipIt matching: the covariance (for δ) and each feature's model. */
export class TwinTies {
  private readonly diag: Float64Array;
  /** 1 once a feature has absorbed another (its similarities are no longer correlations). */
  readonly merged: Uint8Array;
  private readonly numModels: number;
  private readonly means: ArrayLike<number> | undefined;
  /** With means: near twins across models (near-twins.ts); null without means. */
  private readonly near: NearTwins | null;

  /**
   * Per constant feature (below), its rank among its model's constants of the same class; −1
   * otherwise. The k-th of one model pairs with the k-th of another.
   */
  private readonly constantRank: Int32Array;
  /** Per constant feature, its class: equal means (0 for all when no means are given). */
  private readonly constantClass: Int32Array;

  constructor(
    private readonly cov: Float32Array | Float64Array,
    private readonly n: number,
    /** Model of each original feature (the merged feature keeps its lower member's). */
    readonly origin: Int32Array,
    /** Means [n] and signatures [n, width] (optional, see `MatchContext`): what tells constants apart. */
    context: MatchContext = {},
  ) {
    const means = context.means;
    this.means = means;
    if (means && means.length !== n) throw new ShapeError(`means have ${means.length} entries, expected one per feature (${n})`);
    // Read only where constants of two models share a class (a caller may compute them on demand).
    const signatures = (): FeatureSignatures | undefined => {
      const s = context.signatures;
      if (s && s.values.length !== n * s.width)
        throw new ShapeError(`signatures have ${s.values.length} entries, expected ${s.width} per feature (${n} features)`);
      return s;
    };
    this.diag = new Float64Array(n);
    for (let i = 0; i < n; i++) this.diag[i] = cov[i * n + i];
    this.merged = new Uint8Array(n);
    let models = 1;
    for (let i = 0; i < n; i++) models = Math.max(models, origin[i] + 1);
    this.numModels = models;
    this.near = means ? nearTwins(cov, means, origin, models) : null;
    this.constantRank = new Int32Array(n).fill(-1);
    this.constantClass = new Int32Array(n);
    // A feature with a near twin is paired by it, not by rank.
    const constants: number[] = [];
    for (let i = 0; i < n; i++) {
      if (this.hasNearTwin(i)) continue;
      if (!(this.diag[i] > 0) || (means && this.diag[i] <= (CONSTANT_SPREAD * means[i]) ** 2)) constants.push(i);
    }
    if (means) {
      // Sorted by mean, a new class starts where a mean leaves the tolerance of its class's first.
      const byMean = [...constants].sort((a, b) => means[a] - means[b] || a - b);
      let cls = -1;
      let first = Number.NaN;
      for (const i of byMean) {
        const m = means[i];
        if (cls < 0 || !(Math.abs(m - first) <= MEAN_TOLERANCE * Math.max(Math.abs(m), Math.abs(first)))) {
          cls++;
          first = m;
        }
        this.constantClass[i] = cls;
      }
    }
    rankConstants(constants, origin, this.constantClass, signatures, this.constantRank);
  }

  private hasNearTwin(i: number): boolean {
    if (!this.near) return false;
    for (let m = 0; m < this.numModels; m++) if (this.near.twin[i * this.numModels + m] >= 0) return true;
    return false;
  }

  /** Whether j is i's near twin (near-twins.ts). */
  private nearTwin(i: number, j: number): boolean {
    return this.near !== null && this.near.twin[i * this.numModels + this.origin[j]] === j;
  }

  /**
   * Whether features i and j of different models are twins: identical on the merge data as far
   * as it can show — near twins; constants of one class and rank; or varying features with
   * δ ≤ 2⁻²¹ and, where the means are known, D̂ ≤ 2⁻²¹ (δ ignores the means: features differing
   * by a constant have δ = 0, and so do near-constant features whose spread is the same float32
   * quantum, σ = 2⁻²⁸ in MobileNetV2's late layers).
   */
  twin(i: number, j: number): boolean {
    return this.distance(i, j) < 1;
  }

  /**
   * The order of pairs tied at similarity 1 (smaller first): below 1 for twins — a near twin's
   * D̂, 0 for constants of one class and rank, δ for varying twins (≤ 2⁻²¹) — and 1 + d for any
   * other pair, d the normalised squared distance δ in float64 (1 for constants: the k-th
   * constant of one model in a class, by equal means when known, is the twin of the k-th of that
   * class in another and unrelated to the others, which is what a tie-break in index order would
   * pair, without ties among all of them). Pairs within one model are never twins.
   */
  distance(i: number, j: number): number {
    let cross = this.origin[i] !== this.origin[j];
    const near = this.near;
    if (cross && near) {
      const m = this.numModels;
      const ti = near.twin[i * m + this.origin[j]];
      if (ti === j) return near.distance[i * m + this.origin[j]];
      // A near twin is unique by a wide margin: every other feature of its model differs more.
      if (ti >= 0 || near.twin[j * m + this.origin[i]] >= 0) cross = false;
    }
    const ri = this.constantRank[i];
    const rj = this.constantRank[j];
    if (ri >= 0 || rj >= 0) return cross && ri === rj && this.constantClass[i] === this.constantClass[j] ? 0 : 2;
    const s = this.diag[i] + this.diag[j];
    const d = s > 0 ? (s - 2 * this.cov[i * this.n + j]) / s : 0;
    if (cross && d <= 1 - NEAR_ONE && (near === null || rawDistance(this.cov, this.means!, near.raw, i, j) <= 1 - NEAR_ONE)) return d;
    return 1 + d;
  }

  /**
   * Row i of the similarity matrix: the reference's float32 correlation with the rules above
   * (the diagonal is left as the correlation; callers set it to −∞).
   */
  similarityRow(std32: Float64Array, i: number, out: Float32Array, at: number): void {
    const n = this.n;
    correlationRow32(this.cov, n, std32, i, out, at);
    const oi = this.origin[i];
    const di = this.diag[i];
    for (let j = 0; j < n; j++) {
      const v = out[at + j];
      if (v >= NEAR_ONE) out[at + j] = 1;
      // δ ≤ 2⁻²¹ implies a correlation ≥ 1 − δ (σᵢ² + σⱼ² ≥ 2σᵢσⱼ) unless σσ is under the clamp:
      // only those pairs need it.
      else if (
        this.origin[j] !== oi &&
        (v >= 0.999 || di * this.diag[j] < CLAMP_SQUARED || this.constantRank[i] >= 0 || this.nearTwin(i, j)) &&
        this.twin(i, j)
      )
        out[at + j] = 1;
    }
  }

  /**
   * Whether pair (k, j) comes before pair (k2, j2) when both have similarity 1, both
   * given as (row, column) with any order inside a pair. False on identical keys: then the
   * caller's row-major order decides.
   */
  before(k: number, j: number, k2: number, j2: number): boolean {
    const o = this.origin;
    const cross = o[k] !== o[j];
    if (cross !== (o[k2] !== o[j2])) return cross;
    const fresh = !this.merged[k] && !this.merged[j];
    const fresh2 = !this.merged[k2] && !this.merged[j2];
    if (fresh !== fresh2) return fresh;
    if (!fresh) return false;
    return this.distance(k, j) < this.distance(k2, j2);
  }

  /**
   * After feature `lo` absorbed another, whether pair (k, lo) has the same tie key as (k, b)
   * had before (b = lo or the absorbed feature; `bWasMerged`: b's flag before this merge). Then
   * an unchanged value keeps column lo as row k's first best, without a rescan.
   */
  keepsKey(k: number, b: number, lo: number, bWasMerged: number): boolean {
    const o = this.origin;
    return (o[k] !== o[lo]) === (o[k] !== o[b]) && (this.merged[k] === 1 || bWasMerged === 1);
  }

  /** Row-major total order on similarities tied at 1: `before`, then smaller row, then smaller column. */
  precedes(k: number, j: number, k2: number, j2: number): boolean {
    if (this.before(k, j, k2, j2)) return true;
    if (this.before(k2, j2, k, j)) return false;
    return k !== k2 ? k < k2 : j < j2;
  }
}

/**
 * Ranks constant features (see `TwinTies.constantRank`) within each class: the lowest model
 * present in a class ranks its constants in index order; another model's constant whose
 * signature equals (in float32) that of an unclaimed constant of the lowest model takes its rank
 * — a twin in a copy with permuted hidden units; the rest take the unclaimed ranks in index
 * order, then the following ones. Without signatures, or where none are equal (independently
 * trained models), every model ranks in index order.
 */
function rankConstants(
  constants: readonly number[],
  origin: Int32Array,
  cls: Int32Array,
  readSignatures: () => FeatureSignatures | undefined,
  rank: Int32Array,
): void {
  const classes = new Map<number, number[]>();
  for (const i of constants) {
    const list = classes.get(cls[i]);
    if (list) list.push(i);
    else classes.set(cls[i], [i]);
  }
  let signatures: FeatureSignatures | undefined;
  let read = false;
  const key = (i: number) => Array.from(signatures!.values.subarray(i * signatures!.width, (i + 1) * signatures!.width), Math.fround).join(',');
  for (const members of classes.values()) {
    // Members are in index order, so model-major: the first member's model is the lowest.
    const ref = origin[members[0]];
    if (!read && origin[members[members.length - 1]] !== ref) {
      signatures = readSignatures();
      read = true;
    }
    const refs = members.filter((i) => origin[i] === ref);
    refs.forEach((i, k) => {
      rank[i] = k;
    });
    const refByKey = new Map<string, number[]>();
    if (signatures) {
      refs.forEach((i, k) => {
        const s = key(i);
        const list = refByKey.get(s);
        if (list) list.push(k);
        else refByKey.set(s, [k]);
      });
    }
    const others = new Map<number, number[]>();
    for (const i of members) {
      if (origin[i] === ref) continue;
      const list = others.get(origin[i]);
      if (list) list.push(i);
      else others.set(origin[i], [i]);
    }
    for (const list of others.values()) {
      const claimed = new Uint8Array(refs.length);
      const rest: number[] = [];
      for (const i of list) {
        const k = signatures ? refByKey.get(key(i))?.find((r) => !claimed[r]) : undefined;
        if (k === undefined) rest.push(i);
        else {
          claimed[k] = 1;
          rank[i] = k;
        }
      }
      let next = 0;
      for (const i of rest) {
        while (next < refs.length && claimed[next]) next++;
        rank[i] = next++;
      }
    }
  }
}
