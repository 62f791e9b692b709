import { UnsupportedError, type Graph, type ModelFormat, type ReadOptions, type Tensor, type WriteOptions } from '@zipit/core';
import { decodeSafetensors, encodeSafetensors, sniffSafetensors } from './safetensors-codec.js';
import { loadStateDict, toStateDict } from './state-dict.js';

/** Options of {@link safetensorsFormat}'s `read`, beyond `file` and `structure`. */
export interface SafetensorsReadOptions extends ReadOptions {
  /** Refuse structure parameters the checkpoint does not name (default true); see `loadStateDict`. */
  strict?: boolean;
}

/** Options of {@link safetensorsFormat}'s `write`, beyond `file` and `model`. */
export interface SafetensorsWriteOptions extends WriteOptions {
  /** The original state_dict: its keys and order, buffers the graph does not hold (see `toStateDict`). */
  template?: ReadonlyMap<string, Tensor>;
}

/**
 * The safetensors format plugin (pure; weights only). `read` needs `structure`: a graph of the
 * same module whose initializers carry the state_dict's names (an ONNX export with parameter
 * names kept, or an architecture plugin's reference model); the checkpoint's tensors replace
 * them by name. `write` stores the graph's initializers under their names: for a merged graph
 * with task heads give `model` (that model's view, under the original names) and, to match a
 * module's state_dict key for key, `template` (see `toStateDict`).
 */
export const safetensorsFormat: ModelFormat = {
  name: 'safetensors',
  description: 'safetensors (e.g. a PyTorch state_dict): weights only, read onto a structure graph',
  extensions: ['.safetensors'],
  capabilities: { graph: false, write: true },
  sniff: sniffSafetensors,
  read(bytes: Uint8Array, opts: SafetensorsReadOptions = {}): Graph {
    const { tensors } = decodeSafetensors(bytes, opts.file);
    if (!opts.structure) {
      throw new UnsupportedError('a safetensors file holds weights only; reading it needs the structure they belong to', {
        file: opts.file,
        hint: 'pass an ONNX export of the same module (exported with parameter names kept) as the structure',
      });
    }
    return loadStateDict(opts.structure, tensors, { file: opts.file, strict: opts.strict }).graph;
  },
  write(graph: Graph, opts: SafetensorsWriteOptions = {}): Uint8Array {
    return encodeSafetensors(toStateDict(graph, { model: opts.model, template: opts.template }).tensors);
  },
};
