/**
 * Long fuzz run of the ONNX reader (the CI test runs a few thousand cases; this runs as many as asked).
 *
 *   node --conditions=@zipit/source --import tsx packages/io-onnx/scripts/fuzz.ts [--cases 100000] [--seed 1] [--file model.onnx ...]
 *
 * Every case mutates one seed model (all fixtures by default) with a seeded corruption and reads it;
 * it must end in a typed ZipitError or a valid, stably re-writable graph. On a crash it prints the
 * file, seed and mutation so the case can be replayed, and exits 1.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fuzzOnce, mutate } from './mutate.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    file: { type: 'string', multiple: true },
  },
});
const cases = Number(values.cases);
const firstSeed = Number(values.seed);
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const files =
  values.file ??
  readdirSync(fixtures)
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((f) => join(fixtures, f));
const models = files.map((f) => ({ file: f, bytes: readFileSync(f) }));

const outcomes = new Map<string, number>();
let slowest = { ms: 0, seed: 0 };
const start = performance.now();
for (let i = 0; i < cases; i++) {
  const seed = firstSeed + i;
  const model = models[i % models.length];
  const { kind, bytes } = mutate(model.bytes, seed);
  const t0 = performance.now();
  try {
    const outcome = fuzzOnce(bytes);
    const key = `${kind} → ${outcome.ok ? 'parsed' : outcome.code}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  } catch (e) {
    console.error(`CRASH: file ${model.file}, seed ${seed}, mutation ${kind}\n${(e as Error).stack}`);
    process.exit(1);
  }
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { ms, seed };
  if ((i + 1) % 20000 === 0) console.error(`${i + 1}/${cases} cases…`);
}
const seconds = (performance.now() - start) / 1000;
for (const [k, n] of [...outcomes].sort()) console.log(`${k.padEnd(32)} ${n}`);
console.log(
  `${cases} cases over ${models.length} seed models in ${seconds.toFixed(1)} s (${Math.round(cases / seconds)}/s); no crash; slowest case ${slowest.ms.toFixed(1)} ms (seed ${slowest.seed})`,
);
