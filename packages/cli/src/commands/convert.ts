import { extname } from 'node:path';
import { UnsupportedError, type Graph } from '@zipit/core';
import { writeOnnx } from '@zipit/io-onnx';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { parseArgs, UsageError, usageErrors, type Command } from '../command.js';
import { checkPaths, writeOutputs } from '../files.js';

/**
 * Model formats convert can read and encode, by file extension. More arrive with more io
 * plugins. Writing goes through the CLI's one write path (checked up front, temporary file,
 * rename after success).
 */
const FORMATS: Record<string, { read(path: string): Promise<Graph>; encode(graph: Graph, path: string): Uint8Array }> = {
  '.onnx': { read: readOnnxFile, encode: (graph, file) => writeOnnx(graph, { file }) },
};

function formatOf(path: string) {
  const format = FORMATS[extname(path).toLowerCase()];
  if (!format) {
    throw new UnsupportedError(`unknown model format "${extname(path) || '(no extension)'}"; supported: ${Object.keys(FORMATS).join(', ')}`, { file: path });
  }
  return format;
}

function countParameters(graph: Graph): number {
  let n = 0;
  for (const t of graph.initializers.values()) n += t.data.length;
  return n;
}

export const convertCommand: Command = {
  name: 'convert',
  summary: 'read a model and write it back (ONNX → ONNX round trip; more formats as io plugins arrive)',
  help: `usage: zipit convert IN.onnx OUT.onnx [--quiet]

Reads IN into zipit's graph IR and writes it to OUT. For ONNX → ONNX the result runs in
onnxruntime with identical outputs: weights are copied bit for bit, and every field of the file
(metadata, doc strings, local functions, …) is kept. External tensor data next to IN is read and
written inline into OUT. OUT is written through a temporary file, so it is never left half-written.

Reads ONNX IR versions 6–10 with ai.onnx opsets 11–21 (ai.onnx.ml and com.microsoft imports allowed).

options:
  --quiet     print nothing on success

example:
  zipit convert packages/io-onnx/fixtures/resnet_block_opset17.onnx /tmp/resnet_block.onnx`,

  async run(argv, io) {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, options: { quiet: { type: 'boolean' } } }),
    );
    if (positionals.length !== 2) throw new UsageError(`expected IN and OUT, got ${positionals.length} path${positionals.length === 1 ? '' : 's'}`);
    const [input, output] = positionals;
    const reader = formatOf(input);
    const writer = formatOf(output);
    await checkPaths({ inputs: [{ label: 'IN', path: input }], outputs: [{ label: 'OUT', path: output }] });
    const graph = await reader.read(input);
    await writeOutputs([{ path: output, bytes: writer.encode(graph, output) }], io.signal);
    if (!values.quiet) {
      const opsets = graph.opsetImports.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ');
      io.out(`read ${input}: IR ${graph.irVersion}, opset ${opsets}, ${graph.nodes.length} nodes, ${graph.initializers.size} initializers (${countParameters(graph)} values)`);
      io.out(`wrote ${output}`);
    }
    return 0;
  },
};
