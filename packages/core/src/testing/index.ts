/**
 * `@zipit/core/testing`: seeded test models for this repository's tests and for plugin authors'
 * own tests. Not part of the main entry, so nothing here ships in a production import. (The
 * golden-vector loader, `golden.ts`, reads repository fixtures and stays internal.)
 */
export * from './models.js';
export * from './shape-arithmetic.js';
