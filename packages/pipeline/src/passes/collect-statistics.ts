import {
  FeatureStats,
  InvalidArgumentError,
  MismatchError,
  ShapeError,
  ZipitError,
  buildStatisticsGraph,
  checkStatisticsRequest,
  countsOf,
  shapeProbeGraph,
  singleDataInput,
  spaceOfMessage,
  tensor,
  type ExecutorSession,
  type Graph,
  type SpaceRequest,
  type StatisticsGraph,
  type StatisticsOutputs,
  type Tensor,
} from '@zipit/core';
import { fixedBatch, walkBatches, type Batches, type PassOptions } from './batches.js';

export interface CollectStatisticsOptions extends PassOptions {
  /** Model names recorded in the statistics (default `model0`, `model1`, …). */
  modelNames?: readonly string[];
  /**
   * Learn the activation shapes from the first batch (one run of model 0 that outputs only
   * shapes) to pick the fastest layout per space (default true). Without it every space uses
   * the shape-agnostic layout (a transpose per activation).
   */
  probe?: boolean;
}

/**
 * Streams a dataset through N models at once and accumulates, per space, the float64 Gram
 * matrix, sums and sample count of the models' stacked activations (model-major, every pixel
 * or token a sample), on `opts.executor`. The Gram work runs inside the executor's session as one
 * graph (see `buildStatisticsGraph` in @zipit/core);
 * JavaScript adds n×n numbers per batch. Memory is one batch of activations plus the
 * accumulators, whatever the dataset size.
 *
 * Errors: NotFoundError for a value missing in a model, MismatchError when models disagree on a
 * space's channel count, ShapeError when their sample counts differ, NumericError (naming the
 * space) for NaN/Inf activations, InvalidArgumentError for an empty dataset.
 */
export async function collectStatistics(
  models: readonly Graph[],
  spaces: readonly SpaceRequest[],
  batches: Batches,
  opts: CollectStatisticsOptions,
): Promise<FeatureStats> {
  const names = opts.modelNames ?? models.map((_, k) => `model${k}`);
  if (names.length !== models.length) {
    throw new InvalidArgumentError(`${names.length} model names for ${models.length} models`, { file: opts.file });
  }
  checkStatisticsRequest(models, spaces, opts.file);
  let plan: StatisticsGraph | undefined;
  let session: ExecutorSession | undefined;
  let accumulator: Accumulator | undefined;
  try {
    // Models that fix their batch size (their computation depends on it) get batches of that
    // size; the sums over samples do not depend on how the samples are batched.
    for await (const batch of walkBatches(batches, { ...opts, fixedBatch: fixedBatch(models, opts.file) })) {
      if (!plan) {
        const shapes = opts.probe === false ? undefined : await probeShapes(models[0], spaces, batch.x, opts);
        plan = buildStatisticsGraph(models, spaces, { file: opts.file, shapes });
        session = await opts.executor.createSession(plan.graph, opts).catch((e: unknown) => {
          throw blameSpace(e, plan!, opts.file);
        });
      }
      const out = await runStats(session!, plan, batch.x, opts.file);
      accumulator ??= new Accumulator(names, plan.spaces, out, opts.file);
      accumulator.add(out);
    }
  } finally {
    await session?.release();
  }
  if (!accumulator) {
    throw new InvalidArgumentError('the dataset is empty: there are no batches to collect statistics from', { file: opts.file });
  }
  return accumulator.stats;
}

/**
 * Shapes of model 0's activation at every space, from one run that outputs shapes only. The run
 * takes the first sample of the batch alone (layouts depend on channels and positions, not on
 * the batch size) unless the model fixes its batch size or a space's channels are on axis 0.
 */
async function probeShapes(model: Graph, spaces: readonly SpaceRequest[], x: Tensor<'float32'>, opts: PassOptions): Promise<number[][]> {
  const graph = shapeProbeGraph(
    model,
    spaces.map((s) => s.values[0]),
  );
  const input = singleDataInput(graph);
  const batchFixed = typeof input.shape?.[0] === 'number' && input.shape[0] !== 1;
  const sample = batchFixed || spaces.some((s) => s.axis === 0) ? x : firstSample(x);
  const session = await opts.executor.createSession(graph, { ...opts, profilePrefix: undefined });
  try {
    const out = await session.run({ [input.name]: sample });
    return spaces.map((_, i) => Array.from(out[`probe.${i}`].data as BigInt64Array, Number));
  } finally {
    await session.release();
  }
}

function firstSample(x: Tensor<'float32'>): Tensor<'float32'> {
  const shape = [1, ...x.shape.slice(1)];
  return tensor('float32', shape, x.data.subarray(0, x.data.length / x.shape[0]));
}

async function runStats(session: ExecutorSession, plan: StatisticsGraph, x: Tensor<'float32'>, file: string | undefined): Promise<Record<string, Tensor>> {
  try {
    return await session.run({ [plan.input]: x });
  } catch (e) {
    throw blameSpace(e, plan, file);
  }
}

/** A runtime failure inside a space's statistics nodes means the models' activations do not line up there. */
function blameSpace(e: unknown, plan: StatisticsGraph, file: string | undefined): unknown {
  const space = e instanceof Error ? spaceOfMessage(e.message, plan.spaces) : undefined;
  if (space === undefined || !(e instanceof ZipitError)) return e;
  return new ShapeError(`the models' activations do not line up (${e.message})`, {
    file,
    space,
    hint: 'every model must produce the same number of samples (batch × positions) at this space',
    cause: e,
  });
}

/** Assembles each batch's centred Gram blocks and sums into full raw Gram matrices (float64) and adds them to FeatureStats. */
class Accumulator {
  readonly stats: FeatureStats;
  private readonly gram: Float64Array[];
  private readonly sum: Float64Array[];

  constructor(
    names: readonly string[],
    private readonly spaces: readonly StatisticsOutputs[],
    first: Record<string, Tensor>,
    private readonly file: string | undefined,
  ) {
    const channels = spaces.map((s) => this.counts(s, first).channels);
    this.stats = new FeatureStats(
      names,
      spaces.map((s, i) => ({ name: s.name, channels: channels[i] })),
    );
    this.gram = channels.map((c) => new Float64Array((c * names.length) ** 2));
    this.sum = channels.map((c) => new Float64Array(c * names.length));
  }

  add(out: Record<string, Tensor>): void {
    this.spaces.forEach((s, i) => {
      const { channels: c, samples } = this.counts(s, out);
      const expected = this.stats.spaces[i].channels;
      if (c !== expected) {
        throw new ShapeError(`activations changed from ${expected} to ${c} channels between batches`, { file: this.file, space: s.name });
      }
      const n = c * s.sums.length;
      const gram = this.gram[i];
      for (const b of s.blocks) {
        const block = out[b.name].data as Float32Array;
        for (let r = 0; r < c; r++) {
          const row = (b.k * c + r) * n + b.l * c;
          for (let q = 0; q < c; q++) gram[row + q] = block[r * c + q];
        }
        if (b.k === b.l) continue;
        for (let r = 0; r < c; r++) {
          for (let q = 0; q < c; q++) gram[(b.l * c + q) * n + b.k * c + r] = block[r * c + q];
        }
      }
      const sum = this.sum[i];
      s.sums.forEach((name, k) => sum.set(out[name].data as Float32Array, k * c));
      // The blocks are centred on the batch mean (see GramBlock): the raw Gram is that plus
      // (Σx)(Σx)ᵀ/count, added here in float64 so that the covariance keeps its precision.
      if (samples > 0) {
        for (let r = 0; r < n; r++) {
          const sr = sum[r] / samples;
          const row = r * n;
          for (let q = 0; q < n; q++) gram[row + q] += sr * sum[q];
        }
      }
      this.stats.add(i, gram, sum, samples);
    });
  }

  /** Channels and samples of a space in this batch, checking that every model agrees. */
  private counts(s: StatisticsOutputs, out: Record<string, Tensor>): { channels: number; samples: number } {
    const per = s.shapes.map((name) => countsOf(s.channelAxis, Array.from(out[name].data as BigInt64Array, Number)));
    if (per.some((p) => p.channels !== per[0].channels)) {
      throw new MismatchError(`the models have different channel counts here (${per.map((p) => p.channels).join(' vs ')})`, { file: this.file, space: s.name });
    }
    if (per.some((p) => p.samples !== per[0].samples)) {
      throw new ShapeError(`the models have different sample counts here (${per.map((p) => p.samples).join(' vs ')})`, { file: this.file, space: s.name });
    }
    return per[0];
  }
}
