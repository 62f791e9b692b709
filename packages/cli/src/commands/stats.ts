import { singleDataInput } from '@zipit/core';
import { executor } from '../plugins.js';
import { DATASET_SPEC_FORMS } from '@zipit/data';
import { computeStatistics, encodeModelStats } from '@zipit/pipeline';
import { parseArgs, parseIntFlag, RANGES, requireFlag, UsageError, usageErrors, parseThreadsFlag, type Command } from '../command.js';
import { checkPaths, specFiles, writeOutputs } from '../files.js';
import { interleave, loadForMerge, openAll } from '../load.js';
import { ProgressLine } from '../progress.js';
import { DATA_OPTIONS, DATA_OPTIONS_HELP, parseDataOptions, requireImagePreprocessing } from '../data-options.js';

export const statsCommand: Command = {
  name: 'stats',
  summary: 'compute and save feature statistics of models (for merge --stats-in and sweep)',
  help: `usage: zipit stats A.onnx B.onnx [C.onnx …] --data SPEC [--data SPEC …] --out STATS.zstats [--samples N] [--quiet]

Runs the models side by side over the merge data once and saves, for every merge point, the
Gram matrix, sums and sample count of their stacked features (float64), with fingerprints of
the models so that the file is only ever used with them.

options:
  --data SPEC    merge data. Forms: ${DATASET_SPEC_FORMS}
  --samples N    images in total, split evenly over the --data specs (default 512)
  --out FILE     where to write the statistics
${DATA_OPTIONS_HELP}

example:
  zipit stats a.onnx b.onnx --data mnist:0-4 --data mnist:5-9 --out ab.zstats`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          data: { type: 'string', multiple: true },
          out: { type: 'string' },
          samples: { type: 'string' },
          quiet: { type: 'boolean' },
          threads: { type: 'string' },
          ...DATA_OPTIONS,
        },
      }),
    );
    if (positionals.length < 2) throw new UsageError(`give at least two models (got ${positionals.length})`);
    const out = requireFlag(values.out, '--out');
    const specs = values.data ?? [];
    if (specs.length === 0) throw new UsageError('missing required option --data');
    const samples = parseIntFlag(values.samples, '--samples', 512, RANGES.samples);
    const threads = parseThreadsFlag(values.threads);
    await checkPaths({
      inputs: [...positionals.map((path) => ({ label: 'input model', path })), ...specs.flatMap((s) => specFiles(s))],
      outputs: [{ label: '--out', path: out }],
    });
    const { models, mergeGraph } = await loadForMerge(positionals);
    const dataOpts = parseDataOptions(values);
    requireImagePreprocessing(specs, dataOpts);
    const sets = await openAll(specs, singleDataInput(models[0].graph, models[0].file), 'train', dataOpts);
    const perSet = Math.ceil(samples / specs.length);
    const total = sets.reduce((t, d) => t + Math.min(d.info.samples, perSet), 0);
    const bar = new ProgressLine(io.interactive && !values.quiet);
    const stats = await computeStatistics(models, mergeGraph, interleave(sets, dataOpts.batchSize, perSet)(), {
      executor,
      threads,
      signal: io.signal,
      onProgress: (p) => bar.update('statistics', p.samples, total),
    });
    bar.done();
    io.signal.throwIfAborted();
    await writeOutputs([{ path: out, bytes: encodeModelStats(stats, models) }], io.signal);
    if (!values.quiet) io.out(`wrote ${out}: ${mergeGraph.points.length} merge points, ${stats.count(0)} samples at the first (${total} images)`);
    return 0;
  },
};
