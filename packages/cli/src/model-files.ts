import { readModel, type Graph, type ModelFormat, type ReadOptions } from '@zipit/core';
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
