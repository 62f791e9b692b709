/** The onnxruntime-node executor plugin: sessions over core graphs and tensor conversion. The passes over data live in @zipit/pipeline. */
export { ortExecutor, registerOrt } from './ort-executor.js';
export { ModelSession, defaultThreads, ortError, type SessionOptions } from './session.js';
