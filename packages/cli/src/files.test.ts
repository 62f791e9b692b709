import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FormatError } from '@zipit/core';
import { writeOutputs } from './files.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('writeOutputs', () => {
  it('writes every file, replacing existing ones, and leaves no temporary behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-out-'));
    writeFileSync(join(dir, 'a.txt'), 'old');
    await writeOutputs([
      { path: join(dir, 'a.txt'), bytes: bytes('new a') },
      { path: join(dir, 'b.txt'), bytes: bytes('b') },
    ]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('changes nothing when one target cannot be written (a folder, a missing folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-out-'));
    writeFileSync(join(dir, 'a.txt'), 'old');
    mkdirSync(join(dir, 'report.md'));
    for (const bad of [join(dir, 'report.md'), join(dir, 'missing', 'r.md')]) {
      await expect(
        writeOutputs([
          { path: join(dir, 'a.txt'), bytes: bytes('new') },
          { path: bad, bytes: bytes('r') },
        ]),
      ).rejects.toThrow(FormatError);
      expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('old');
      expect(readdirSync(dir).sort()).toEqual(['a.txt', 'report.md']);
    }
  });
});

describe('checkPaths', () => {
  it('refuses an output that is an input under another spelling (./, .., symlink, hard link)', async () => {
    const { checkPaths } = await import('./files.js');
    const { symlinkSync, linkSync } = await import('node:fs');
    const { relative } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'zipit-paths-'));
    const input = join(dir, 'a.onnx');
    writeFileSync(input, 'model');
    symlinkSync(input, join(dir, 'link.onnx'));
    linkSync(input, join(dir, 'hard.onnx'));
    mkdirSync(join(dir, 'sub'));
    const spellings = [
      input,
      join(dir, '.', 'a.onnx'),
      join(dir, 'sub', '..', 'a.onnx'),
      join(dir, 'link.onnx'),
      join(dir, 'hard.onnx'),
      './' + relative(process.cwd(), input),
    ];
    for (const out of spellings) {
      await expect(checkPaths({ inputs: [{ label: 'input model', path: input }], outputs: [{ label: '--out', path: out }] }), out).rejects.toThrow(
        /is the same file as input model/,
      );
    }
    expect(readFileSync(input, 'utf8')).toBe('model');
  });

  it('refuses two outputs on one file (or differing only in case), accepts distinct ones, probes the folder', async () => {
    const { checkPaths } = await import('./files.js');
    const dir = mkdtempSync(join(tmpdir(), 'zipit-paths-'));
    const o = (label: string, name: string) => ({ label, path: join(dir, name) });
    await expect(checkPaths({ inputs: [], outputs: [o('--out', 'm.onnx'), o('--report', './m.onnx')] })).rejects.toThrow(
      /--report .* is the same file as --out/,
    );
    await expect(checkPaths({ inputs: [], outputs: [o('--out', 'm.zstats'), o('--stats-out', 'M.zstats')] })).rejects.toThrow(/differs only in letter case/);
    await checkPaths({ inputs: [], outputs: [o('--out', 'm.onnx'), o('--report', 'r.md')] });
    await expect(checkPaths({ inputs: [], outputs: [o('--out', 'missing/m.onnx')] })).rejects.toThrow(/folder .* does not exist/);
    expect(readdirSync(dir)).toEqual([]); // the probe leaves nothing behind
  });
});
