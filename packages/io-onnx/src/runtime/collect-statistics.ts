import { FeatureStats, InvalidArgumentError, MismatchError, ShapeError, ZipitError, type Graph, type Tensor } from '@zipit/core';
import { walkBatches, type Batches, type PassOptions } from './batches.js';
import { ModelSession } from './session.js';
import { buildStatisticsGraph, spaceOfMessage, type SpaceRequest, type StatisticsGraph } from './statistics-graph.js';

export interface CollectStatisticsOptions extends PassOptions {
  /** Model names recorded in the statistics (default `model0`, `model1`, …). */
  modelNames?: readonly string[];
}

/**
 * Streams a dataset through N models at once and accumulates, per space, the float64 Gram
 * matrix, sums and sample count of the models' stacked activations (model-major, every pixel
 * or token a sample). The Gram work runs inside onnxruntime (see {@link buildStatisticsGraph});
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
  opts: CollectStatisticsOptions = {},
): Promise<FeatureStats> {
  const names = opts.modelNames ?? models.map((_, k) => `model${k}`);
  if (names.length !== models.length) {
    throw new InvalidArgumentError(`${names.length} model names for ${models.length} models`, { file: opts.file });
  }
  const plan = buildStatisticsGraph(models, spaces, opts);
  const fetch = plan.spaces.flatMap((s) => [s.gram, s.sum, ...s.shapes]);
  const session = await ModelSession.create(plan.graph, opts);
  let stats: FeatureStats | undefined;
  try {
    for await (const batch of walkBatches(batches, opts)) {
      const out = await runStats(session, plan, batch.x, fetch, opts.file);
      const counts = plan.spaces.map((s) => samplesOf(s.name, s.shapes.map((n) => out[n]), opts.file));
      stats ??= new FeatureStats(names, plan.spaces.map((s, i) => ({ name: s.name, channels: counts[i].channels })));
      plan.spaces.forEach((s, i) => {
        const expected = stats!.spaces[i].channels;
        if (counts[i].channels !== expected) {
          throw new ShapeError(`activations changed from ${expected} to ${counts[i].channels} channels between batches`, { file: opts.file, space: s.name });
        }
        stats!.add(i, out[s.gram].data as Float32Array, out[s.sum].data as Float32Array, counts[i].samples);
      });
    }
  } finally {
    await session.release();
  }
  if (!stats) {
    throw new InvalidArgumentError('the dataset is empty: there are no batches to collect statistics from', { file: opts.file });
  }
  return stats;
}

async function runStats(session: ModelSession, plan: StatisticsGraph, x: Tensor<'float32'>, fetch: string[], file: string | undefined): Promise<Record<string, Tensor>> {
  try {
    return await session.run({ [plan.input]: x }, fetch);
  } catch (e) {
    const space = e instanceof Error ? spaceOfMessage(e.message, plan.spaces) : undefined;
    if (space === undefined || !(e instanceof ZipitError)) throw e;
    throw new ShapeError(`the models' activations do not line up (${e.message})`, {
      file,
      space,
      hint: 'every model must produce the same number of samples (batch × positions) at this space',
      cause: e,
    });
  }
}

/** Channels and samples per batch of one space, checking that every model agrees. */
function samplesOf(space: string, shapes: Tensor[], file: string | undefined): { channels: number; samples: number } {
  const dims = shapes.map((t) => [Number((t.data as BigInt64Array)[0]), Number((t.data as BigInt64Array)[1])]);
  const channels = dims[0][0];
  if (dims.some((d) => d[0] !== channels)) {
    throw new MismatchError(`the models have different channel counts here (${dims.map((d) => d[0]).join(' vs ')})`, { file, space });
  }
  return { channels, samples: dims[0][1] };
}
