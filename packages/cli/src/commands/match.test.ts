import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpy, encodeNpy } from '@zipit/core';
import { REPO_ROOT, runCliInProcess } from '../testing/run-cli.js';

const GOLDEN = join(REPO_ROOT, 'fixtures', 'golden');

function golden(name: string): { covariance: number[][]; merge: number[][]; unmerge: number[][] } {
  return JSON.parse(readFileSync(join(GOLDEN, name), 'utf8'));
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'zipit-match-'));
}

function writeCov(dir: string, name: string, shape: number[], data: Float32Array | Float64Array): string {
  const p = join(dir, name);
  writeFileSync(p, encodeNpy(data instanceof Float32Array ? { dtype: 'float32', shape, data } : { dtype: 'float64', shape, data }));
  return p;
}

describe('zipit match', () => {
  it('reproduces the reference on golden cases (zipit, permute, average)', async () => {
    const dir = tmp();
    const cases: [string, string[]][] = [
      ['zipit_m3_c8_a0.3_b0.125.json', ['--method', 'zipit', '--models', '3', '--alpha', '0.3', '--beta', '0.125']],
      ['real_p1_node21_zipit_a0.5_b1.json', ['--method', 'zipit', '--models', '2', '--alpha', '0.5', '--beta', '1']],
      ['permute_m2_c16.json', ['--method', 'permute', '--models', '2']],
      ['identity_m3_c8.json', ['--method', 'average', '--models', '3']],
    ];
    for (const [file, flags] of cases) {
      const g = golden(file);
      const n = g.covariance.length;
      const cov = writeCov(dir, 'cov.npy', [n, n], Float32Array.from(g.covariance.flat()));
      const m = join(dir, 'm.npy');
      const u = join(dir, 'u.npy');
      const r = await runCliInProcess(['match', '--cov', cov, ...flags, '--merge-out', m, '--unmerge-out', u]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const merge = decodeNpy(readFileSync(m));
      const unmerge = decodeNpy(readFileSync(u));
      expect(merge.dtype).toBe('float32');
      expect(unmerge.shape).toEqual([n, g.unmerge[0].length]);
      expect(Array.from(unmerge.data as Float32Array)).toEqual(g.unmerge.flat());
      const ref = g.merge.flat();
      const got = merge.data as Float32Array;
      expect(Math.max(...ref.map((v, i) => Math.abs(v - got[i])))).toBeLessThanOrEqual(1e-6);
    }
  });

  it('accepts float64 covariance', async () => {
    const dir = tmp();
    const g = golden('zipit_m2_c8_a0.3_b0.125.json');
    const cov = writeCov(dir, 'cov.npy', [16, 16], Float64Array.from(g.covariance.flat()));
    const r = await runCliInProcess([
      'match',
      '--cov',
      cov,
      '--models',
      '2',
      '--method',
      'zipit',
      '--merge-out',
      join(dir, 'm.npy'),
      '--unmerge-out',
      join(dir, 'u.npy'),
      '--quiet',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(Array.from(decodeNpy(readFileSync(join(dir, 'u.npy'))).data as Float32Array)).toEqual(g.unmerge.flat());
  });

  describe('bad input: one clear line, non-zero exit, no output file', () => {
    const dir = tmp();
    const sq = (n: number, fill = 0.5) => {
      const a = new Float32Array(n * n).fill(fill);
      for (let i = 0; i < n; i++) a[i * n + i] = 1;
      return a;
    };
    const withNaN = sq(4);
    withNaN[6] = Number.NaN;
    const good = writeCov(dir, 'good.npy', [4, 4], sq(4));
    const truncated = join(dir, 'truncated.npy');
    writeFileSync(truncated, readFileSync(good).subarray(0, 150));
    const cases: [string, string, string[], RegExp, number][] = [
      [
        'non-square matrix',
        writeCov(dir, 'rect.npy', [4, 6], new Float32Array(24)),
        ['--models', '2', '--method', 'zipit'],
        /square 2-D matrix, got shape \[4, 6\]/,
        1,
      ],
      ['size not divisible by N', writeCov(dir, 'odd.npy', [5, 5], sq(5)), ['--models', '2', '--method', 'zipit'], /size 5 is not divisible by --models 2/, 1],
      ['NaN in the matrix', writeCov(dir, 'nan.npy', [4, 4], withNaN), ['--models', '2', '--method', 'zipit'], /non-finite value \(NaN\) at \[1, 2\]/, 1],
      ['missing file', join(dir, 'missing.npy'), ['--models', '2', '--method', 'zipit'], /missing\.npy: file not found/, 1],
      ['truncated file', truncated, ['--models', '2', '--method', 'zipit'], /truncated\.npy: truncated \.npy data/, 1],
      ['unknown method', good, ['--models', '2', '--method', 'kmeans'], /unknown matcher "kmeans" \(registered: zipit, permute, average[^)]*\)/, 1],
      ['missing option', good, ['--method', 'zipit'], /missing required option --models/, 2],
    ];
    for (const [what, cov, flags, message, code] of cases) {
      it(what, async () => {
        const out = mkdtempSync(join(dir, 'out-'));
        const r = await runCliInProcess(['match', '--cov', cov, ...flags, '--merge-out', join(out, 'm.npy'), '--unmerge-out', join(out, 'u.npy')]);
        expect(r.code).toBe(code);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(message);
        expect(readdirSync(out)).toEqual([]);
      });
    }

    it('unwritable output path', async () => {
      const r = await runCliInProcess([
        'match',
        '--cov',
        good,
        '--models',
        '2',
        '--method',
        'average',
        '--merge-out',
        join(dir, 'm2.npy'),
        '--unmerge-out',
        join(dir, 'no-such-dir', 'u.npy'),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no-such-dir\/u\.npy: cannot write output/);
      expect(existsSync(join(dir, 'm2.npy'))).toBe(false);
    });
  });
});
