/**
 * Matcher benchmark (issue: foundation). Prints, per size n (features per model, 2 models):
 *   - zipit: our matcher vs a straightforward port of the reference loop (argmax of the whole
 *     matrix and a full copy per step), both run here in the same process, and their ratio;
 *     the port runs only while its predicted time stays under ~1 minute (it is O(n³));
 *   - the linear sum assignment (permute) time for n = 256 … 2048.
 * Both matchers must agree; the benchmark checks it on every size where the port ran.
 * Run: pnpm bench match   (or: node --conditions=@zipit/source --import tsx apps/bench/src/main.ts match)
 */
import { linearSumAssignment, zipitMatch, zipitMatcher, zipitMatchReferencePort } from '@zipit/core';
import { mulberry32, syntheticCovariance } from './synthetic-covariance.js';

const PORT_BUDGET_S = 60;

function time<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

function groupsFromUnmerge(unmerge: Float32Array, o: number, c: number): Int32Array {
  const g = new Int32Array(o);
  for (let r = 0; r < o; r++) for (let j = 0; j < c; j++) if (unmerge[r * c + j] === 1) g[r] = j;
  return g;
}

export async function run(args: string[]): Promise<void> {
  const sizes = args.length ? args.map(Number) : [64, 128, 256, 512, 1024, 2048];
  const { alpha: a, beta: b } = zipitMatcher.defaults;
  console.log(`zipit matcher, 2 models, alpha ${a}, beta ${b} (the defaults; seconds; ratio = port / ours)`);
  console.log('n/model  ours      port      ratio');
  let lastPort = 0;
  let lastN = 0;
  for (const n of sizes) {
    const cov = syntheticCovariance(n, 2, n);
    zipitMatch(cov, 2, a, b); // warm-up (JIT)
    let best = Infinity;
    let res: ReturnType<typeof zipitMatch> | undefined;
    for (let rep = 0; rep < (n <= 1024 ? 5 : 3); rep++) {
      const [r, t] = time(() => zipitMatch(cov, 2, a, b));
      res = r;
      best = Math.min(best, t);
    }
    const predicted = lastPort * (lastN ? (n / lastN) ** 3 : 0);
    let portCol = 'skipped';
    let ratioCol = '';
    if (predicted < PORT_BUDGET_S) {
      const [ref, t] = time(() => zipitMatchReferencePort(cov, 2, a, b));
      const ours = groupsFromUnmerge(res!.unmerge, 2 * n, n);
      if (ours.some((g, i) => g !== ref[i])) throw new Error(`n=${n}: fast matcher and reference port disagree`);
      lastPort = t;
      lastN = n;
      portCol = t.toFixed(3).padEnd(9);
      ratioCol = `${(t / best).toFixed(0)}×`;
    } else {
      portCol = `skipped (predicted ${predicted.toFixed(0)} s > ${PORT_BUDGET_S} s)`;
    }
    console.log(`${String(n).padEnd(8)} ${best.toFixed(4).padEnd(9)} ${portCol} ${ratioCol}`);
  }

  console.log('\nlinear sum assignment (permute), n × n correlation-like matrix (seconds)');
  console.log('n        lap');
  for (const n of [256, 512, 1024, 2048]) {
    const cov = syntheticCovariance(n, 2, 7 * n);
    const block = new Float32Array(n * n);
    const o = 2 * n;
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) block[r * n + c] = cov[r * o + n + c] / Math.sqrt(cov[r * o + r] * cov[(n + c) * o + n + c]);
    const rnd = mulberry32(n);
    for (let k = 0; k < block.length; k++) block[k] += 1e-6 * rnd();
    const [, t] = time(() => linearSumAssignment(block, n, true));
    console.log(`${String(n).padEnd(8)} ${t.toFixed(3)}`);
  }
}
