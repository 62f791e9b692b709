import { describe, expect, it } from 'vitest';
import { sweepTable, textTable } from './text-table.js';

describe('text tables', () => {
  it('left-aligns label columns and right-aligns numbers under a rule', () => {
    expect(
      textTable(
        ['name', 'value'],
        [
          ['a', '1.5'],
          ['long name', '10'],
        ],
      ),
    ).toBe(['name       value', '---------  -----', 'a            1.5', 'long name     10'].join('\n'));
  });

  it('renders sweep rows with percentages and a dash for parameters a method does not take', () => {
    const t = sweepTable(
      [
        { method: 'zipit', alpha: 0.5, beta: 1, stop: 'all', stopIndex: 3, perTask: { a: 0.9, b: 0.8 }, joint: 0.7, average: 0.85 },
        { method: 'average', alpha: null, beta: null, stop: 'none', stopIndex: -1, perTask: { a: 0.5, b: 0.25 }, joint: 0.125, average: 0.375 },
      ],
      ['a', 'b'],
    ).split('\n');
    expect(t).toEqual([
      'method   alpha  beta  stop       a %    b %  joint %  avg %',
      '-------  -----  ----  -------  -----  -----  -------  -----',
      'zipit    0.5    1     3:all    90.00  80.00    70.00  85.00',
      'average  —      —     -1:none  50.00  25.00    12.50  37.50',
    ]);
  });
});
