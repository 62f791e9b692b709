import { describe, expect, it } from 'vitest';
import { parseBatchNormReset } from './bn-reset-option.js';

describe('--bn-reset / --reset-bn / --no-reset-bn', () => {
  it('defaults to the reference reset; --reset-bn is the default; --no-reset-bn keeps the zipped statistics', () => {
    expect(parseBatchNormReset({})).toBe('reference');
    expect(parseBatchNormReset({ 'reset-bn': true })).toBe('reference');
    expect(parseBatchNormReset({ 'bn-reset': 'anchored' })).toBe('anchored');
    expect(parseBatchNormReset({ 'no-reset-bn': true })).toBe(false);
  });

  it('refuses contradictions and unknown modes, naming the valid ones', () => {
    expect(() => parseBatchNormReset({ 'reset-bn': true, 'no-reset-bn': true })).toThrow(/either --reset-bn or --no-reset-bn/);
    expect(() => parseBatchNormReset({ 'bn-reset': 'anchored', 'no-reset-bn': true })).toThrow(/--bn-reset anchored or --no-reset-bn/);
    expect(() => parseBatchNormReset({ 'bn-reset': 'fast' })).toThrow(/unknown mode "fast" \(valid: reference, anchored\)/);
  });
});
