import { InvalidArgumentError, modelCost, tensor, type Tensor } from '@zipit/core';
import { evaluateTasks } from './evaluate-tasks.js';
import { taskOutputs, type TestSet } from './evaluate-merge.js';
import type { BatchSource } from './interleave.js';
import {
  computeStatistics,
  ensembleGraph,
  mergeModels,
  prepareModels,
  type MergeModelsOptions,
  type MergeModelsResult,
  type ModelInput,
} from './merge-models.js';
import { evaluateModel, type Batch, type Batches } from './passes/index.js';

export interface AutoStopOptions extends Omit<MergeModelsOptions, 'stopAt'> {
  /**
   * The largest loss allowed against the ensemble, as a fraction (0.03 = 3 points): the chosen
   * stop point is the deepest whose score is at least the ensemble's minus this. Default 0.03.
   */
  maxDrop?: number;
  /**
   * Held-out merge images (not the ones statistics and BatchNorm/REPAIR use): without `tasks`
   * the score is the share of these images on which the merged model's joint prediction (the
   * largest softmax over all heads) equals the ensemble's — no labels needed.
   */
  heldOut?: () => Batches;
  /**
   * Labelled held-out data, one set per model (its task): the score is joint accuracy on them,
   * against the ensemble's. Takes precedence over `heldOut`.
   */
  tasks?: readonly TestSet[];
  /** Called after each stop point is scored (for progress lines). */
  onCandidate?: (c: StopCandidate) => void;
}

/** One stop point on the curve. */
export interface StopCandidate {
  /** Merge point index (-1: nothing zipped, the ensemble). */
  index: number;
  name: string;
  /** Agreement with the ensemble or joint accuracy, in [0, 1]. */
  score: number;
  /** FLOPs of one forward pass of the merged model (batch 1). */
  flops: number;
  /** Whether score ≥ reference − maxDrop. */
  within: boolean;
}

export interface AutoStopResult {
  /** The merge at the chosen stop point. */
  result: MergeModelsResult;
  /** `agreement`: with the ensemble's predictions; `joint accuracy`: on the labelled tasks. */
  metric: 'agreement' | 'joint accuracy';
  /** The ensemble's score (1 for agreement). */
  reference: number;
  maxDrop: number;
  /** Every stop point, shallow to deep, starting with the ensemble (index −1). */
  curve: StopCandidate[];
  /** The chosen candidate (deepest within maxDrop; the ensemble when none is). */
  chosen: StopCandidate;
}

/**
 * `--stop-at auto`: zips as deep as is safe. Statistics are collected once; every stop point of
 * the merge graph is then merged (matching, zip, BatchNorm/REPAIR as `mergeModels` does) and
 * scored on held-out data — agreement with the ensemble's joint predictions, or joint accuracy
 * when labelled tasks are given — and the deepest stop point within `maxDrop` of the ensemble
 * wins. "Deepest" and not "best": zipping deeper shares more and costs fewer FLOPs, which is
 * what a user trades accuracy for. Costs one merge and one evaluation per stop point.
 */
export async function mergeAutoStop(models: readonly ModelInput[], opts: AutoStopOptions): Promise<AutoStopResult> {
  const maxDrop = opts.maxDrop ?? 0.03;
  if (!(maxDrop >= 0 && maxDrop <= 1)) throw new InvalidArgumentError(`maxDrop must be a fraction in [0, 1], got ${maxDrop}`);
  if (!opts.tasks && !opts.heldOut) throw new InvalidArgumentError('automatic stop selection needs held-out data (heldOut) or labelled tasks');
  const mergeGraph = prepareModels(models, opts.mergeGraph, opts.operators);
  const stats =
    opts.stats ?? (await computeStatistics(models, mergeGraph, opts.data(), { executor: opts.executor, threads: opts.threads, signal: opts.signal }));
  const ensemble = ensembleGraph(models, mergeGraph);
  const pass = { executor: opts.executor, threads: opts.threads, signal: opts.signal };
  const metric = opts.tasks ? 'joint accuracy' : 'agreement';

  let reference: number;
  let score: (merged: { graph: MergeModelsResult['graph']; outputs: MergeModelsResult['outputs'] }) => Promise<number>;
  if (opts.tasks) {
    const tasks = opts.tasks;
    if (tasks.length !== models.length) throw new InvalidArgumentError(`${tasks.length} labelled task sets for ${models.length} models; give one per model`);
    score = async (merged) => {
      const outputs = taskOutputs(merged.outputs, models);
      const r = await evaluateTasks(
        merged.graph,
        outputs.map((output, k) => ({ name: tasks[k].name, output, data: tasks[k].data })),
        pass,
      );
      return r.joint;
    };
    reference = await score(ensemble);
  } else {
    const heldOut = opts.heldOut!;
    const predict = async (merged: { graph: MergeModelsResult['graph']; outputs: MergeModelsResult['outputs'] }) => {
      const out: number[] = [];
      await evaluateModel(merged.graph, heldOut(), {
        ...pass,
        outputs: taskOutputs(merged.outputs, models),
        keepLogits: false,
        onBatch: (b) => {
          for (let i = 0; i < b.logits[0].shape[0]; i++) out.push(jointPrediction(b.logits, i));
        },
      });
      return Int32Array.from(out);
    };
    const target = await predict(ensemble);
    score = async (merged) => {
      const p = await predict(merged);
      let same = 0;
      for (let i = 0; i < p.length; i++) if (p[i] === target[i]) same++;
      return same / p.length;
    };
    reference = 1;
  }

  const within = (s: number) => s >= reference - maxDrop - 1e-12;
  const ensembleCandidate: StopCandidate = { index: -1, name: 'none', score: reference, flops: modelCost(ensemble.graph).flops, within: true };
  opts.onCandidate?.(ensembleCandidate);
  const curve: StopCandidate[] = [ensembleCandidate];
  let chosen = ensembleCandidate;
  let chosenResult: MergeModelsResult | undefined;
  for (const p of mergeGraph.points.filter((q) => q.stopPoint)) {
    const r = await mergeModels(models, { ...opts, mergeGraph, stats, stopAt: p.index });
    const s = await score(r);
    const c: StopCandidate = { index: p.index, name: p.name, score: s, flops: modelCost(r.graph).flops, within: within(s) };
    curve.push(c);
    opts.onCandidate?.(c);
    if (c.within) {
      chosen = c;
      chosenResult = r;
    }
  }
  const result = chosenResult ?? (await mergeModels(models, { ...opts, mergeGraph, stats, stopAt: 'none' }));
  return { result, metric, reference, maxDrop, curve, chosen };
}

/**
 * The joint prediction for sample i as one integer (head offset + class): the largest softmax
 * probability over all heads, each softmax over its own head's classes — the multi-head rule of
 * core's MultiTaskAccuracy. Ties go to the first head, then the first class.
 */
export function jointPrediction(heads: readonly Tensor<'float32'>[], i: number): number {
  let best = -1;
  let bestP = -Infinity;
  let offset = 0;
  for (const h of heads) {
    const k = h.shape[1];
    const row = h.data.subarray(i * k, (i + 1) * k);
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      if (row[j] > max) {
        max = row[j];
        arg = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(row[j] - max);
    const p = 1 / sum;
    if (p > bestP) {
      bestP = p;
      best = offset + arg;
    }
    offset += k;
  }
  return best;
}

/**
 * A batch source without its first `skip` samples (then at most `limit`): held-out merge images
 * from the same dataset, after the ones the merge used. Labels, when present, follow their samples.
 */
export function skipSamples(source: BatchSource, skip: number): BatchSource {
  return {
    batches: (opts) => ({
      async *[Symbol.asyncIterator]() {
        let seen = 0;
        const limit = opts.limit === undefined ? undefined : skip + opts.limit;
        for await (const b of source.batches({ batchSize: opts.batchSize, limit })) {
          const n = b.x.shape[0];
          const from = Math.max(0, skip - seen);
          seen += n;
          if (from >= n) continue;
          yield from === 0 ? b : slice(b, from, n);
        }
      },
    }),
  };
}

function slice(b: Batch, from: number, to: number): Batch {
  const per = b.x.data.length / b.x.shape[0];
  const x = tensor('float32', [to - from, ...b.x.shape.slice(1)], b.x.data.slice(from * per, to * per));
  return b.y ? { x, y: b.y.slice(from, to) } : { x };
}
