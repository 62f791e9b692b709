import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { writeOnnxFile } from '@zipit/io-onnx/node';
import { runCliInProcess } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'zipit-merge-'));
const a = join(dir, 'a.onnx');
const b = join(dir, 'b.onnx');
const c = join(dir, 'c.onnx');
const wide = join(dir, 'wide.onnx');
const data = ['--data', 'mnist:0-4', '--data', 'mnist:5-9', '--samples', '64'];

beforeAll(async () => {
  await writeOnnxFile(buildSmallCnn({ seed: 1, imageSize: 32, classes: [5] }), a);
  await writeOnnxFile(buildSmallCnn({ seed: 2, imageSize: 32, classes: [5] }), b);
  await writeOnnxFile(buildSmallCnn({ seed: 3, imageSize: 32, classes: [5] }), c);
  await writeOnnxFile(buildSmallCnn({ seed: 4, imageSize: 32, classes: [5], width: 12 }), wide);
});

describe('zipit merge / eval / stats / sweep', () => {
  it('merge writes the model and a JSON report whose merged accuracy zipit eval reproduces', async () => {
    const out = join(dir, 'merged.onnx');
    const report = join(dir, 'report.json');
    const r = await runCliInProcess(['merge', a, b, ...data, '--method', 'zipit', '--out', out, '--report', report, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.tasks).toEqual(['a', 'b']);
    expect(rep.mergePoints.length).toBeGreaterThan(0);
    expect(rep.batchNorm.reset.length).toBeGreaterThan(0);
    const merged = rep.accuracy.find((x: { model: string }) => x.model.startsWith('merged'));
    const e = await runCliInProcess(['eval', out, '--task', 'a=mnist:0-4', '--task', 'b=mnist:5-9', '--json']);
    expect(e.code).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect([ev.perTask.a, ev.perTask.b]).toEqual(merged.perTask);
    expect(ev.joint).toBe(merged.joint);
    expect(ev.average).toBe(merged.average);
  });

  it('stats then merge --stats-in gives the same model as one merge, and sweep reads the same statistics', async () => {
    const stats = join(dir, 'ab.zstats');
    expect((await runCliInProcess(['stats', a, b, ...data, '--out', stats, '--quiet'])).code).toBe(0);
    const one = join(dir, 'one.onnx');
    const two = join(dir, 'two.onnx');
    expect((await runCliInProcess(['merge', a, b, ...data, '--out', one, '--no-eval', '--quiet'])).code).toBe(0);
    expect((await runCliInProcess(['merge', a, b, ...data, '--stats-in', stats, '--out', two, '--no-eval', '--quiet'])).code).toBe(0);
    expect(readFileSync(two)).toEqual(readFileSync(one));
    const s = await runCliInProcess(['sweep', a, b, '--stats-in', stats, ...data, '--methods', 'zipit,average', '--stop-at', 'all,none', '--json']);
    expect(s.stderr).toBe('');
    const rows = JSON.parse(s.stdout);
    expect(rows.map((x: { method: string; stop: string }) => `${x.method}@${x.stop}`)).toEqual([
      'zipit@heads.0:in',
      'zipit@none',
      'average@heads.0:in',
      'average@none',
    ]);
    // Nothing zipped is the ensemble whatever the matcher.
    expect(rows[1].joint).toBe(rows[3].joint);
  });

  it('merges with .npy merge data (no evaluation then) and models with two outputs', async () => {
    const out = join(dir, 'npy-merged.onnx');
    const x = npyImages('merge-x.npy', [16, 3, 32, 32]);
    const r = await runCliInProcess(['merge', a, b, '--data', x, '--data', x, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/no evaluation: it needs one built-in --data spec per model/);
    expect(existsSync(out)).toBe(true);
    const two = [join(dir, 'two0.onnx'), join(dir, 'two1.onnx')];
    await writeOnnxFile(buildSmallCnn({ seed: 5, imageSize: 32, classes: [5, 5] }), two[0]);
    await writeOnnxFile(buildSmallCnn({ seed: 6, imageSize: 32, classes: [5, 5] }), two[1]);
    const m = await runCliInProcess(['merge', ...two, ...data, '--out', join(dir, 'two-merged.onnx'), '--quiet']);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
  });

  it('an option value that is not a number is bad input (exit 1), an unknown flag a usage error (exit 2)', async () => {
    const bad = await runCliInProcess(['merge', a, b, ...data, '--alpha', 'abc', '--out', join(dir, 'x.onnx')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--alpha expects a number, got "abc"/);
    expect((await runCliInProcess(['merge', a, b, ...data, '--alhpa', '1', '--out', join(dir, 'x.onnx')])).code).toBe(2);
  });

  describe('bad input: one line naming the problem, exit 1, no output file', () => {
    const cases: [string, () => string[], RegExp][] = [
      ['different widths', () => ['merge', a, wide, ...data], /a\.onnx and .*wide\.onnx are not the same architecture: parameter .* has shape/],
      [
        'data that does not fit the input',
        () => ['merge', a, b, '--data', npyImages('small.npy', [4, 3, 16, 16]), '--data', 'mnist:5-9'],
        /samples of shape \[3, 16, 16\] but model input "input" is/,
      ],
      ['NaN images', () => ['merge', a, b, '--data', npyImages('nan.npy', [4, 3, 32, 32], true)], /NaN/],
      ['statistics for other models', () => ['merge', a, c, ...data, '--stats-in', join(dir, 'ab.zstats')], /statistics were computed for other models/],
      ['a stop point that does not exist', () => ['merge', a, b, ...data, '--stop-at', 'layer9.conv:in'], /layer9\.conv:in.*(stop points|valid)/],
      ['unwritable output path', () => ['merge', a, b, ...data, '--no-eval'], /cannot write output/],
    ];
    for (const [what, args, message] of cases) {
      it(what, async () => {
        const outDir = mkdtempSync(join(dir, 'out-'));
        const out = what === 'unwritable output path' ? join(outDir, 'missing', 'm.onnx') : join(outDir, 'm.onnx');
        const r = await runCliInProcess([...args(), '--out', out, '--report', join(outDir, 'r.md')]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
        expect(readdirSync(outDir)).toEqual([]);
      });
    }

    it('labels out of range for a head (eval)', async () => {
      const x = npyImages('x.npy', [3, 3, 32, 32]);
      const y = join(dir, 'y.npy');
      writeFileSync(y, encodeNpy({ dtype: 'int64', shape: [3], data: BigInt64Array.from([0n, 7n, 1n]) }));
      const r = await runCliInProcess(['eval', a, '--task', `t=${x}:${y}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/class|out of range/);
    });
  });
});

function npyImages(name: string, shape: number[], nan = false): string {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n).map((_, i) => Math.sin(i));
  if (nan) data[5] = Number.NaN;
  const p = join(dir, name);
  if (!existsSync(p)) writeFileSync(p, encodeNpy({ dtype: 'float32', shape, data }));
  return p;
}
