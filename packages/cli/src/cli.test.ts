import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './testing/run-cli.js';

const MAIN = join(REPO_ROOT, 'packages', 'cli', 'src', 'main.ts');
const MODEL = join(REPO_ROOT, 'packages', 'io-onnx', 'fixtures', 'cnn_bn_opset17.onnx');
const zipit = `'${process.execPath}' --conditions=@zipit/source --import tsx '${MAIN}'`;

/** Runs a shell pipeline from the repository root; `PIPESTATUS[0]` is zipit's exit code. */
function shell(script: string) {
  const r = spawnSync('bash', ['-c', `${script}; echo "rc=\${PIPESTATUS[0]}" >&2`], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  const rc = Number(/rc=(\d+)\s*$/.exec(r.stderr)?.[1]);
  return { rc, stdout: r.stdout, stderr: r.stderr.replace(/rc=\d+\s*$/, '') };
}

describe('standard output failures in a real process', () => {
  it('a reader that stops early (| head -1) is not an error: exit 0, no stack trace', () => {
    const r = shell(`${zipit} inspect '${MODEL}' | head -1`);
    expect(r.stdout).toMatch(/^model: /);
    expect(r.rc).toBe(0);
    expect(r.stderr).toBe('');
  });

  it.runIf(existsSync('/dev/full'))('a full stdout (> /dev/full) is exit 1 with one line', () => {
    const r = shell(`${zipit} inspect '${MODEL}' > /dev/full`);
    expect(r.rc).toBe(1);
    expect(r.stderr).toBe('zipit inspect: cannot write to standard output (ENOSPC)\n');
  });
});
