import { singleDataInput } from '@zipit/core';
import { executor, plugins } from '../plugins.js';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NotFoundError } from '@zipit/core';
import { accuracyRow, accuracyTable, computeStatistics, evaluateInputs, evaluateMerged, mergeModels } from '@zipit/pipeline';
import { parseArgs, parseIntFlag, RANGES, usageErrors, parseThreadsFlag, type Command } from '../command.js';
import { interleave, labelled, loadForMerge, openAll, testSpec } from '../load.js';
import { ProgressLine } from '../progress.js';
import { REPO_FIXTURES } from '../repo.js';

/** A fixture pair: `<arch>_<dataset>_<classes>.onnx` files of one arch and dataset with disjoint classes. */
interface Pair {
  title: string;
  files: string[];
  specs: string[];
}

/** Finds pairs by file name, e.g. resnet20_mnist_0-4.onnx + resnet20_mnist_5-9.onnx. */
export function findPairs(dir: string): Pair[] {
  const groups = new Map<string, { file: string; classes: string }[]>();
  for (const f of readdirSync(dir).sort()) {
    const m = /^(.+)_(mnist|fashion)_(\d+-\d+)\.onnx$/.exec(f);
    if (!m) continue;
    const key = `${m[1]}_${m[2]}`;
    const list = groups.get(key) ?? [];
    list.push({ file: join(dir, f), classes: m[3] });
    groups.set(key, list);
  }
  return [...groups.entries()]
    .filter(([, list]) => list.length >= 2)
    .map(([key, list]) => {
      const [arch, dataset] = [key.slice(0, key.lastIndexOf('_')), key.slice(key.lastIndexOf('_') + 1)];
      return {
        title: `${arch} on ${dataset === 'mnist' ? 'MNIST' : 'Fashion-MNIST'} ${list.map((l) => l.classes).join(' / ')}`,
        files: list.map((l) => l.file),
        specs: list.map((l) => `${dataset}:${l.classes}`),
      };
    });
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'merge the shipped fixture models with every method and print the comparison table',
  help: `usage: zipit demo [--models-dir DIR] [--samples N] [--batch-size N] [--quiet]

For every pair of fixture models in DIR (default fixtures/models; files named
<arch>_<dataset>_<classes>.onnx, e.g. resnet20_mnist_0-4.onnx + resnet20_mnist_5-9.onnx):
computes feature statistics once on N merge images (default 512) from both tasks' training
splits, merges with average, permute and zipit — fully, and partially (zipped up to the middle
and the first stop point, per-model layers after it) — re-estimates BatchNorm, and evaluates every result
and the ensemble of the inputs on both tasks' test splits. --batch-size N: images per
onnxruntime run (default 64).

example:
  zipit demo`,

  async run(argv, io) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: false,
        options: {
          'models-dir': { type: 'string' },
          samples: { type: 'string' },
          quiet: { type: 'boolean' },
          threads: { type: 'string' },
          'batch-size': { type: 'string' },
        },
      }),
    );
    const dir = resolve(values['models-dir'] ?? join(REPO_FIXTURES, 'models'));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new NotFoundError('no fixture models folder', { file: dir, hint: 'run `pnpm train` to create the fixtures, or pass --models-dir' });
    }
    const pairs = findPairs(dir);
    if (pairs.length === 0) throw new NotFoundError('no fixture pairs (<arch>_<dataset>_<a>-<b>.onnx) found', { file: dir });
    const samples = parseIntFlag(values.samples, '--samples', 512, RANGES.samples);
    const threads = parseThreadsFlag(values.threads);
    const batchSize = parseIntFlag(values['batch-size'], '--batch-size', 64, RANGES.batchSize);
    const bar = new ProgressLine(io.interactive && !values.quiet);

    for (const pair of pairs) {
      const { models, mergeGraph } = await loadForMerge(pair.files);
      const input = singleDataInput(models[0].graph, models[0].file);
      const mergeSets = await openAll(pair.specs, input, 'train');
      const testSets = await openAll(pair.specs.map(testSpec), input, 'test');
      const data = interleave(mergeSets, batchSize, Math.ceil(samples / pair.specs.length));
      const tasks = pair.specs;
      const tests = testSets.map((t, k) => ({ name: tasks[k], data: labelled(t, batchSize) }));
      const pass = { executor, threads, signal: io.signal };
      // Partial zipping at the middle and at the first stop point (layers after it stay per model).
      const stops = mergeGraph.points.filter((p) => p.stopPoint);
      const partial = [...new Set([stops[Math.floor((stops.length - 1) / 2)], stops[0]])].filter((p) => p && p.index !== stops.at(-1)!.index);
      bar.update(`${pair.title}: statistics`, 0, null, '');
      const stats = await computeStatistics(models, mergeGraph, data(), {
        executor,
        threads,
        signal: io.signal,
        onProgress: (p) => bar.update(`${pair.title}: statistics`, p.samples, samples),
      });
      bar.update(`${pair.title}: evaluating the ensemble`, 0, null, '');
      const { rows } = await evaluateInputs(models, mergeGraph, tests, { ...pass, inputSuffix: ' alone', ensembleLabel: `ensemble (${models.length} models)` });
      const configs = [
        ...['average', 'permute', 'zipit'].map((method) => ({ method, stop: 'all' as string, label: `${method}, full` })),
        ...partial.flatMap((p) => ['permute', 'zipit'].map((method) => ({ method, stop: p.name, label: `${method}, up to ${p.name}` }))),
      ];
      for (const c of configs) {
        bar.update(`${pair.title}: ${c.label}`, 0, null, '');
        const r = await mergeModels(models, {
          method: c.method,
          stopAt: c.stop,
          mergeGraph,
          data,
          stats,
          matchers: plugins.matchers,
          operators: plugins.operators,
          ...pass,
        });
        rows.push(accuracyRow(c.label, await evaluateMerged(c.label, r, models, tests, pass)));
      }
      bar.done();
      io.out(`${pair.title} (merge data: ${samples} images; test: ${testSets.map((t) => t.info.samples).join(' + ')} images)`);
      io.out(accuracyTable({ tasks, accuracy: rows }));
      io.out('');
    }
    return 0;
  },
};
