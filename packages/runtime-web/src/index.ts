/** The onnxruntime-web executor plugin (WebAssembly): ZipIt's passes in a browser. */
export { registerWeb, webExecutor, webThreads } from './web-executor.js';
