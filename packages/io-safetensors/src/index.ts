/** safetensors ⇄ graph IR, pure (no file system): PyTorch state_dicts onto a structure graph, merged weights back under the original names. */
export { decodeSafetensors, encodeSafetensors, sniffSafetensors, type Safetensors } from './safetensors-codec.js';
export { safetensorsFormat, type SafetensorsReadOptions, type SafetensorsWriteOptions } from './safetensors-format.js';
export {
  loadStateDict,
  toStateDict,
  type LoadStateDictOptions,
  type StateDictLoad,
  type StateDictSave,
  type ToStateDictOptions,
} from './state-dict.js';
