import { describe, expect, it } from 'vitest';
import { PooledMoments, repairTarget, repairWeights } from './repair.js';

describe('REPAIR arithmetic', () => {
  it('pools per-batch moments into the population mean and standard deviation', () => {
    const xs = [
      [1, 2, 3],
      [10, 11],
      [-4, 0, 4, 8],
    ];
    const pooled = new PooledMoments(1);
    for (const b of xs) {
      const m = b.reduce((s, v) => s + v, 0) / b.length;
      pooled.add([m], [b.reduce((s, v) => s + (v - m) ** 2, 0) / b.length], b.length);
    }
    const all = xs.flat();
    const mean = all.reduce((s, v) => s + v, 0) / all.length;
    const std = Math.sqrt(all.reduce((s, v) => s + (v - mean) ** 2, 0) / all.length);
    const r = pooled.result();
    expect(r.mean[0]).toBeCloseTo(mean, 12);
    expect(r.std[0]).toBeCloseTo(std, 12);
  });

  it('targets average the members of each merged channel with normalised weights (a twin pair gives exactly its value)', () => {
    // The reference's merge rows: 1/(k + 1e-5) per member.
    const w = Math.fround(1 / Math.fround(2 + 1e-5));
    const merge = Float32Array.from([w, 0, w, 0, /* row 1 */ 0, w, 0, w]);
    const t = repairTarget(repairWeights(merge, 2, 4), [0.3, -1.7, 0.3, -1.5], [0.1234567, 2, 0.1234567, 4]);
    expect(Array.from(t.mean)).toEqual([0.3, -1.6]);
    expect(Array.from(t.std)).toEqual([0.1234567, 3]);
  });
});
