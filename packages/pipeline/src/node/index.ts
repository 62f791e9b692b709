export * from './report-assets.js';
