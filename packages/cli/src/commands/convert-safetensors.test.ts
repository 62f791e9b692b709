import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCliInProcess } from '../testing/run-cli.js';

const FIXTURES = join(REPO_ROOT, 'packages', 'io-safetensors', 'fixtures');
const f = (name: string) => join(FIXTURES, name);

describe('zipit convert with safetensors', () => {
  it('writes one model of a merged ONNX file as the PyTorch state_dict the fixtures hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-convert-st-'));
    const out = join(dir, 'merged_a.safetensors');
    const r = await runCliInProcess(['convert', f('merged.onnx'), out, '--model', 'a', '--like', f('a.safetensors'), '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(out).equals(readFileSync(f('merged_a.safetensors')))).toBe(true);
  });

  it('reads a state_dict onto its structure and writes ONNX; without the structure or the model it says what to give', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-convert-st-'));
    const out = join(dir, 'a.onnx');
    expect((await runCliInProcess(['convert', f('a.safetensors'), out, '--structure', f('structure.onnx'), '--quiet'])).code).toBe(0);
    const back = join(dir, 'a.safetensors');
    expect((await runCliInProcess(['convert', out, back, '--like', f('a.safetensors'), '--quiet'])).code).toBe(0);
    expect(readFileSync(back).equals(readFileSync(f('a.safetensors')))).toBe(true);

    const noStructure = await runCliInProcess(['convert', f('a.safetensors'), join(dir, 'x.onnx')]);
    expect(noStructure.code).toBe(1);
    expect(noStructure.stderr).toMatch(/a\.safetensors: a safetensors file holds weights only/);
    const noModel = await runCliInProcess(['convert', f('merged.onnx'), join(dir, 'y.safetensors')]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/per-model parameters for a, b/);
    expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'a.safetensors']);
  });

  it('merge refuses a weights-only --out before any work, pointing to convert --model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-convert-st-'));
    const r = await runCliInProcess(['merge', f('structure.onnx'), f('merged.onnx'), '--data', f('x.npy'), '--out', join(dir, 'm.safetensors')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/m\.safetensors: the safetensors format holds weights only.*zipit convert MERGED\.onnx OUT\.safetensors --model NAME/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
