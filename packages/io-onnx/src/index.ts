/** ONNX ⇄ graph IR, pure (no file system, no native code): bundles for browsers. Files on disk: `@zipit/io-onnx/node`. */
export { readOnnx, type ReadOnnxOptions } from './read.js';
export { writeOnnx } from './write.js';
export { validateGraph } from './validate-graph.js';
export { onnxFormat, sniffOnnx } from './onnx-format.js';
export { noExternalData, type ExternalDataSource } from './external-data.js';
export { ACCEPTED_EXTRA_DOMAINS, SUPPORTED_IR_VERSIONS, SUPPORTED_OPSETS, describeSupport } from './support.js';
export type * from './extras.js';
export { isOpaqueOnnxAttribute, onnxExtras } from './extras.js';
export type { StringStringEntryMsg } from './schema/types.js';
