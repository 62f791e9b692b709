import { singleDataInput, surveyArchitectures } from '@zipit/core';
import { executor, plugins } from '../plugins.js';
import type { MatcherParams } from '@zipit/core';
import { DATASET_SPEC_FORMS } from '@zipit/data';
import { decodeModelStats, evaluateMerged, mergeModels, refitPlan, sweepTable, type SweepRow } from '@zipit/pipeline';
import { BN_RESET_OPTIONS, parseBatchNormReset } from '../bn-reset-option.js';
import { parseRefit, REFIT_OPTIONS } from '../refit-option.js';
import { parseArgs, parseIntFlag, parseNumberList, RANGES, requireFlag, UsageError, usageErrors, parseThreadsFlag, type Command } from '../command.js';
import { checkPaths, readInput, specFiles, writeOutputs } from '../files.js';
import { encodeSweepReport, sweepReportFormat, SweepReportBuilder } from './sweep-report.js';
import { interleave, labelled, loadForMerge, openAll, testSpec } from '../load.js';
import { ProgressLine } from '../progress.js';
import { DATA_OPTIONS, parseDataOptions, parseTaskOptions, requireImagePreprocessing } from '../data-options.js';
import { checkParamNames, paramGrid, parseParamFlags } from '../matcher-params.js';

const matchers = plugins.matchers;

function list(text: string | undefined, flag: string, fallback: string[]): string[] {
  if (text === undefined) return fallback;
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UsageError(`${flag} expects a comma-separated list`);
  return items;
}

export const sweepCommand: Command = {
  name: 'sweep',
  summary: 'grid over methods, alpha, beta and stop points from saved statistics, one table',
  help: `usage: zipit sweep A.onnx B.onnx [C.onnx …] --stats-in STATS.zstats --data SPEC [--data SPEC …]
                   [--methods zipit,permute,average] [--alpha 0.3,0.5] [--beta 0.5,1]
                   [--stop-at all,none,NAME,INDEX…] [--samples N] [--bn-reset MODE|--no-reset-bn] [--json] [--quiet]
                   [--refit [--refit-ridge R] [--no-refit-heads]] [--report REPORT.json|.md|.html]

Merges the models once per combination, reusing saved statistics (no new statistics pass;
BatchNorm re-estimation still reads the merge data), and evaluates each result on the tasks'
test splits. Give one --data per model (its task). alpha and beta apply to zipit only.

options:
  --stats-in FILE   statistics from \`zipit stats\` (or merge --stats-out) for these models
  --data SPEC       one per model. Forms: ${DATASET_SPEC_FORMS}
  --methods LIST    matchers (default zipit,permute,average)
  --param NAME=LIST a grid over a matcher parameter (repeatable), for the methods that declare
                    it (the others keep their defaults); e.g. --param alpha=0.1,0.3,0.5
  --alpha LIST      same as --param alpha=LIST (zipit; default 0.5)
  --beta LIST       same as --param beta=LIST (zipit; default 1)
  --stop-at LIST    stop points (default all)
  --samples N       images for BatchNorm re-estimation (default 512)
  --bn-reset MODE   reference (default) or anchored; --no-reset-bn keeps the zipped statistics
                    (see zipit merge --help)
  --refit           refit every merge by least squares on the merge data (ViTs; see zipit merge
                    --help for it, --refit-ridge R and --no-refit-heads)
  --json            print the rows as one JSON array
  --report FILE     also write a report: .json, .md, or .html (one offline page with charts:
                    accuracy against the stop point per method, cost, the merge graph, the
                    best configuration's merged features and correlations)

example:
  zipit sweep a.onnx b.onnx --stats-in ab.zstats --data mnist:0-4 --data mnist:5-9 --alpha 0.1,0.3,0.5 --stop-at all,3`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          'stats-in': { type: 'string' },
          data: { type: 'string', multiple: true },
          methods: { type: 'string' },
          alpha: { type: 'string' },
          param: { type: 'string', multiple: true },
          beta: { type: 'string' },
          'stop-at': { type: 'string' },
          samples: { type: 'string' },
          ...BN_RESET_OPTIONS,
          ...REFIT_OPTIONS,
          json: { type: 'boolean' },
          quiet: { type: 'boolean' },
          threads: { type: 'string' },
          report: { type: 'string' },
          task: { type: 'string', multiple: true },
          ...DATA_OPTIONS,
        },
      }),
    );
    if (positionals.length < 2) throw new UsageError(`give at least two models (got ${positionals.length})`);
    const statsFile = requireFlag(values['stats-in'], '--stats-in');
    const specs = values.data ?? [];
    if (specs.length !== positionals.length) throw new UsageError(`give one --data per model (${positionals.length} models, ${specs.length} --data)`);
    const methods = list(values.methods, '--methods', ['zipit', 'permute', 'average']);
    const bnReset = parseBatchNormReset(values);
    const refit = parseRefit(values);
    const reportFormat = sweepReportFormat(values.report);
    methods.forEach((m) => matchers.get(m));
    const paramLists = parseParamFlags(values.param);
    if (values.alpha !== undefined) paramLists.set('alpha', parseNumberList(values.alpha, '--alpha', RANGES.alpha, []));
    if (values.beta !== undefined) paramLists.set('beta', parseNumberList(values.beta, '--beta', RANGES.beta, []));
    checkParamNames(paramLists, methods, matchers);
    const stops = list(values['stop-at'], '--stop-at', ['all']).map((s) => (/^-?\d+$/.test(s) ? Number(s) : s));
    const samples = parseIntFlag(values.samples, '--samples', 512, RANGES.samples);
    const threads = parseThreadsFlag(values.threads);
    // Before any work: the report may not overwrite a model, the statistics or the data, and its folder must be writable.
    if (values.report) {
      await checkPaths({
        inputs: [
          ...positionals.map((path) => ({ label: 'input model', path })),
          { label: '--stats-in', path: statsFile },
          ...specs.flatMap((s) => specFiles(s)),
          ...(values.task ?? []).flatMap((t) => specFiles(t.slice(t.indexOf('=') + 1), '--task')),
        ],
        outputs: [{ label: '--report', path: values.report }],
      });
    }

    const { models, mergeGraph } = await loadForMerge(positionals);
    // Refused before any merge when the architecture declares no layers to refit.
    const refitWith = refit
      ? { ...refit, plan: refitPlan(surveyArchitectures(plugins.architectures, models[0].graph).found?.arch, models[0].graph) }
      : undefined;
    const stats = decodeModelStats(await readInput(statsFile), statsFile, models, mergeGraph);
    const input = singleDataInput(models[0].graph, models[0].file);
    const dataOpts = parseDataOptions(values);
    const evalTasks = parseTaskOptions(values.task ?? []);
    if (evalTasks.length > 0 && evalTasks.length !== positionals.length)
      throw new UsageError(`give one --task per model (${positionals.length} models, ${evalTasks.length} --task)`);
    requireImagePreprocessing([...specs, ...evalTasks.map((t) => t.spec)], dataOpts);
    const mergeSets = await openAll(specs, input, 'train', dataOpts);
    const testSets = await openAll(evalTasks.length > 0 ? evalTasks.map((t) => t.spec) : specs.map(testSpec), input, 'test', dataOpts);
    const data = interleave(mergeSets, dataOpts.batchSize, Math.ceil(samples / specs.length));
    const tasks = models.map((m) => m.name);
    const bar = new ProgressLine(io.interactive && !values.quiet && !values.json);

    const configs: { method: string; params: MatcherParams; stop: string | number }[] = [];
    for (const method of methods) {
      const grid: MatcherParams[] = paramGrid(matchers.get(method), paramLists);
      for (const params of grid) for (const stop of stops) configs.push({ method, params, stop });
    }
    const rows: SweepRow[] = [];
    const report = reportFormat ? new SweepReportBuilder() : undefined;
    for (const [i, c] of configs.entries()) {
      bar.update(`sweep ${c.method} ${JSON.stringify(c.params)} stop ${c.stop}`, i, configs.length, 'merges');
      const r = await mergeModels(models, {
        method: c.method,
        params: c.params,
        stopAt: c.stop,
        mergeGraph,
        data,
        stats,
        matchers,
        operators: plugins.operators,
        executor,
        threads,
        signal: io.signal,
        resetBatchNorm: bnReset,
        ...(refitWith ? { refit: refitWith } : {}),
      });
      const acc = await evaluateMerged(
        c.method,
        r,
        models,
        testSets.map((t, k) => ({ name: tasks[k], data: labelled(t, dataOpts.batchSize) })),
        { executor, threads, signal: io.signal },
      );
      rows.push({
        method: c.method,
        alpha: c.params.alpha ?? null,
        beta: c.params.beta ?? null,
        stop: r.stop < 0 ? 'none' : mergeGraph.points[r.stop].name,
        stopIndex: r.stop,
        perTask: Object.fromEntries(tasks.map((t, k) => [t, acc.perTask[k]])),
        joint: acc.joint,
        average: acc.average,
      });
      report?.add(rows.at(-1)!, r);
    }
    bar.done();
    if (report && values.report && reportFormat) {
      const built = await report.build({
        models,
        mergeGraph,
        specs,
        mergeSets,
        testSets,
        samples,
        resetBatchNorm: bnReset !== false,
        ...(refit ? { refit: { ridge: refit.ridge, heads: Boolean(refit.heads) } } : {}),
        statsFile,
        threads,
        signal: io.signal,
      });
      await writeOutputs([{ path: values.report, bytes: await encodeSweepReport(built, reportFormat) }], io.signal);
    }
    if (values.json) {
      io.out(JSON.stringify(rows));
      return 0;
    }
    io.out(sweepTable(rows, tasks));
    return 0;
  },
};
