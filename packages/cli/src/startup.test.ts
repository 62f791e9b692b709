import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commands } from './commands/index.js';
import { REPO_ROOT, runCliInProcess } from './testing/run-cli.js';

const MAIN = join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts');

/**
 * A module resolve hook that refuses the heavy dependencies (onnxruntime, sharp, the pipeline):
 * a process run under it fails as soon as anything imports one of them.
 */
const REFUSE = `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (/onnxruntime|[\\/@]sharp[@\\/]|packages\\/pipeline\\//.test(r.url)) throw new Error('refused to load ' + r.url);
  return r;
}`;
const REGISTER = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(REFUSE)}));`;

/** `zipit <args>` in a child process whose module loader refuses onnxruntime, sharp and @zipit/pipeline. */
function zipitWithoutHeavyModules(args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=@zipit/source', '--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, MAIN, ...args],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('zipit start-up: command modules load lazily', () => {
  it('`zipit --help` lists every command without importing onnxruntime, sharp or the pipeline', () => {
    const r = zipitWithoutHeavyModules(['--help']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const c of commands) expect(r.stdout).toContain(`  ${c.name}`);
    // The hook bites: a command whose module imports the pipeline cannot even print its help under it.
    const inspect = zipitWithoutHeavyModules(['inspect', '--help']);
    expect(inspect.code).toBe(3);
    expect(inspect.stderr).toMatch(/^zipit inspect: internal error: .*refused to load .*pipeline/);
  });

  it('the command table agrees with the command modules (name and summary)', async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect(command.name).toBe(entry.name);
      expect(command.summary, entry.name).toBe(entry.summary);
    }
  });

  it('`zipit CMD --help` loads the command and prints its help; an unknown command lists the others', async () => {
    const help = await runCliInProcess(['merge', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: zipit merge /);
    const unknown = await runCliInProcess(['mrege']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`zipit: unknown command "mrege" (commands: ${commands.map((c) => c.name).join(', ')})\n`);
  });
});
