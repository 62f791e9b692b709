export * from './assemble-merge-graph.js';
export * from './define-architecture.js';
export * from './layout-reader.js';
