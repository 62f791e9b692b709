export * from './merge-graph.js';
export * from './derive.js';
export * from './naming.js';
export * from './zip.js';
export * from './architecture.js';
export * from './match-points.js';
export * from './permute-model.js';
export * from './same-structure.js';
