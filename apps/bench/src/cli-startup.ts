/**
 * Start-up benchmark of the `zipit` executable: how much does `zipit --help` cost over starting
 * Node itself?
 *
 *   pnpm --filter @zipit/bench bench:cli-startup [--runs N]
 *
 * (the script builds @zipit/cli and its dependencies first; turbo caches). In the same run, with
 * the runs interleaved so that machine load hits both alike, it times wall-clock seconds of:
 * (a) `node -e 0` — the floor;
 * (b) `node packages/cli/dist/main.js --help` — the built executable (what `pnpm zipit` and the
 *     installed `zipit` bin run); must be within 0.3 s of (a), median against median;
 * (c) `node --import tsx packages/cli/src/main.ts --help` — the TypeScript sources through tsx,
 *     as `pnpm zipit` ran before the CLI was built (a few runs, for comparison only).
 * Prints min and median of each and the overhead (b) − (a); exits 1 when it is 0.3 s or more.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DIST_MAIN = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const SRC_MAIN = join(ROOT, 'packages', 'cli', 'src', 'main.ts');
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 15;
const TSX_RUNS = Math.max(1, Math.min(5, RUNS));
/** Most `zipit --help` may add to `node -e 0` (seconds). */
const BUDGET_S = 0.3;

if (!existsSync(DIST_MAIN)) {
  console.error(`cli-startup: ${DIST_MAIN} is missing; run \`pnpm build\` (or this benchmark through its pnpm script, which builds first)`);
  process.exit(1);
}

/** Wall-clock seconds of one run of `node args` from the repository root; fails on a non-zero exit. */
function time(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const floor: number[] = [];
const built: number[] = [];
const viaTsx: number[] = [];
time(['-e', '0']);
time([DIST_MAIN, '--help']);
for (let i = 0; i < RUNS; i++) {
  floor.push(time(['-e', '0']));
  built.push(time([DIST_MAIN, '--help']));
  if (i < TSX_RUNS) viaTsx.push(time(['--conditions=@zipit/source', '--import', 'tsx', SRC_MAIN, '--help']));
}

const row = (label: string, xs: number[]) =>
  `${label.padEnd(52)} ${String(xs.length).padStart(4)}  ${Math.min(...xs)
    .toFixed(3)
    .padStart(7)}  ${median(xs).toFixed(3).padStart(7)}`;
const overhead = median(built) - median(floor);
console.log(`zipit start-up (wall-clock seconds, runs interleaved; ${RUNS} runs, ${TSX_RUNS} through tsx)`);
console.log(`${'command'.padEnd(52)} runs      min   median`);
console.log(row('node -e 0', floor));
console.log(row('node packages/cli/dist/main.js --help', built));
console.log(row('node --import tsx packages/cli/src/main.ts --help', viaTsx));
console.log(
  `overhead of zipit --help over node -e 0 (medians): ${overhead.toFixed(3)} s (budget ${BUDGET_S} s); min vs min: ${(Math.min(...built) - Math.min(...floor)).toFixed(3)} s`,
);
if (overhead >= BUDGET_S) {
  console.error(`cli-startup: zipit --help adds ${overhead.toFixed(3)} s to node -e 0, over the ${BUDGET_S} s budget`);
  process.exit(1);
}
