import { describe, expect, it } from 'vitest';
import { defaultMatcherRegistry, InvalidArgumentError } from '@zipit/core';
import { checkParamNames, paramGrid, parseMatcherParams, parseParamFlags } from './matcher-params.js';

const registry = defaultMatcherRegistry();
const zipit = registry.get('zipit');

describe('--param', () => {
  it('overrides declared parameters; --alpha/--beta are aliases applied only where declared', () => {
    expect(parseMatcherParams(zipit, ['alpha=0.3'])).toEqual({ ...zipit.defaults, alpha: 0.3 });
    expect(parseMatcherParams(zipit, ['beta=0'], { alpha: 0.1 })).toEqual({ ...zipit.defaults, alpha: 0.1, beta: 0 });
    expect(parseMatcherParams(registry.get('permute'), undefined, { alpha: 0.1 })).toEqual({});
  });

  it("refuses an undeclared name (listing the matcher's) and malformed values", () => {
    expect(() => parseMatcherParams(zipit, ['gamma=1'])).toThrow(InvalidArgumentError);
    expect(() => parseMatcherParams(zipit, ['gamma=1'])).toThrow(/no parameter "gamma"/);
    expect(() => parseParamFlags(['alpha'])).toThrow(/name=value/);
    expect(() => parseParamFlags(['alpha=x'])).toThrow(/not a number/);
  });

  it("checks values against zipit's declared ranges: β ≥ 0, α any finite number", () => {
    expect(Object.keys(zipit.parameters ?? {}).sort()).toEqual(Object.keys(zipit.defaults).sort());
    expect(() => parseMatcherParams(zipit, ['beta=-0.5'])).toThrow(/beta = -0.5 is out of range/);
    expect(() => parseMatcherParams(zipit, ['beta=-0.5'])).toThrow(expect.objectContaining({ hint: expect.stringMatching(/0 … ∞/) }));
    expect(parseMatcherParams(zipit, ['alpha=-1', 'beta=1e9'])).toEqual({ alpha: -1, beta: 1e9 });
  });

  it('builds sweep grids per method from the names it declares', () => {
    const lists = parseParamFlags(['alpha=0.1,0.5', 'beta=1']);
    expect(paramGrid(zipit, lists)).toEqual([
      { ...zipit.defaults, alpha: 0.1, beta: 1 },
      { ...zipit.defaults, alpha: 0.5, beta: 1 },
    ]);
    expect(paramGrid(registry.get('permute'), lists)).toEqual([{}]);
    expect(() => checkParamNames(parseParamFlags(['gamma=1']), ['zipit', 'permute'], registry)).toThrow(/gamma/);
  });
});
