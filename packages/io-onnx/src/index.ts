export { readOnnx, readOnnxFile, type ReadOnnxOptions } from './read.js';
export { writeOnnx, writeOnnxFile } from './write.js';
export * from './runtime/index.js';
