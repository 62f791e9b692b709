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
    await writeOutputs([{ path: join(dir, 'a.txt'), bytes: bytes('new a') }, { path: join(dir, 'b.txt'), bytes: bytes('b') }]);
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('changes nothing when one target cannot be written (a folder, a missing folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zipit-out-'));
    writeFileSync(join(dir, 'a.txt'), 'old');
    mkdirSync(join(dir, 'report.md'));
    for (const bad of [join(dir, 'report.md'), join(dir, 'missing', 'r.md')]) {
      await expect(writeOutputs([{ path: join(dir, 'a.txt'), bytes: bytes('new') }, { path: bad, bytes: bytes('r') }])).rejects.toThrow(FormatError);
      expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('old');
      expect(readdirSync(dir).sort()).toEqual(['a.txt', 'report.md']);
    }
  });
});
