import { FormatError, InvalidArgumentError, MismatchError, NotFoundError, NumericError, ShapeError } from '../errors.js';

/** A merge point as far as statistics care: its name and its channel count per model. */
export interface StatsSpace {
  name: string;
  channels: number;
}

interface SpaceAccumulator {
  /** Σ x xᵀ over samples, [n, n], n = models × channels, model-major. */
  gram: Float64Array;
  /** Σ x over samples, [n]. */
  sum: Float64Array;
  /** Number of samples (images × positions) added so far. */
  count: number;
}

/**
 * Streaming feature statistics for N models over a list of spaces. For each space the
 * activations of all models are stacked model-major (model 0's channels first) into n = N·C
 * features; every pixel of every image (or every token) is one sample. Sums are float64 so
 * that 10⁷ samples do not drift. Accumulators are additive: shards computed separately and
 * combined with `addAll` equal one pass over all the data.
 */
export class FeatureStats {
  readonly models: readonly string[];
  readonly spaces: readonly StatsSpace[];
  private readonly acc: SpaceAccumulator[];

  constructor(models: readonly string[], spaces: readonly StatsSpace[]) {
    if (models.length < 1) throw new InvalidArgumentError('statistics need at least one model');
    const seen = new Set<string>();
    for (const s of spaces) {
      if (!Number.isInteger(s.channels) || s.channels < 1) {
        throw new InvalidArgumentError(`space "${s.name}" has an invalid channel count ${s.channels}`);
      }
      if (seen.has(s.name)) throw new InvalidArgumentError(`space "${s.name}" is listed twice`);
      seen.add(s.name);
    }
    this.models = [...models];
    this.spaces = spaces.map((s) => ({ name: s.name, channels: s.channels }));
    this.acc = this.spaces.map((s) => {
      const n = s.channels * models.length;
      return { gram: new Float64Array(n * n), sum: new Float64Array(n), count: 0 };
    });
  }

  /** Index of a space given by index or name. */
  spaceIndex(space: number | string): number {
    const i = typeof space === 'number' ? space : this.spaces.findIndex((s) => s.name === space);
    if (i < 0 || i >= this.spaces.length || !Number.isInteger(i)) {
      throw new NotFoundError(`no statistics for space ${JSON.stringify(space)}`, {
        hint: `spaces: ${this.spaces.map((s) => s.name).join(', ')}`,
      });
    }
    return i;
  }

  /** Features per space: models × channels. */
  size(space: number | string): number {
    return this.spaces[this.spaceIndex(space)].channels * this.models.length;
  }

  /** Samples accumulated for a space. */
  count(space: number | string): number {
    return this.acc[this.spaceIndex(space)].count;
  }

  /**
   * Adds one batch: `gram` = XXᵀ [n, n] and `sum` = ΣX [n] of the stacked activations X [n, count].
   * Rejects non-finite values, naming the space (NaN/Inf activations poison every later number).
   */
  add(space: number | string, gram: Float32Array | Float64Array, sum: Float32Array | Float64Array, count: number): void {
    const i = this.spaceIndex(space);
    const a = this.acc[i];
    const n = a.sum.length;
    const name = this.spaces[i].name;
    if (gram.length !== n * n || sum.length !== n) {
      throw new ShapeError(`batch statistics of size ${sum.length} (gram ${gram.length}) do not fit ${n} features`, { space: name });
    }
    if (!(count >= 0) || !Number.isInteger(count)) throw new InvalidArgumentError(`invalid sample count ${count}`, { space: name });
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(sum[k])) {
        throw new NumericError(`non-finite activation sum in feature ${k}`, { space: name, hint: 'check the input data and the model for NaN/Inf' });
      }
    }
    const g = a.gram;
    for (let k = 0; k < g.length; k++) g[k] += gram[k];
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(g[k * n + k])) {
        throw new NumericError(`non-finite activation second moment in feature ${k}`, {
          space: name,
          hint: 'activations overflow float32; check the input scale',
        });
      }
      a.sum[k] += sum[k];
    }
    a.count += count;
  }

  /** Adds every accumulator of `other` (same models and spaces) into this one. */
  addAll(other: FeatureStats): this {
    this.assertCompatible(other.models, other.spaces, 'the other statistics');
    for (let i = 0; i < this.acc.length; i++) {
      const a = this.acc[i];
      const b = other.acc[i];
      for (let k = 0; k < a.gram.length; k++) a.gram[k] += b.gram[k];
      for (let k = 0; k < a.sum.length; k++) a.sum[k] += b.sum[k];
      a.count += b.count;
    }
    return this;
  }

  /** Throws MismatchError unless models and spaces equal the given ones (e.g. stats loaded from a file). */
  assertCompatible(models: readonly string[], spaces: readonly StatsSpace[], what = 'these statistics'): void {
    const same = models.length === this.models.length && models.every((m, i) => m === this.models[i]);
    if (!same) {
      throw new MismatchError(`${what} are for models [${models.join(', ')}], expected [${this.models.join(', ')}]`);
    }
    if (spaces.length !== this.spaces.length) {
      throw new MismatchError(`${what} have ${spaces.length} spaces, expected ${this.spaces.length}`);
    }
    spaces.forEach((s, i) => {
      const t = this.spaces[i];
      if (s.name !== t.name || s.channels !== t.channels) {
        throw new MismatchError(`${what}: space ${i} is ${s.name} (${s.channels} channels), expected ${t.name} (${t.channels} channels)`);
      }
    });
  }

  /** Mean [n]: ΣX / count. */
  mean(space: number | string): Float64Array {
    const a = this.nonEmpty(space);
    const out = new Float64Array(a.sum.length);
    for (let k = 0; k < out.length; k++) out[k] = a.sum[k] / a.count;
    return out;
  }

  /** Population covariance [n, n]: E[xxᵀ] − μμᵀ over all samples. */
  covariance(space: number | string, out?: Float64Array): Float64Array {
    const a = this.nonEmpty(space);
    const n = a.sum.length;
    const c = out ?? new Float64Array(n * n);
    const inv = 1 / a.count;
    for (let i = 0; i < n; i++) {
      const mi = a.sum[i] * inv;
      const row = i * n;
      for (let j = 0; j < n; j++) c[row + j] = a.gram[row + j] * inv - mi * (a.sum[j] * inv);
    }
    return c;
  }

  /** One entry of the population covariance, without forming the [n, n] matrix. */
  covarianceAt(space: number | string, i: number, j: number): number {
    const a = this.nonEmpty(space);
    const n = a.sum.length;
    const inv = 1 / a.count;
    return a.gram[i * n + j] * inv - a.sum[i] * inv * (a.sum[j] * inv);
  }

  /** Raw accumulators of a space (read-only views; for serialisation and tests). */
  raw(space: number | string): Readonly<SpaceAccumulator> {
    return this.acc[this.spaceIndex(space)];
  }

  private nonEmpty(space: number | string): SpaceAccumulator {
    const i = this.spaceIndex(space);
    const a = this.acc[i];
    if (a.count === 0) {
      throw new InvalidArgumentError('no samples were accumulated', { space: this.spaces[i].name, hint: 'the dataset was empty' });
    }
    return a;
  }

  /** Restores accumulator contents (used by the file reader). */
  static fromRaw(models: readonly string[], spaces: readonly StatsSpace[], raw: readonly SpaceAccumulator[]): FeatureStats {
    const s = new FeatureStats(models, spaces);
    raw.forEach((r, i) => {
      const a = s.acc[i];
      if (r.gram.length !== a.gram.length || r.sum.length !== a.sum.length) {
        throw new FormatError(`space ${spaces[i].name}: stored sizes do not match ${models.length}×${spaces[i].channels} features`);
      }
      a.gram.set(r.gram);
      a.sum.set(r.sum);
      a.count = r.count;
    });
    return s;
  }
}
