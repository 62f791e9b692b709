import { formatForWrite, readModel, type Graph, type ModelFormat, type ReadOptions, type WriteOptions } from '@zipit/core';
import { readInput } from './files.js';
import { plugins } from './plugins.js';

/**
 * Reads a model file in whichever registered format recognises it (content first, then the
 * extension; see `detectFormat`): the graph and the format. Weights-only formats (safetensors)
 * need `opts.structure`.
 */
export async function readModelFile(file: string, opts: ReadOptions = {}): Promise<{ graph: Graph; format: ModelFormat }> {
  return readModel(plugins.formats, file, await readInput(file), opts);
}

/**
 * The format a command writes a model in: the registered format whose extension `file` has, or
 * ONNX for any other name (merge has always written ONNX whatever `--out` is called).
 */
export function outputFormat(file: string): ModelFormat & { write(graph: Graph, opts?: WriteOptions): Uint8Array } {
  const named = plugins.formats.list().some((f) => f.extensions.some((e) => file.toLowerCase().endsWith(e)));
  return formatForWrite(plugins.formats, named ? file : `${file}.onnx`);
}
