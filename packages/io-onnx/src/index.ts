export { readOnnx, readOnnxFile, type ReadOnnxOptions } from './read.js';
export { writeOnnx, writeOnnxFile } from './write.js';
export { ACCEPTED_EXTRA_DOMAINS, SUPPORTED_IR_VERSIONS, SUPPORTED_OPSETS, describeSupport } from './support.js';
export type * from './extras.js';
export { isOpaqueOnnxAttribute, onnxExtras } from './extras.js';
export * from './runtime/index.js';
