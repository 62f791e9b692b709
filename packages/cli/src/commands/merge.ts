import { extname } from 'node:path';
import { fixBatch, type MatcherParams, InvalidArgumentError, surveyArchitectures } from '@zipit/core';
import { DATASET_SPEC_FORMS } from '@zipit/data';
import { singleDataInput } from '@zipit/core';
import { executor, plugins } from '../plugins.js';
import {
  accuracyRow,
  accuracyTable,
  decodeModelStats,
  encodeModelStats,
  evaluateInputs,
  evaluateMerged,
  mergeAutoStop,
  mergeModels,
  mergeReport,
  refitPlan,
  renderMarkdown,
  renderVisualHtml,
  skipSamples,
  type AutoStopResult,
  type MergeModelsResult,
  type MergeReport,
} from '@zipit/pipeline';
import { loadReportAssets } from '@zipit/pipeline/node';
import { parseArgs, parseIntFlag, parseNumberFlag, RANGES, requireFlag, UsageError, usageErrors, parseThreadsFlag, type Command } from '../command.js';
import { checkPaths, readInput, specFiles, writeOutputs } from '../files.js';
import { matcherParamsHelp, parseMatcherParams } from '../matcher-params.js';
import { interleave, labelled, hasTestSplits, loadForMerge, openAll, testSpec } from '../load.js';
import { ProgressLine } from '../progress.js';
import { BN_RESET_HELP, BN_RESET_OPTIONS, parseBatchNormReset } from '../bn-reset-option.js';
import { parseRefit, REFIT_HELP, REFIT_OPTIONS } from '../refit-option.js';
import { outputFormat } from '../model-files.js';
import { DATA_OPTIONS, DATA_OPTIONS_HELP, parseDataOptions, parseTaskOptions, requireImagePreprocessing } from '../data-options.js';

const matchers = plugins.matchers;

export const mergeCommand: Command = {
  name: 'merge',
  summary: 'merge models trained on different tasks into one ONNX model (the main job)',
  help: `usage: zipit merge A.onnx B.onnx [C.onnx …] --data SPEC [--data SPEC …] --out MERGED.onnx
                   [--method ${matchers
                     .list()
                     .map((m) => m.name)
                     .join('|')}] [--param NAME=VALUE …] [--alpha A] [--beta B]
                   [--stop-at NAME|INDEX|all|none|auto] [--max-drop P] [--holdout N] [--bn-reset reference|anchored|--no-reset-bn] [--samples N]
                   [--refit [--refit-ridge R] [--no-refit-heads]]
                   [--task NAME=SPEC …] [--preprocess P] [--batch-size N] [--seed S]
                   [--report REPORT.json|.md|.html] [--stats-out FILE] [--stats-in FILE] [--no-eval] [--quiet]

Collects feature statistics of the models on the merge data, matches features per merge point,
zips the models up to the stop point (layers after it stay per model) and re-estimates
BatchNorm statistics. The output has one graph output per input model, named MODEL:OUTPUT.
Nothing is written unless everything succeeds.

options:
  --data SPEC         merge data; give one per model (its task) to also evaluate on each task's
                      test split. Forms: ${DATASET_SPEC_FORMS}
  --method NAME       matcher (default zipit)
  --param NAME=VALUE  a parameter of the matcher (repeatable); each matcher's and its default:
${matcherParamsHelp(matchers)}
  --alpha A, --beta B same as --param alpha=A / --param beta=B (zipit's)
  --stop-at P         last zipped merge point (see zipit inspect); default all. \`auto\`: the
                      deepest stop point whose merged model stays within --max-drop of the
                      ensemble on held-out merge images (the --holdout images after the merge
                      images of each --data spec): joint accuracy when there is one built-in
                      --data spec per model, else agreement with the ensemble's predictions
  --max-drop P        for --stop-at auto: the loss allowed, in points (default 3)
  --holdout N         for --stop-at auto: held-out images in total (default 256)
${BN_RESET_HELP}
${REFIT_HELP}
  --samples N         merge images in total, split evenly over the --data specs (default 512)
  --report FILE       write a report; the format follows the extension (.json, .md, or .html:
                      one offline page with charts of accuracy, cost, the merge graph and
                      the correlations before/after matching)
  --stats-out FILE    save the statistics (reuse them with --stats-in or zipit sweep)
  --stats-in FILE     use saved statistics instead of a statistics pass
  --no-eval           skip the evaluation of inputs, ensemble and merged model
  --task NAME=SPEC    labelled data to evaluate task k (model k's output) on, one per model;
                      default: the test split of each built-in --data spec
${DATA_OPTIONS_HELP}
  --quiet             no progress and no summary

example:
  zipit merge fixtures/models/resnet20_mnist_0-4.onnx fixtures/models/resnet20_mnist_5-9.onnx \\
    --data mnist:0-4 --data mnist:5-9 --method zipit --stop-at all --out merged.onnx --report report.md`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          data: { type: 'string', multiple: true },
          method: { type: 'string' },
          alpha: { type: 'string' },
          beta: { type: 'string' },
          param: { type: 'string', multiple: true },
          'stop-at': { type: 'string' },
          ...BN_RESET_OPTIONS,
          ...REFIT_OPTIONS,
          samples: { type: 'string' },
          out: { type: 'string' },
          report: { type: 'string' },
          'stats-out': { type: 'string' },
          'stats-in': { type: 'string' },
          'no-eval': { type: 'boolean' },
          quiet: { type: 'boolean' },
          threads: { type: 'string' },
          task: { type: 'string', multiple: true },
          'max-drop': { type: 'string' },
          holdout: { type: 'string' },
          ...DATA_OPTIONS,
        },
      }),
    );
    if (positionals.length < 2) throw new UsageError(`give at least two models to merge (got ${positionals.length})`);
    const out = requireFlag(values.out, '--out');
    const writer = outputFormat(out);
    if (writer.capabilities?.graph === false) {
      throw new InvalidArgumentError(`the ${writer.name} format holds weights only, not the merged graph with its per-model heads`, {
        file: out,
        hint: `write MERGED.onnx, then one model's weights with zipit convert MERGED.onnx OUT${writer.extensions[0]} --model NAME`,
      });
    }
    const bnReset = parseBatchNormReset(values);
    const refit = parseRefit(values);
    const specs = values.data ?? [];
    if (specs.length === 0) throw new UsageError('missing required option --data');
    const dataOpts = parseDataOptions(values);
    const evalTasks = parseTaskOptions(values.task ?? []);
    if (evalTasks.length > 0 && evalTasks.length !== positionals.length)
      throw new UsageError(`give one --task per model (${positionals.length} models, ${evalTasks.length} --task)`);
    requireImagePreprocessing([...specs, ...evalTasks.map((t) => t.spec)], dataOpts);
    const method = values.method ?? 'zipit';
    const matcher = matchers.get(method);
    const params: MatcherParams = parseMatcherParams(matcher, values.param, {
      ...(values.alpha !== undefined ? { alpha: parseNumberFlag(values.alpha, '--alpha', 0, RANGES.alpha) } : {}),
      ...(values.beta !== undefined ? { beta: parseNumberFlag(values.beta, '--beta', 0, RANGES.beta) } : {}),
    });
    const samples = parseIntFlag(values.samples, '--samples', 512, RANGES.samples);
    const threads = parseThreadsFlag(values.threads);
    const stopText = values['stop-at'] ?? 'all';
    const stopAt = /^-?\d+$/.test(stopText) ? Number(stopText) : stopText;
    const autoStop = stopText === 'auto';
    if (!autoStop && (values['max-drop'] !== undefined || values.holdout !== undefined))
      throw new UsageError('--max-drop and --holdout go with --stop-at auto');
    const maxDrop = parseNumberFlag(values['max-drop'], '--max-drop', 3, { min: 0, max: 100 }) / 100;
    const holdout = parseIntFlag(values.holdout, '--holdout', 256, RANGES.samples);
    const reportPath = values.report;
    const reportFormat = reportPath ? extname(reportPath).toLowerCase() : '';
    if (reportPath && !['.json', '.md', '.html'].includes(reportFormat)) {
      throw new InvalidArgumentError(`--report must end in .json, .md or .html, got ${reportPath}`);
    }
    // Before any work: no output may overwrite an input or another output, and every output folder must be writable.
    await checkPaths({
      inputs: [
        ...positionals.map((path) => ({ label: 'input model', path })),
        ...(values['stats-in'] ? [{ label: '--stats-in', path: values['stats-in'] }] : []),
        ...specs.flatMap((s) => specFiles(s)),
        ...(values.task ?? []).flatMap((t) => specFiles(t.slice(t.indexOf('=') + 1), '--task')),
      ],
      outputs: [
        { label: '--out', path: out },
        ...(reportPath ? [{ label: '--report', path: reportPath }] : []),
        ...(values['stats-out'] ? [{ label: '--stats-out', path: values['stats-out'] }] : []),
      ],
    });
    const quiet = Boolean(values.quiet);
    const say = (line: string) => !quiet && io.out(line);
    const bar = new ProgressLine(io.interactive && !quiet);
    const seconds: MergeReport['seconds'] = {};
    let t0 = performance.now();

    const { models, mergeGraph, batch } = await loadForMerge(positionals);
    // Refused before any pass over data when the architecture declares no layers to refit.
    const architecture = surveyArchitectures(plugins.architectures, models[0].graph).found?.arch;
    const refitWith = refit ? { ...refit, plan: refitPlan(architecture, models[0].graph) } : undefined;
    const input = singleDataInput(models[0].graph, models[0].file);
    const mergeSets = await openAll(specs, input, 'train', dataOpts);
    const perSet = Math.ceil(samples / specs.length);
    const data = interleave(mergeSets, dataOpts.batchSize, perSet);
    const total = mergeSets.reduce((t, d) => t + Math.min(d.info.samples, perSet), 0);
    const stats = values['stats-in'] ? decodeModelStats(await readInput(values['stats-in']), values['stats-in'], models, mergeGraph) : undefined;
    seconds.load = (performance.now() - t0) / 1000;

    const mergeOpts = {
      method,
      params,
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
      onStage: () => bar.done(),
      onProgress: (stage: string, p: { samples: number }) => bar.update(stage === 'statistics' ? 'statistics' : 'BatchNorm reset', p.samples, total),
    };
    let result: MergeModelsResult;
    let auto: AutoStopResult | undefined;
    if (autoStop) {
      // Held-out merge images: the next ones of each --data spec's train split after the merge images.
      const perHeld = Math.ceil(holdout / specs.length);
      const held = mergeSets.map((d) => skipSamples(d, perSet));
      const labelledTasks = specs.length === models.length && hasTestSplits(specs);
      auto = await mergeAutoStop(models, {
        ...mergeOpts,
        maxDrop,
        ...(labelledTasks
          ? { tasks: held.map((h, k) => ({ name: models[k].name, data: labelled(h, dataOpts.batchSize, perHeld) })) }
          : { heldOut: interleave(held, dataOpts.batchSize, perHeld) }),
        onCandidate: (c) => {
          bar.done();
          say(`  stop at ${c.name.padEnd(24)} ${(100 * c.score).toFixed(1).padStart(5)} %  ${(c.flops / 1e6).toFixed(1).padStart(8)} MFLOPs`);
        },
      });
      result = auto.result;
    } else {
      result = await mergeModels(models, { ...mergeOpts, stopAt });
    }
    bar.done();
    Object.assign(seconds, result.seconds);

    const tasks = models.map((m) => m.name);
    const accuracy: MergeReport['accuracy'] = [];
    const canEvaluate = !values['no-eval'] && (evalTasks.length > 0 || (specs.length === models.length && hasTestSplits(specs)));
    if (canEvaluate) {
      t0 = performance.now();
      const testSets = await openAll(evalTasks.length > 0 ? evalTasks.map((t) => t.spec) : specs.map(testSpec), input, 'test', dataOpts);
      const tests = testSets.map((t, k) => ({ name: tasks[k], data: labelled(t, dataOpts.batchSize) }));
      const pass = {
        executor,
        threads,
        signal: io.signal,
        onProgress: (label: string, task: string, p: { samples: number }) =>
          bar.update(`evaluating ${label} on ${task}`, p.samples, testSets[tasks.indexOf(task)].info.samples),
      };
      accuracy.push(...(await evaluateInputs(models, mergeGraph, tests, pass)).rows);
      accuracy.push(accuracyRow(`merged (${method})`, await evaluateMerged('merged', result, models, tests, pass)));
      bar.done();
      seconds.evaluation = (performance.now() - t0) / 1000;
    }

    const report = mergeReport({
      tool: 'zipit merge',
      models,
      tasks: specs,
      settings: {
        method,
        params,
        stopAt: String(stopText),
        stopIndex: result.stop,
        resetBatchNorm: bnReset !== false,
        data: mergeSets.map((d) => d.info.spec),
        samples: total,
      },
      output: out,
      result,
      accuracy,
      seconds,
    });

    t0 = performance.now();
    // The merged model keeps the inputs' fixed batch, if they had one.
    const files = [{ path: out, bytes: writer.write(batch === null ? result.graph : fixBatch(result.graph, batch), { file: out }) }];
    if (reportPath) {
      const autoJson = auto
        ? { autoStop: { metric: auto.metric, reference: auto.reference, maxDrop: auto.maxDrop, chosen: auto.chosen.name, curve: auto.curve } }
        : {};
      const text =
        reportFormat === '.json'
          ? JSON.stringify({ ...report, ...autoJson }, null, 2) + '\n'
          : reportFormat === '.md'
            ? renderMarkdown(report) + (auto ? '\n' + autoStopMarkdown(auto) : '')
            : renderVisualHtml(report, await loadReportAssets());
      files.push({ path: reportPath, bytes: new TextEncoder().encode(text) });
    }
    if (values['stats-out']) files.push({ path: values['stats-out'], bytes: encodeModelStats(result.stats, models) });
    io.signal.throwIfAborted();
    await writeOutputs(files, io.signal);
    seconds.write = (performance.now() - t0) / 1000;

    if (auto)
      say(
        `--stop-at auto: ${auto.metric} within ${(100 * auto.maxDrop).toFixed(1)} points of the ensemble's ${(100 * auto.reference).toFixed(1)} % → stop at ${auto.chosen.name}`,
      );
    const zipped = result.points.length;
    say(
      `merged ${models.length} models with ${method}: ${zipped} of ${result.mergeGraph.points.length} merge points zipped (stop at ${result.stop < 0 ? 'none' : result.mergeGraph.points[result.stop].name})`,
    );
    const bn = result.batchNorm;
    say(
      bn.skipped
        ? `BatchNorm: not re-estimated (${bn.skipped})`
        : bn.repaired
          ? `BatchNorm folded into the layers: REPAIR corrected the statistics of ${bn.repaired.length} zipped layers on ${total} images`
          : `BatchNorm: re-estimated ${bn.reset.length} layers on ${total} images`,
    );
    if (result.refit)
      say(
        `least-squares refit (ridge ${result.refit.ridge}): ${[`${result.refit.layers.length} zipped layers`, ...(result.refit.unmerged.length ? [`${result.refit.unmerged.length} unmerges`] : []), ...(result.refit.heads ? [`${result.refit.refittedHeads.length} heads`] : [])].join(', ')} refitted on ${total} images`,
      );
    else if (architecture?.refitLayers && result.stop >= 0)
      say(
        `hint: ${architecture.name} declares layers for a least-squares refit; --refit raised fully zipped ViT pairs by 12–29 joint points in our measurements (packages/arch-vit/README.md)`,
      );
    if (accuracy.length) say('\n' + accuracyTable(report) + '\n');
    else if (!values['no-eval'])
      say('(no evaluation: it needs one built-in --data spec per model, whose test split it uses, or one --task NAME=SPEC per model)');
    say(`wrote ${out}${reportPath ? ` and ${reportPath}` : ''}${values['stats-out'] ? ` and ${values['stats-out']}` : ''}`);
    return 0;
  },
};

/** The --stop-at auto curve as a Markdown section: score and FLOPs per stop point, and the choice. */
function autoStopMarkdown(auto: AutoStopResult): string {
  const lines = [
    '## Automatic stop point',
    '',
    `Deepest stop point whose ${auto.metric} on held-out merge images stays within ${(100 * auto.maxDrop).toFixed(1)} points of the ensemble's (${(100 * auto.reference).toFixed(1)} %): **${auto.chosen.name}**.`,
    '',
    `| zipped up to | ${auto.metric} (%) | MFLOPs | within |`,
    '|---|---|---|---|',
    ...auto.curve.map(
      (c) => `| ${c.name}${c === auto.chosen ? ' ←' : ''} | ${(100 * c.score).toFixed(1)} | ${(c.flops / 1e6).toFixed(2)} | ${c.within ? 'yes' : 'no'} |`,
    ),
  ];
  return lines.join('\n') + '\n';
}
