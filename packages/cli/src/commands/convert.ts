import { formatForWrite, type Graph } from '@zipit/core';
import { decodeSafetensors } from '@zipit/io-safetensors';
import { parseArgs, UsageError, usageErrors, type Command } from '../command.js';
import { checkPaths, readInput, writeOutputs } from '../files.js';
import { readModelFile } from '../model-files.js';
import { plugins } from '../plugins.js';

function countParameters(graph: Graph): number {
  let n = 0;
  for (const t of graph.initializers.values()) n += t.data.length;
  return n;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'read a model and write it in another (or the same) format: ONNX, safetensors',
  help: `usage: zipit convert IN OUT [--structure S.onnx] [--model NAME] [--like STATE.safetensors] [--quiet]

Reads IN into zipit's graph IR and writes it to OUT. IN's format is recognised from its content
(then its extension), OUT's from its extension: .onnx (graph and weights) or .safetensors
(weights only, e.g. a PyTorch state_dict). For ONNX → ONNX the result runs in
onnxruntime with identical outputs: weights are copied bit for bit, and every field of the file
(metadata, doc strings, local functions, …) is kept. External tensor data next to IN is read and
written inline into OUT. OUT is written through a temporary file, so it is never left half-written.

Reads ONNX IR versions 6–10 with ai.onnx opsets 11–21 (ai.onnx.ml and com.microsoft imports allowed).

A safetensors IN holds weights only: --structure names an ONNX export of the same module whose
initializers carry the state_dict's names (export with training=TrainingMode.PRESERVE and
do_constant_folding=False); the weights replace them by name.

options:
  --structure S.onnx           the graph a weights-only IN belongs to
  --model NAME                 writing a merged model as safetensors: the model whose head (and
                               per-model layers) to write under the original names
  --like STATE.safetensors     writing safetensors: the original state_dict, whose keys and order
                               OUT takes (so PyTorch's strict load_state_dict accepts it)
  --quiet                      print nothing on success

example:
  zipit convert packages/io-onnx/fixtures/resnet_block_opset17.onnx /tmp/resnet_block.onnx
  zipit convert merged.onnx merged_a.safetensors --model a --like a.safetensors`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: { quiet: { type: 'boolean' }, structure: { type: 'string' }, model: { type: 'string' }, like: { type: 'string' } },
      }),
    );
    if (positionals.length !== 2) throw new UsageError(`expected IN and OUT, got ${positionals.length} path${positionals.length === 1 ? '' : 's'}`);
    const [input, output] = positionals;
    const writer = formatForWrite(plugins.formats, output);
    const extra = [
      ...(values.structure ? [{ label: '--structure', path: values.structure }] : []),
      ...(values.like ? [{ label: '--like', path: values.like }] : []),
    ];
    await checkPaths({ inputs: [{ label: 'IN', path: input }, ...extra], outputs: [{ label: 'OUT', path: output }] });
    const structure = values.structure ? (await readModelFile(values.structure)).graph : undefined;
    const { graph } = await readModelFile(input, { structure });
    const template = values.like ? decodeSafetensors(await readInput(values.like), values.like).tensors : undefined;
    await writeOutputs([{ path: output, bytes: writer.write(graph, { file: output, model: values.model, template }) }], io.signal);
    if (!values.quiet) {
      const opsets = graph.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
      io.out(
        `read ${input}: IR ${graph.irVersion}, opset ${opsets}, ${graph.nodes.length} nodes, ${graph.initializers.size} initializers (${countParameters(graph)} values)`,
      );
      io.out(`wrote ${output}`);
    }
    return 0;
  },
};
