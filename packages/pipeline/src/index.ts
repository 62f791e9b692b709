export * from './fingerprint.js';
export * from './merge-models.js';
export * from './evaluate-tasks.js';
export * from './report.js';
export * from './stats-io.js';
export * from './passes/index.js';
