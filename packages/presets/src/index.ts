/** The plugins that ship with zipit, registered into fresh registries (Node: the ONNX format reads external data from disk, the executor is onnxruntime-node). */
export { builtinArchitectures, builtinExecutors, builtinFormats, builtinPlugins, type Plugins } from './builtin.js';
