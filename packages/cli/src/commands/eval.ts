import { InvalidArgumentError } from '@zipit/core';
import { DATASET_SPEC_FORMS } from '@zipit/data';
import { singleDataInput } from '@zipit/core';
import { executor } from '../plugins.js';
import { readModelFile } from '../model-files.js';
import { accuracyTable, evaluateTasks } from '@zipit/pipeline';
import { parseArgs, UsageError, usageErrors, parseThreadsFlag, type Command } from '../command.js';
import { labelled, openAll } from '../load.js';
import { ProgressLine } from '../progress.js';
import { DATA_OPTIONS, DATA_OPTIONS_HELP, parseDataOptions, requireImagePreprocessing } from '../data-options.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'per-task, joint and average accuracy of a model with one output per task',
  help: `usage: zipit eval MODEL.onnx --task NAME=SPEC [--task NAME=SPEC …] [--json] [--quiet]

Task k is answered by the model's k-th output. Prints per-task accuracy (each task's own head on
its data), joint accuracy (over all tasks' data, the most confident head across all heads'
softmax must be the task's own and right), and their average. Built-in dataset specs default
to the test split.

options:
  --task NAME=SPEC  a task and its labelled data. Forms: ${DATASET_SPEC_FORMS}
                    (for .npy data: NAME=X.npy:Y.npy)
  --json            print one JSON object: {"tasks", "perTask", "joint", "average", "samples"}
  --quiet           no progress
${DATA_OPTIONS_HELP}

example:
  zipit eval merged.onnx --task a=mnist:0-4 --task b=mnist:5-9 --json`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          task: { type: 'string', multiple: true },
          json: { type: 'boolean' },
          quiet: { type: 'boolean' },
          threads: { type: 'string' },
          ...DATA_OPTIONS,
        },
      }),
    );
    if (positionals.length !== 1) throw new UsageError(`give exactly one model (got ${positionals.length})`);
    const file = positionals[0];
    const tasks = (values.task ?? []).map((t) => {
      const eq = t.indexOf('=');
      if (eq <= 0) throw new UsageError(`--task expects NAME=SPEC, got "${t}"`);
      return { name: t.slice(0, eq), spec: t.slice(eq + 1) };
    });
    if (tasks.length === 0) throw new UsageError('missing required option --task');
    const { graph } = await readModelFile(file);
    if (graph.outputs.length !== tasks.length) {
      throw new InvalidArgumentError(
        `the model has ${graph.outputs.length} outputs (${graph.outputs.map((o) => o.name).join(', ')}) but ${tasks.length} tasks were given`,
        {
          file,
          hint: 'give one --task per output, in output order',
        },
      );
    }
    const threads = parseThreadsFlag(values.threads);
    const dataOpts = parseDataOptions(values);
    const batchSize = dataOpts.batchSize;
    requireImagePreprocessing(
      tasks.map((t) => t.spec),
      dataOpts,
    );
    const sets = await openAll(
      tasks.map((t) => t.spec),
      singleDataInput(graph, file),
      'test',
      dataOpts,
    );
    sets.forEach((d, k) => {
      const heads = graph.outputs[k].shape?.[1];
      if (typeof heads === 'number' && d.info.numClasses !== null && d.info.numClasses > heads) {
        throw new InvalidArgumentError(
          `task ${tasks[k].name} (${d.info.spec}) has ${d.info.numClasses} classes but output ${graph.outputs[k].name} has ${heads}`,
          { file },
        );
      }
    });
    const bar = new ProgressLine(io.interactive && !values.quiet && !values.json);
    const r = await evaluateTasks(
      graph,
      tasks.map((t, k) => ({ name: t.name, output: graph.outputs[k].name, data: labelled(sets[k], batchSize) })),
      {
        executor,
        threads,
        signal: io.signal,
        file,
        onProgress: (task, p) => bar.update(`evaluating ${task}`, p.samples, sets[tasks.findIndex((t) => t.name === task)].info.samples),
      },
    );
    bar.done();
    if (values.json) {
      io.out(
        JSON.stringify({
          tasks: r.tasks,
          perTask: Object.fromEntries(r.tasks.map((t, k) => [t, r.perTask[k]])),
          joint: r.joint,
          average: r.average,
          samples: Object.fromEntries(r.tasks.map((t, k) => [t, r.samples[k]])),
        }),
      );
    } else {
      io.out(accuracyTable({ tasks: r.tasks, accuracy: [{ model: file, perTask: r.perTask, joint: r.joint, average: r.average }] }));
    }
    return 0;
  },
};
