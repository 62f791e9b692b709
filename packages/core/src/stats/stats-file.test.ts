import { describe, expect, it } from 'vitest';
import { FormatError } from '../errors.js';
import { crc32 } from '../io/crc32.js';
import { FeatureStats } from './feature-stats.js';
import { decodeStats, encodeStats } from './stats-file.js';

function sample(): FeatureStats {
  const s = new FeatureStats(
    ['a', 'b'],
    [
      { name: 'p0', channels: 3 },
      { name: 'p1', channels: 2 },
    ],
  );
  for (let i = 0; i < 2; i++) {
    const n = s.size(i);
    const gram = Float64Array.from({ length: n * n }, (_, k) => ((k * 7919) % 13) - 4 + (k % (n + 1) === 0 ? 20 : 0));
    const sum = Float64Array.from({ length: n }, (_, k) => k - 1.5);
    s.add(i, gram, sum, 10);
  }
  return s;
}

describe('statistics file checksum', () => {
  it('crc32 is the IEEE CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('refuses any flipped byte, in the header or the data, naming the file', () => {
    const bytes = encodeStats(sample(), { fingerprints: ['x', 'y'] });
    expect(decodeStats(bytes).stats.count(0)).toBe(10);
    // Flip one bit at every 7th byte (and the last ones): never accepted.
    for (let at = 0; at < bytes.length; at += at < bytes.length - 8 ? 7 : 1) {
      const bad = bytes.slice();
      bad[at] ^= 1 << (at % 8);
      expect(() => decodeStats(bad, 's.zstats'), `byte ${at}`).toThrow(FormatError);
      expect(() => decodeStats(bad, 's.zstats')).toThrow(/s\.zstats/);
    }
    const data = bytes.slice();
    data[data.length - 20] ^= 0x10; // inside Σx of the last space
    expect(() => decodeStats(data, 's.zstats')).toThrow(/checksum mismatch/);
  });

  it('refuses version 1 files (no checksum) with a hint to recompute', () => {
    const bytes = encodeStats(sample());
    new DataView(bytes.buffer).setUint32(8, 1, true);
    expect(() => decodeStats(bytes, 'old.zstats')).toThrow(/version 1 has no checksum.*zipit stats/);
  });

  it('is deterministic', () => {
    expect(encodeStats(sample(), { m: 1 })).toEqual(encodeStats(sample(), { m: 1 }));
  });
});
