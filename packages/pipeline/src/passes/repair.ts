import {
  channelMomentsGraph,
  foldRepair,
  InvalidArgumentError,
  PooledMoments,
  repairStatsGraph,
  repairTarget,
  repairWeights,
  samplesPerChannel,
  singleDataInput,
  tensor,
  type Graph,
  type RepairSite,
  type RepairTarget,
  type Tensor,
} from '@zipit/core';
import { fixedBatch, walkBatches, type Batches, type PassOptions } from './batches.js';
import { runModel } from './run-model.js';

/** One batch's moments of one site in one source model: mean and biased variance per channel. */
interface BatchMoments {
  mean: Float32Array;
  variance: Float32Array;
  samples: number;
}

/**
 * REPAIR of a zipped model whose BatchNorm was folded (see core's stats/repair.ts): one pass of
 * each source model records every site's per-batch channel moments; one pass of the merged
 * model normalises each site batch by batch to that batch's merge-weighted source moments and
 * measures its raw output; the pooled corrections are folded into the layers. `merges[i]` is
 * the merge matrix [C, N·C] of site i's point. `data` must yield the same batches on every call.
 * Exact on a self-merge: the result computes what the source computes.
 */
export async function repairModel(
  merged: Graph,
  sources: readonly Graph[],
  sites: readonly RepairSite[],
  merges: readonly (Float32Array | Float64Array)[],
  data: () => Batches,
  opts: PassOptions,
): Promise<Graph> {
  const values = sites.map((s) => s.value);
  // Every pass must see the same batches: those of the fixed batch size if a model fixes one.
  const size = fixedBatch([merged, ...sources], opts.file);
  const weights = sites.map((s, i) => repairWeights(merges[i], s.channels, s.channels * sources.length));

  // Source passes: per batch and site, each model's moments; and pooled over the data.
  const perBatch: BatchMoments[][][] = []; // [model][batch][site]
  const pooled: { mean: Float64Array; std: Float64Array }[][] = []; // [model][site]
  for (const source of sources) {
    const { graph, moments } = channelMomentsGraph(source, values, opts.operators);
    const acc = moments.map((m) => new PooledMoments(m.channels));
    const batches: BatchMoments[][] = [];
    const fetch = moments.flatMap((m) => [m.mean, m.variance, m.shape]);
    for await (const { values: out } of runModel(graph, data(), { ...opts, fetch, fixedBatch: size })) {
      batches.push(
        moments.map((m, i) => {
          const bm = {
            mean: out[m.mean].data as Float32Array,
            variance: out[m.variance].data as Float32Array,
            samples: samplesPerChannel(out[m.shape].data as BigInt64Array),
          };
          acc[i].add(bm.mean, bm.variance, bm.samples);
          return bm;
        }),
      );
    }
    perBatch.push(batches);
    pooled.push(acc.map((a) => a.result()));
  }
  const batchCount = perBatch[0].length;
  if (perBatch.some((b) => b.length !== batchCount))
    throw new InvalidArgumentError('the merge data gave a different number of batches on another pass', {
      hint: 'data() must yield the same batches every time',
    });
  const stacked = (per: (k: number) => ArrayLike<number>, length: number): Float64Array => {
    const out = new Float64Array(length * sources.length);
    for (let k = 0; k < sources.length; k++) out.set(Array.from(per(k)), k * length);
    return out;
  };
  const targets: RepairTarget[] = sites.map((s, i) =>
    repairTarget(
      weights[i],
      stacked((k) => pooled[k][i].mean, s.channels),
      stacked((k) => pooled[k][i].std, s.channels),
    ),
  );

  // Merged pass: each site normalised per batch to that batch's target; its raw moments pooled.
  const { graph: statsGraph, taps } = repairStatsGraph(merged, sites, opts.operators);
  const input = singleDataInput(merged, opts.file).name;
  const fetch = taps.flatMap((t) => [t.mean, t.variance, t.shape]);
  const mergedMoments = taps.map((t) => new PooledMoments(t.site.channels));
  const session = await opts.executor.createSession(statsGraph, opts);
  try {
    let b = 0;
    for await (const batch of walkBatches(data(), { ...opts, fixedBatch: size })) {
      if (b >= batchCount)
        throw new InvalidArgumentError('the merge data gave more batches on another pass', { hint: 'data() must yield the same batches every time' });
      const feeds: Record<string, Tensor> = { [input]: batch.x };
      taps.forEach((t, i) => {
        const c = t.site.channels;
        const mean = stacked((k) => perBatch[k][b][i].mean, c);
        const std = stacked((k) => perBatch[k][b][i].variance.map(Math.sqrt), c);
        const target = repairTarget(weights[i], mean, std);
        feeds[t.targetMean] = tensor('float32', t.targetShape, Float32Array.from(target.mean));
        feeds[t.targetStd] = tensor('float32', t.targetShape, Float32Array.from(target.std));
      });
      const out = await session.run(feeds, fetch);
      taps.forEach((t, i) =>
        mergedMoments[i].add(out[t.mean].data as Float32Array, out[t.variance].data as Float32Array, samplesPerChannel(out[t.shape].data as BigInt64Array)),
      );
      b++;
    }
    if (b !== batchCount)
      throw new InvalidArgumentError('the merge data gave fewer batches on another pass', { hint: 'data() must yield the same batches every time' });
  } finally {
    await session.release();
  }
  return foldRepair(
    merged,
    sites,
    mergedMoments.map((m) => m.result()),
    targets,
  );
}
