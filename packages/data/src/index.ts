export * from './builtin.js';
export * from './builtin-dataset.js';
export * from './dataset.js';
export * from './input-shape.js';
export { ImageJsonDecoder, readJsonImages } from './json-images.js';
export * from './npy-dataset.js';
export * from './open.js';
export * from './preprocess.js';
export * from './spec.js';
