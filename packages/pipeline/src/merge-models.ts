import {
  assertSameStructure,
  defaultMatcherRegistry,
  repairSites,
  deriveMergeGraph,
  asGraphMatcher,
  MismatchError,
  resolveMatcherParams,
  observationGraph,
  resolveStopAt,
  summarizeMatch,
  mergesOnlyTwins,
  zipGraphs,
  type Executor,
  type FeatureStats,
  type Graph,
  type MatcherParams,
  type MatcherRegistry,
  type MatchSummary,
  type MergeGraph,
  type OperatorRegistry,
  type RefitPlan,
  type StopAt,
  type ZipResult,
} from '@zipit/core';
import {
  anchoredResetBatchNorm,
  collectStatistics,
  refitLayers,
  repairModel,
  resetBatchNorm,
  type Batches,
  type Progress,
  type RefitOptions,
} from './passes/index.js';
import { fingerprint } from './fingerprint.js';
import { correlationView, type CorrelationView } from './report-data.js';

/** One input model. `name` labels its outputs in the merged graph (`${name}:${output}`). */
export interface ModelInput {
  name: string;
  graph: Graph;
  file: string;
}

export type Stage = 'statistics' | 'matching' | 'zip' | 'batchnorm' | 'refit';

/** How a zipped model's BatchNorm statistics are re-estimated (see `MergeModelsOptions.resetBatchNorm`). */
export type BatchNormReset = 'anchored' | 'reference';

export interface MergeModelsOptions {
  /** The runtime every pass runs on (statistics, REPAIR moments, BatchNorm reset), e.g. `ortExecutor` from @zipit/runtime-ort. */
  executor: Executor;
  /** Matcher name (`zipit`, `permute`, `average`, or any registered one). */
  method: string;
  /** Overrides of the matcher's declared defaults (`resolveMatcherParams`: an undeclared name or a value out of range is an error). */
  params?: MatcherParams;
  /** Last zipped merge point: index, name, `'all'` (default) or `'none'`/-1. */
  stopAt?: StopAt;
  /**
   * Re-estimate BatchNorm statistics of the merged model on the data: `true`/`'reference'`
   * (default) — the reference's reset (stored statistics replaced by train-mode statistics of
   * the merge data), skipped when the zip reproduces its inputs (every zipped point merges only
   * exact twins: a self-merge, a permuted copy), which have nothing to correct; `'anchored'` —
   * the reference's reset shifted by how far each input's stored statistics sit from its own
   * train-mode statistics on the data (exact on a self-merge by construction; one more pass per
   * input model); `false` — keep the zipped statistics.
   */
  resetBatchNorm?: boolean | BatchNormReset;
  matchers?: MatcherRegistry;
  /**
   * The merge data; called once per pass over it (statistics; BatchNorm reset; for models with
   * BatchNorm folded, one pass per input model and one of the merged model for REPAIR), each
   * call a fresh iterable.
   */
  data: () => Batches;
  /** Statistics computed earlier for exactly these models (`computeStatistics`); skips that pass. */
  stats?: FeatureStats;
  /** The merge graph to use (an architecture plugin's declaration); default: derived from the first model. */
  mergeGraph?: MergeGraph;
  /** The operators derivation follows (custom operators registered on `builtinOperators()`); default: the built-in ones. */
  operators?: OperatorRegistry;
  /**
   * For points made of blocks (attention heads): align blocks across models before matching
   * within them (default true, except for `average`, which aligns nothing). False matches head
   * j with head j.
   */
  alignBlocks?: boolean;
  /**
   * Least-squares refit of the zipped layers after the BatchNorm stage (`refitLayers`; off by
   * default): the layers are the architecture's (`architecture.refitLayers(graph)`, see
   * `refitPlan`), each solved on the merge data — one more pass per model and one of the merged
   * model per layer. Measured on ViTs (packages/arch-vit/README.md).
   */
  refit?: RefitOptions & { plan: RefitPlan };
  threads?: number;
  signal?: AbortSignal;
  onStage?: (stage: Stage) => void;
  onProgress?: (stage: Stage, p: Progress) => void;
}

export interface PointReport {
  index: number;
  name: string;
  channels: number;
  summary: MatchSummary;
  /** The point's correlation before and after matching, small enough for a report (see `correlationView`). */
  correlation?: CorrelationView;
}

export interface MergeModelsResult {
  graph: Graph;
  mergeGraph: MergeGraph;
  /** Index of the last zipped point (-1: none). */
  stop: number;
  stats: FeatureStats;
  points: PointReport[];
  outputs: ZipResult['outputs'];
  /** BatchNorm nodes re-estimated, or why none were. */
  batchNorm: { reset: string[]; mode?: BatchNormReset; repaired?: string[]; skipped?: string };
  /** The least-squares refit, when asked for: its settings and the layers, per-model unmerge layers and heads it solved (node names). */
  refit?: { ridge: number; heads: boolean; layers: string[]; unmerged: string[]; refittedHeads: string[] };
  /** Seconds per stage. */
  seconds: Partial<Record<Stage, number>>;
}

/**
 * Checks the models share one architecture and derives their merge graph, or takes `declared`
 * (an architecture plugin's merge graph, e.g. for attention, which derivation does not cover).
 */
export function prepareModels(models: readonly ModelInput[], declared?: MergeGraph, operators?: OperatorRegistry): MergeGraph {
  if (models.length < 2) throw new MismatchError(`merging needs at least two models, got ${models.length}`);
  const mergeGraph = declared ?? deriveMergeGraph(models[0].graph, { operators });
  assertSameStructure(
    models.map((m) => m.graph),
    models.map((m) => m.file),
    mergeGraph,
  );
  return mergeGraph;
}

/** The ensemble of the input models as one graph: nothing shared but the input, one output per model. */
export function ensembleGraph(models: readonly ModelInput[], mergeGraph: MergeGraph): ZipResult {
  return zipGraphs(
    models.map((m) => m.graph),
    { mergeGraph, transforms: [], stopAt: 'none', modelNames: models.map((m) => m.name) },
  );
}

/** Fingerprints of the models' parameters, as stored with statistics. */
export function modelFingerprints(models: readonly ModelInput[]): string[] {
  return models.map((m) => fingerprint(m.graph));
}

/**
 * Feature statistics of every merge point of the models, in one pass over the data inside one
 * session of the executor.
 */
export async function computeStatistics(
  models: readonly ModelInput[],
  mergeGraph: MergeGraph,
  data: Batches,
  opts: { executor: Executor; threads?: number; signal?: AbortSignal; onProgress?: (p: Progress) => void },
): Promise<FeatureStats> {
  const observed = models.map((m) => observationGraph(m.graph, mergeGraph));
  const spaces = mergeGraph.points.map((p, i) => ({ name: p.name, values: observed.map((o) => o.values[i]), axis: p.observe.axis }));
  return collectStatistics(
    observed.map((o) => o.graph),
    spaces,
    data,
    {
      modelNames: models.map((m) => m.name),
      executor: opts.executor,
      threads: opts.threads,
      signal: opts.signal,
      onProgress: opts.onProgress,
    },
  );
}

/**
 * The whole ZipIt! merge: statistics → matching per merge point → zip (with partial zipping)
 * → BatchNorm re-estimation. Returns one graph with a shared trunk and one output per model.
 */
export async function mergeModels(models: readonly ModelInput[], opts: MergeModelsOptions): Promise<MergeModelsResult> {
  const mergeGraph = prepareModels(models, opts.mergeGraph, opts.operators);
  const stop = resolveStopAt(mergeGraph, opts.stopAt ?? 'all');
  const matcher = asGraphMatcher((opts.matchers ?? defaultMatcherRegistry()).get(opts.method));
  const params = resolveMatcherParams(matcher, opts.params);
  const seconds: Partial<Record<Stage, number>> = {};
  const timed = async <T>(stage: Stage, fn: () => Promise<T> | T): Promise<T> => {
    opts.onStage?.(stage);
    const t0 = performance.now();
    const r = await fn();
    seconds[stage] = (performance.now() - t0) / 1000;
    return r;
  };

  const stats =
    opts.stats ??
    (await timed('statistics', () =>
      computeStatistics(models, mergeGraph, opts.data(), {
        executor: opts.executor,
        threads: opts.threads,
        signal: opts.signal,
        onProgress: (p) => opts.onProgress?.('statistics', p),
      }),
    ));
  stats.assertCompatible(
    models.map((m) => m.name),
    mergeGraph.points.map((p) => ({ name: p.name, channels: p.channels })),
    'the statistics',
  );

  const points: PointReport[] = [];
  const transforms = await timed('matching', () => {
    const alignBlocks = opts.alignBlocks ?? matcher.name !== 'average';
    const results = matcher.matchGraph({
      mergeGraph,
      numModels: models.length,
      graphs: models.map((m) => m.graph),
      covariance: (i) => stats.covariance(i),
      means: (i) => stats.mean(i),
      params,
      upTo: stop,
      alignBlocks,
    });
    return results.map((res, i) => {
      if (!res) return undefined;
      const p = mergeGraph.points[i];
      points.push({
        index: p.index,
        name: p.name,
        channels: p.channels,
        summary: summarizeMatch(res),
        correlation: correlationView(stats.covariance(i), res.unmerge, p.channels, models.length),
      });
      return { merge: res.merge, unmerge: res.unmerge };
    });
  });

  const zipped = await timed('zip', () =>
    zipGraphs(
      models.map((m) => m.graph),
      { mergeGraph, transforms, stopAt: stop, modelNames: models.map((m) => m.name) },
    ),
  );

  let graph = zipped.graph;
  const batchNorm: MergeModelsResult['batchNorm'] = { reset: [] };
  const pass = {
    executor: opts.executor,
    threads: opts.threads,
    signal: opts.signal,
    operators: opts.operators,
    onProgress: (p: Progress) => opts.onProgress?.('batchnorm', p),
  };
  const hasBn = graph.nodes.some((n) => n.opType === 'BatchNormalization');
  if (opts.resetBatchNorm === false) batchNorm.skipped = 'disabled (--no-reset-bn)';
  else if (stop < 0) batchNorm.skipped = 'nothing was zipped';
  else if (!hasBn) {
    // BatchNorm folded into the layers: REPAIR restores each zipped layer's channel statistics.
    const sites = repairSites(mergeGraph, graph, stop);
    if (sites.length === 0) batchNorm.skipped = 'the models have no BatchNormalization nodes and no zipped Conv/Gemm layer to correct';
    else {
      graph = await timed('batchnorm', () =>
        repairModel(
          graph,
          models.map((m) => m.graph),
          sites,
          sites.map((s) => transforms[s.point]!.merge),
          opts.data,
          pass,
        ),
      );
      batchNorm.repaired = sites.map((s) => s.node);
    }
  } else if (opts.resetBatchNorm !== 'anchored' && zipReproducesInputs(mergeGraph, transforms, stats, stop)) {
    batchNorm.skipped = 'the zip reproduces its inputs, every merged feature averaging exact twins: nothing to re-estimate';
  } else {
    const rezip = (graphs: Graph[]): Graph => zipGraphs(graphs, { mergeGraph, transforms, stopAt: stop, modelNames: models.map((m) => m.name) }).graph;
    const mode: BatchNormReset = opts.resetBatchNorm === 'anchored' ? 'anchored' : 'reference';
    const r = await timed('batchnorm', () =>
      mode === 'reference'
        ? resetBatchNorm(graph, opts.data(), pass)
        : anchoredResetBatchNorm(
            graph,
            models.map((m) => m.graph),
            rezip,
            opts.data,
            pass,
          ),
    );
    graph = r.graph;
    batchNorm.reset = r.nodes;
    batchNorm.mode = mode;
  }
  let refit: MergeModelsResult['refit'];
  const refitOpts = opts.refit;
  if (refitOpts && stop >= 0) {
    const r = await timed('refit', () =>
      refitLayers(
        graph,
        models.map((m) => m.graph),
        models.map((m) => m.name),
        mergeGraph,
        transforms,
        stop,
        refitOpts.plan,
        opts.data,
        { executor: opts.executor, threads: opts.threads, signal: opts.signal, operators: opts.operators },
        refitOpts,
      ),
    );
    graph = r.graph;
    refit = { ridge: refitOpts.ridge, heads: Boolean(refitOpts.heads), layers: r.layers, unmerged: r.unmerged, refittedHeads: r.heads };
  }
  return { graph, mergeGraph, stop, stats, points, outputs: zipped.outputs, batchNorm, ...(refit ? { refit } : {}), seconds };
}

/**
 * Whether every zipped point merges only exact twins (core's `mergesOnlyTwins`): then the
 * merged model computes what the inputs compute and BatchNorm keeps their statistics.
 */
function zipReproducesInputs(
  mergeGraph: MergeGraph,
  transforms: readonly ({ merge: Float32Array | Float64Array } | undefined)[],
  stats: FeatureStats,
  stop: number,
): boolean {
  return mergeGraph.points.every((p) => {
    if (p.index > stop) return true;
    const t = transforms[p.index];
    return t !== undefined && mergesOnlyTwins(t.merge, p.channels, (i, j) => stats.covarianceAt(p.index, i, j), stats.mean(p.index));
  });
}
