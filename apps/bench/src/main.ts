/**
 * Benchmark runner: `pnpm bench <name> [args]`. Each benchmark prints its figures and their
 * ratio to a baseline measured in the same run (machines here are noisy; absolute seconds
 * mean little on their own).
 */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  match: () => import('./match-bench.js'),
  merge: () => import('./merge-bench.js'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join('|')}> [args]`);
  process.exitCode = 2;
} else {
  await (await load()).run(args);
}
