import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from './sha256.js';

describe('Sha256', () => {
  it('equals node:crypto for messages around the padding boundaries, fed in uneven chunks', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
      const ours = new Sha256();
      for (let at = 0; at < n; at += 37) ours.update(bytes.subarray(at, at + 37));
      expect(ours.hex(), `n = ${n}`).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(new Sha256().update('abc').hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
