import { describe, expect, it } from 'vitest';
import { sliceBounds } from './slice-bounds.js';

describe('sliceBounds (ONNX Slice on one axis)', () => {
  it('counts from the end, clamps, and steps both ways', () => {
    expect(sliceBounds(1, 4, 1, 6)).toEqual({ start: 1, step: 1, count: 3 });
    expect(sliceBounds(-2, Number(2n ** 63n - 1n), 1, 6)).toEqual({ start: 4, step: 1, count: 2 });
    expect(sliceBounds(0, 6, 2, 6)).toEqual({ start: 0, step: 2, count: 3 });
    expect(sliceBounds(-1, -Number(2n ** 63n - 1n), -1, 6)).toEqual({ start: 5, step: -1, count: 6 });
    expect(sliceBounds(4, 1, 1, 6).count).toBe(0);
    expect(() => sliceBounds(0, 1, 0, 6)).toThrow(/step 0/);
  });
});
