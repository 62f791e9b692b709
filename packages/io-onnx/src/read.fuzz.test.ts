import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzOnce, mutate } from '../scripts/mutate.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const CASES_PER_SEED_FILE = 800;

/**
 * Mutated and truncated models must never crash or hang the reader: every case ends in a typed
 * ZipitError or a valid graph (which must then write and re-read stably). A longer run:
 * `node --conditions=@zipit/source --import tsx packages/io-onnx/scripts/fuzz.ts --cases 200000`.
 */
describe('fuzzing the reader', () => {
  it.each(['cnn_bn_opset17.onnx', 'mlp_view_opset13.onnx', 'schema_ir8.onnx'])(`${CASES_PER_SEED_FILE} mutations of %s: typed error or valid parse`, (file) => {
    const seedBytes = readFileSync(join(FIXTURES, file));
    const codes = new Map<string, number>();
    for (let seed = 1; seed <= CASES_PER_SEED_FILE; seed++) {
      const { kind, bytes } = mutate(seedBytes, seed);
      let outcome: ReturnType<typeof fuzzOnce>;
      try {
        outcome = fuzzOnce(bytes);
      } catch (e) {
        throw new Error(`seed ${seed} (${kind}) of ${file} crashed the reader: ${(e as Error).stack}`);
      }
      const key = outcome.ok ? 'parsed' : outcome.code;
      codes.set(key, (codes.get(key) ?? 0) + 1);
    }
    expect([...codes.values()].reduce((a, b) => a + b, 0)).toBe(CASES_PER_SEED_FILE);
    expect(codes.get('E_FORMAT')).toBeGreaterThan(0);
    expect(codes.get('parsed')).toBeGreaterThan(0);
  });
});
