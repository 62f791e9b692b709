export * from './errors.js';
export * from './registry.js';
export * from './tensor/tensor.js';
export * from './graph/graph.js';
