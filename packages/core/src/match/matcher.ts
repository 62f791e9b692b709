import { InvalidArgumentError, NumericError, ShapeError } from '../errors.js';
import { Registry } from '../registry.js';
import type { FeatureSignatures } from './feature-signatures.js';
import type { AnyMatcher, ParameterSpec } from './graph-matcher.js';

/**
 * The result of matching one space of N models with C channels each.
 * `merge` [C, N·C] maps stacked features to merged ones (each row averages its members);
 * `unmerge` [N·C, C] maps merged features back (0/1: row r marks the merged feature that
 * stacked feature r belongs to). Rows of model k are k·C … (k+1)·C − 1 (model-major).
 */
export interface MatchResult {
  merge: Float32Array;
  unmerge: Float32Array;
  /** Channels per model (= merged channels). */
  channels: number;
  numModels: number;
}

/** Numeric parameters of a matcher by name (e.g. zipit's alpha and beta). */
export type MatcherParams = Record<string, number>;

/**
 * Statistics beyond the covariance that a caller may pass to a matcher, all optional: a matcher
 * may ignore them (third-party ones do), and one called without them must behave as before.
 */
export interface MatchContext {
  /**
   * Mean of each stacked feature [N·C] (model-major, like the covariance's rows). The covariance
   * cannot tell one constant feature (zero variance) from another; the means can: the built-in
   * zipit and permute pair constant features of different models by equal mean (zipit-ties.ts).
   */
  means?: Float32Array | Float64Array;
  /**
   * What each stacked feature is as far as the weights tell (feature-signatures.ts). Features
   * identical on the merge data (dead channels) cannot be told apart by statistics; the built-in
   * zipit and permute pair such constants across models by nearest signature instead of by index.
   */
  signatures?: FeatureSignatures;
}

/**
 * A matching algorithm. `match` takes the covariance [N·C, N·C] of the stacked features
 * (float32 or float64, row-major), the model count N, its parameters and optionally more
 * statistics (`context`, e.g. the means; absent for `zipit match` on a statistics file). All
 * matchers return `{merge, unmerge}`; permutation is a special case.
 */
export interface Matcher {
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** Parameter names with their defaults. */
  readonly defaults: MatcherParams;
  /** What each parameter means and which values it takes (optional; `--param` checks them). */
  readonly parameters?: Readonly<Record<string, ParameterSpec>>;
  match(covariance: Float32Array | Float64Array, numModels: number, params?: MatcherParams, context?: MatchContext): MatchResult;
}

/** Registry of matchers (per-point or graph-level, see `GraphMatcher`), keyed by name. */
export type MatcherRegistry = Registry<AnyMatcher>;

/**
 * Validates a covariance matrix for N models and returns C. Errors name the problem in one
 * line: non-square, size not divisible by N, non-finite entries.
 */
export function checkCovariance(cov: ArrayLike<number>, n: number, numModels: number): number {
  if (!Number.isInteger(numModels) || numModels < 1) throw new InvalidArgumentError(`model count must be a positive integer, got ${numModels}`);
  if (cov.length !== n * n) throw new ShapeError(`covariance must be square [n, n]; got ${cov.length} elements for n = ${n}`);
  if (n % numModels !== 0) throw new ShapeError(`covariance size ${n} is not divisible by the model count ${numModels}`);
  for (let i = 0; i < cov.length; i++) {
    if (!Number.isFinite(cov[i])) {
      throw new NumericError(`covariance has a non-finite value (${cov[i]}) at [${Math.floor(i / n)}, ${i % n}]`);
    }
  }
  return n / numModels;
}

/** Side length of a square matrix stored flat, or a ShapeError. */
export function squareSize(m: ArrayLike<number>): number {
  const n = Math.round(Math.sqrt(m.length));
  if (n * n !== m.length) throw new ShapeError(`covariance must be square; got ${m.length} elements`);
  return n;
}

/** Reads a numeric parameter, applying the default and checking it is finite. */
export function param(params: MatcherParams | undefined, name: string, fallback: number): number {
  const v = params?.[name] ?? fallback;
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`matcher parameter ${name} must be a finite number, got ${v}`);
  return v;
}

/**
 * Builds `{merge, unmerge}` from a partition of the O = N·C stacked features into C groups.
 * `groupOf[r]` is the merged feature of stacked feature r. Merge entries are 1/(k + 1e-5)
 * for a group of k members, in float32 arithmetic, as the reference computes them.
 */
export function fromAssignment(groupOf: Int32Array, channels: number, numModels: number): MatchResult {
  const o = groupOf.length;
  const unmerge = new Float32Array(o * channels);
  const sizes = new Int32Array(channels);
  for (let r = 0; r < o; r++) {
    const g = groupOf[r];
    if (g < 0 || g >= channels) throw new RangeError(`feature ${r} assigned to group ${g} outside [0, ${channels})`);
    unmerge[r * channels + g] = 1;
    sizes[g]++;
  }
  const f = Math.fround;
  const eps = f(1e-5);
  const merge = new Float32Array(channels * o);
  for (let r = 0; r < o; r++) {
    const g = groupOf[r];
    merge[g * o + r] = f(1 / f(sizes[g] + eps));
  }
  return { merge, unmerge, channels, numModels };
}

/** Creates a matcher registry holding the given matchers (core registers nothing by itself). */
export function createMatcherRegistry(list: readonly AnyMatcher[]): MatcherRegistry {
  const reg = new Registry<AnyMatcher>('matcher');
  for (const m of list) reg.register(m);
  return reg;
}
