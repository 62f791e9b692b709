import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliInProcess } from '../testing/run-cli.js';

const FIXTURE = join(REPO_ROOT, 'packages', 'io-onnx', 'fixtures', 'mlp_view_opset17.onnx');

describe('zipit convert', () => {
  it('round-trips a PyTorch-exported ONNX file byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-convert-'));
    const out = join(dir, 'out.onnx');
    const r = await runCliInProcess(['convert', FIXTURE, out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('IR 8, opset ai.onnx 17, 11 nodes, 4 initializers');
    expect(readFileSync(out).equals(readFileSync(FIXTURE))).toBe(true);
    expect(readdirSync(dir)).toEqual(['out.onnx']);
  });

  it('bad input: exit 1, one line naming the file, no output file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-convert-'));
    const text = join(dir, 'notes.onnx');
    writeFileSync(text, 'not a model\n');
    const out = join(dir, 'out.onnx');
    const r = await runCliInProcess(['convert', text, out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${text}: not a valid ONNX model`);
    expect(r.stderr).toContain('text file');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(['notes.onnx']);
  });

  it('usage errors exit 2; --help shows an example', async () => {
    expect((await runCliInProcess(['convert', FIXTURE])).code).toBe(2);
    const help = await runCliInProcess(['convert', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/example:\n\s+zipit convert \S+\.onnx \S+\.onnx/);
  });
});
