import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@zipit/core';
import { maxThreads, parseArgs, parseNumberList, parseNumberOption, parseThreadsOption, UsageError } from './options.js';

const opts = { alpha: { type: 'string' }, quiet: { type: 'boolean' } } as const;

describe('parseArgs', () => {
  it('takes negative numbers as values of string options', () => {
    for (const v of ['-1', '-0.5', '-.5', '-1e3', '-1,2']) {
      expect(parseArgs({ args: ['--alpha', v], options: opts }).values.alpha).toBe(v);
    }
    expect(parseArgs({ args: ['--alpha=-1'], options: opts }).values.alpha).toBe('-1');
  });

  it('turns parser errors into one-line usage errors', () => {
    for (const args of [['--alpha'], ['--nope'], ['--alpha', '--quiet']]) {
      let err: unknown;
      try {
        parseArgs({ args, options: opts });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).not.toContain('\n');
    }
  });
});

describe('parseNumberOption', () => {
  it('parses plain decimals and refuses everything else, naming the range', () => {
    expect(parseNumberOption('-1', '--alpha')).toBe(-1);
    expect(parseNumberOption('1e9', '--beta', { min: 0 })).toBe(1e9);
    expect(parseNumberOption(undefined, '--beta', {}, 1)).toBe(1);
    for (const bad of ['', ' ', 'abc', '0x10', 'Infinity', 'NaN', '1e999', '1,5', '--1']) {
      expect(() => parseNumberOption(bad, '--alpha'), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => parseNumberOption('', '--alpha')).toThrow(/--alpha needs a value \(a number\), got an empty string/);
    expect(() => parseNumberOption('-1', '--beta', { min: 0 })).toThrow(/--beta must be a number at least 0, got -1/);
    expect(() => parseNumberOption('2.5', '--samples', { integer: true, min: 1, max: 10 })).toThrow(/an integer between 1 and 10/);
    expect(() => parseNumberOption('1e20', '--samples', { integer: true })).toThrow(InvalidArgumentError);
    expect(Object.is(parseNumberOption('-0', '--alpha'), 0)).toBe(true);
  });

  it('lists: every item checked, empty items refused', () => {
    expect(parseNumberList('-0.5, 0.3', '--alpha', {}, [])).toEqual([-0.5, 0.3]);
    expect(parseNumberList(undefined, '--alpha', {}, [0.5])).toEqual([0.5]);
    expect(() => parseNumberList('', '--alpha', {}, [])).toThrow(/empty/);
    expect(() => parseNumberList('1,,2', '--alpha', {}, [])).toThrow(/empty item/);
    expect(() => parseNumberList('1,-2', '--beta', { min: 0 }, [])).toThrow(/at least 0/);
  });

  it('--threads: 1 … min(256, 4 × cores)', () => {
    expect(parseThreadsOption(undefined)).toBeUndefined();
    expect(parseThreadsOption('1')).toBe(1);
    expect(parseThreadsOption(String(maxThreads()))).toBe(maxThreads());
    expect(maxThreads()).toBeLessThanOrEqual(256);
    for (const bad of ['0', '100000', String(maxThreads() + 1), '1.5', '']) {
      expect(() => parseThreadsOption(bad)).toThrow(new RegExp(`--threads .*between 1 and ${maxThreads()}|--threads needs a value`));
    }
  });
});
