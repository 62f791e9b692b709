export * from './errors.js';
export * from './registry.js';
export * from './tensor/tensor.js';
export * from './graph/graph.js';
export * from './stats/correlation.js';
export * from './stats/feature-stats.js';
export * from './stats/stats-file.js';
