import { describe, expect, it } from 'vitest';
import { NumericError } from '../errors.js';
import { MultiTaskAccuracy } from './multi-task-accuracy.js';

describe('MultiTaskAccuracy on bad logits', () => {
  it('refuses NaN and infinite logits instead of counting them as wrong', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const acc = new MultiTaskAccuracy(['a'], [3]);
      expect(() => acc.add(0, [Float32Array.of(0.1, bad, 0.3)], BigInt64Array.of(1n))).toThrow(NumericError);
      expect(() => acc.add(0, [Float32Array.of(0.1, bad, 0.3)], BigInt64Array.of(1n))).toThrow(
        /head 0 gave a non-finite output .* class 1 of sample 0 .* task "a"/,
      );
    }
  });

  it('for a single task, joint accuracy equals the task accuracy', () => {
    const acc = new MultiTaskAccuracy(['a'], [4]);
    let s = 7;
    const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let batch = 0; batch < 5; batch++) {
      const logits = Float32Array.from({ length: 8 * 4 }, () => (r() - 0.5) * 40);
      acc.add(
        0,
        [logits],
        BigInt64Array.from({ length: 8 }, () => BigInt(Math.floor(r() * 4))),
      );
    }
    const res = acc.result();
    expect(res.perTask[0]).toBeGreaterThan(0);
    expect(res.joint).toBe(res.perTask[0]);
  });
});
