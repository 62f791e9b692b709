import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Test-only access to the golden vectors of the reference ZipIt! implementation
 * (`fixtures/golden/` at the repository root, copied from the project's shared folder; see its
 * README). Not exported from the package.
 */
export const GOLDEN_DIR = findGolden();

function findGolden(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const cand = join(dir, 'fixtures', 'golden');
    if (existsSync(join(cand, 'index.json'))) return resolve(cand);
    dir = dirname(dir);
  }
  throw new Error('golden vectors not found: expected fixtures/golden/index.json in the repository');
}

export interface GoldenCase {
  case: string;
  file: string;
  function: string;
  num_models: number;
  channels_per_model: number;
  params?: { a: number; b: number };
}

export interface GoldenMatch extends GoldenCase {
  covariance: number[][];
  correlation: number[][];
  merge: number[][];
  unmerge: number[][];
  groups?: number[][];
}

export function goldenIndex(): GoldenCase[] {
  return (JSON.parse(readFileSync(join(GOLDEN_DIR, 'index.json'), 'utf8')) as { cases: GoldenCase[] }).cases;
}

export function goldenFile<T>(file: string): T {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, file), 'utf8')) as T;
}

export function flat32(m: number[][]): Float32Array {
  return Float32Array.from(m.flat());
}
