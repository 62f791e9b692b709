import { inlineParameters } from '@zipit/core';
import { formatInspection, inspectGraph } from '@zipit/pipeline';
import { parseArgs, UsageError, usageErrors, type Command } from '../command.js';
import { readModelFile } from '../model-files.js';
import { plugins } from '../plugins.js';

/** What `zipit inspect` found out about a model (its `--json` output): see the pipeline's `inspectGraph`. */
export type { Inspection } from '@zipit/pipeline';

export const inspectCommand: Command = {
  name: 'inspect',
  summary: "show a model's architecture, merge points (in depth order, with stop points) and task heads",
  help: `usage: zipit inspect MODEL.onnx [--json]

Reads MODEL and shows how zipit would merge it:
- the architecture, when a plugin (resnet, vgg) recognises it, with the merge graph the plugin
  declares and whether the automatic derivation agrees; otherwise "unknown: derived
  automatically" and why each plugin declined;
- the merge points in depth order: index, name, channels, whether partial zipping may stop
  there (--stop-at of zipit merge), the nodes that produce and consume the space, and the
  residual Adds that tie a stream together;
- the task heads (classifiers kept per model) and any barriers: nodes that merging cannot pass,
  each with the reason and what to do.

options:
  --json      print the full result (every point's parameters and axes) as JSON

example:
  zipit inspect packages/arch-resnet/fixtures/resnet20_w0.25_bn_opset13.onnx`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, quiet: { type: 'boolean' } } }),
    );
    if (positionals.length !== 1) throw new UsageError(`expected one MODEL, got ${positionals.length} paths`);
    const [file] = positionals;
    const graph = inlineParameters((await readModelFile(file)).graph);
    const result = inspectGraph(graph, file, plugins.architectures, plugins.operators);
    if (values.json) io.out(JSON.stringify(result, null, 2));
    else for (const line of formatInspection(result)) io.out(line);
    return 0;
  },
};
