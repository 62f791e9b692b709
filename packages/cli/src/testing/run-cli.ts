import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run the CLI exactly as `pnpm zipit` does). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `zipit <args>` in a child process from the repository root. */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--conditions=@zipit/source', '--import', 'tsx', join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts'), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `zipit <args>` inside this process (no child process, no tsx start-up: fast enough for
 * generated suites of hundreds of cases). Same exit codes and stderr lines as the executable;
 * relative paths resolve against `process.cwd()`. `signal` stands in for Ctrl-C.
 */
export async function runCliInProcess(args: string[], opts: { signal?: AbortSignal } = {}): Promise<CliResult> {
  const { runZipit } = await import('../cli.js');
  const { Writable } = await import('node:stream');
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  };
  const out = sink();
  const err = sink();
  const code = await runZipit(args, { stdout: out.stream, stderr: err.stream, stderrIsTTY: false, signal: opts.signal });
  return { code, stdout: out.text(), stderr: err.text() };
}
