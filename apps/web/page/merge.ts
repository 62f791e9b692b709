import {
  createArchitectureRegistry,
  createFormatRegistry,
  defaultMatcherRegistry,
  InvalidArgumentError,
  readModel,
  singleDataInput,
  surveyArchitectures,
  type Executor,
  type MatcherParams,
  type StopAt,
  type ValueInfo,
} from '@zipit/core';
import { registerResnet } from '@zipit/arch-resnet';
import { registerVgg } from '@zipit/arch-vgg';
import { registerVit } from '@zipit/arch-vit';
import { onnxFormat } from '@zipit/io-onnx';
import {
  accuracyRow,
  evaluateInputs,
  evaluateMerged,
  interleave,
  labelled,
  mergeModels,
  mergeReport,
  namedModels,
  prepareForMerge,
  refitPlan,
  renderVisualHtml,
  type BatchSource,
  type MergeReport,
  type ReportAssets,
  type Stage,
  type TestSet,
} from '@zipit/pipeline';

/** The plugins the page wires: the same architecture, matcher and format plugins as the CLI, and the executor it is given. */
export const architectures = (() => {
  const registry = createArchitectureRegistry();
  registerResnet(registry);
  registerVgg(registry);
  registerVit(registry);
  return registry;
})();
export const matchers = defaultMatcherRegistry();
export const formats = createFormatRegistry([onnxFormat]);

/** Where one model's task data comes from: train data for merging, test data (with labels) for evaluation. */
export interface TaskData {
  /** Shown in the report (a subset spec such as `mnist:0-4`, or the .npy file name). */
  spec: string;
  train: (input: ValueInfo) => BatchSource & { samples: number };
  /** Labelled test data; absent for merge-only data (an .npy), and then nothing is evaluated. */
  test?: (input: ValueInfo) => BatchSource & { samples: number };
}

export interface BrowserMergeOptions {
  models: { file: string; bytes: Uint8Array }[];
  /** One per model (its task), in the models' order. */
  tasks: TaskData[];
  method: string;
  params?: MatcherParams;
  stopAt: StopAt;
  /** Merge images in total, split evenly over the tasks (the CLI's `--samples`). */
  samples: number;
  resetBatchNorm: boolean;
  /**
   * After zipping, refit the zipped layers by least squares on the merge data (the CLI's
   * `--refit` with its defaults: ridge 10⁻³, heads refitted); refused for architectures that
   * declare no refit layers (`refitSupported` tells).
   */
  refit?: boolean;
  executor: Executor;
  /**
   * Threads for the runtime (default 1). onnxruntime-web's threads are workers started from the
   * script holding its WebAssembly glue, which a bundled page inlines into its own chunk, so they
   * would run the page; several threads need the glue served as its own file (not done yet).
   */
  threads?: number;
  assets: ReportAssets;
  signal?: AbortSignal;
  onStatus?: (text: string, fraction?: number) => void;
}

export interface BrowserMergeResult {
  /** The merged model, one ONNX file with one output per input model. */
  onnx: Uint8Array;
  report: MergeReport;
  /** The visual report (one offline HTML page). */
  html: string;
  /** Seconds from reading the files to the encoded outputs. */
  seconds: number;
}

const BATCH = 64;

/** Whether the architecture that recognises `graph` declares layers for a least-squares refit (ViTs). */
export function refitSupported(graph: Parameters<typeof surveyArchitectures>[1]): boolean {
  return Boolean(surveyArchitectures(architectures, graph).found?.arch.refitLayers);
}

/**
 * The CLI's `zipit merge` in a browser, step for step and through the same packages: read the
 * files with the ONNX format plugin, settle the merge graph with the architecture plugins,
 * statistics / matching / zip / BatchNorm reset with `mergeModels` on the given executor,
 * evaluation of the inputs, the ensemble and the merged model, the report and its visual page.
 */
export async function mergeInBrowser(o: BrowserMergeOptions): Promise<BrowserMergeResult> {
  const t0 = performance.now();
  const say = o.onStatus ?? (() => {});
  if (o.models.length < 2) throw new InvalidArgumentError(`pick at least two models to merge (got ${o.models.length})`);
  if (o.tasks.length !== o.models.length) throw new InvalidArgumentError(`give one task's data per model (${o.models.length} models, ${o.tasks.length} tasks)`);
  const seconds: MergeReport['seconds'] = {};
  say('reading the models');
  const read = [];
  for (const m of o.models) read.push({ file: m.file, graph: (await readModel(formats, m.file, m.bytes)).graph });
  const { models, mergeGraph } = prepareForMerge(namedModels(read), architectures);
  const refit = o.refit
    ? { ridge: 1e-3, heads: true, plan: refitPlan(surveyArchitectures(architectures, models[0].graph).found?.arch, models[0].graph) }
    : undefined;
  const input = singleDataInput(models[0].graph, models[0].file);
  const mergeSets = o.tasks.map((t) => t.train(input));
  const perSet = Math.ceil(o.samples / o.tasks.length);
  const data = interleave(mergeSets, BATCH, perSet);
  const total = mergeSets.reduce((n, d) => n + Math.min(d.samples, perSet), 0);
  seconds.load = (performance.now() - t0) / 1000;

  const stageName: Record<Stage, string> = {
    statistics: 'statistics',
    matching: 'matching',
    zip: 'zipping',
    batchnorm: 'BatchNorm reset',
    refit: 'least-squares refit',
  };
  const result = await mergeModels(models, {
    method: o.method,
    params: o.params,
    stopAt: o.stopAt,
    mergeGraph,
    data,
    executor: o.executor,
    threads: o.threads ?? 1,
    signal: o.signal,
    resetBatchNorm: o.resetBatchNorm,
    ...(refit ? { refit } : {}),
    matchers,
    onStage: (stage) => say(stageName[stage]),
    onProgress: (stage, p) => say(`${stageName[stage]}: ${p.samples} of ${total} images`, p.samples / total),
  });
  Object.assign(seconds, result.seconds);

  const accuracy: MergeReport['accuracy'] = [];
  if (o.tasks.every((t) => t.test)) {
    const t1 = performance.now();
    const tests: TestSet[] = o.tasks.map((t, k) => {
      const source = t.test!(input);
      return { name: models[k].name, data: labelled(source, BATCH) };
    });
    const evalOpts = {
      executor: o.executor,
      threads: o.threads ?? 1,
      signal: o.signal,
      onProgress: (label: string, task: string) => say(`evaluating ${label} on ${task}`),
    };
    const { rows } = await evaluateInputs(models, mergeGraph, tests, evalOpts);
    accuracy.push(...rows);
    accuracy.push(accuracyRow(`merged (${o.method})`, await evaluateMerged('merged', result, models, tests, evalOpts)));
    seconds.evaluation = (performance.now() - t1) / 1000;
  }

  say('writing the merged model and the report');
  const onnx = onnxFormat.write!(result.graph);
  const report = mergeReport({
    tool: 'zipit web',
    models,
    tasks: o.tasks.map((t) => t.spec),
    settings: {
      method: o.method,
      params: { ...matchers.get(o.method).defaults, ...o.params },
      stopAt: String(o.stopAt),
      stopIndex: result.stop,
      resetBatchNorm: o.resetBatchNorm,
      data: o.tasks.map((t) => t.spec),
      samples: total,
    },
    output: 'merged.onnx',
    result,
    accuracy,
    seconds,
  });
  const html = renderVisualHtml(report, o.assets);
  return { onnx, report, html, seconds: (performance.now() - t0) / 1000 };
}
