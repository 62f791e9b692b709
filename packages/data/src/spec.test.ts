import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@zipit/core';
import { DATASET_SPEC_FORMS, formatDatasetSpec, parseDatasetSpec } from './spec.js';

describe('parseDatasetSpec', () => {
  it('reads class ranges, lists and the optional split of the built-in datasets', () => {
    expect(parseDatasetSpec('mnist:0-4')).toEqual({ kind: 'builtin', text: 'mnist:0-4', dataset: 'mnist', classes: [0, 1, 2, 3, 4] });
    expect(parseDatasetSpec('mnist:5-9:test')).toMatchObject({ dataset: 'mnist', classes: [5, 6, 7, 8, 9], split: 'test' });
    expect(parseDatasetSpec('fashion:0-4:train')).toMatchObject({ dataset: 'fashion', classes: [0, 1, 2, 3, 4], split: 'train' });
    expect(parseDatasetSpec('mnist:7,0,2')).toMatchObject({ classes: [0, 2, 7] });
    expect(parseDatasetSpec('mnist:0-2,7')).toMatchObject({ classes: [0, 1, 2, 7] });
    expect(parseDatasetSpec('fashion-mnist:3')).toMatchObject({ dataset: 'fashion', classes: [3] });
  });

  it('takes all ten classes when none are given, with or without a split', () => {
    expect(parseDatasetSpec('mnist')).toMatchObject({ classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] });
    expect(parseDatasetSpec('fashion:test')).toMatchObject({ classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], split: 'test' });
  });

  it('leaves the split undefined when the spec names none (the caller decides)', () => {
    expect(parseDatasetSpec('mnist:0-4')).not.toHaveProperty('split');
  });

  it('reads .npy pairs and images-only .npy data, paths kept as written', () => {
    expect(parseDatasetSpec('data/X.npy:data/Y.npy')).toEqual({ kind: 'npy', text: 'data/X.npy:data/Y.npy', images: 'data/X.npy', labels: 'data/Y.npy' });
    expect(parseDatasetSpec('X.npy')).toEqual({ kind: 'npy', text: 'X.npy', images: 'X.npy' });
    expect(parseDatasetSpec('C:/d/x.npy:C:/d/y.npy')).toMatchObject({ images: 'C:/d/x.npy', labels: 'C:/d/y.npy' });
  });

  it('reads image folders: a path, optionally followed by the class subfolders a head predicts', () => {
    expect(parseDatasetSpec('digits/train')).toEqual({ kind: 'folder', text: 'digits/train', dir: 'digits/train' });
    expect(parseDatasetSpec('pets:cat,dog')).toEqual({ kind: 'folder', text: 'pets:cat,dog', dir: 'pets', classes: ['cat', 'dog'] });
    expect(parseDatasetSpec('digits/test:5-9')).toMatchObject({ kind: 'folder', dir: 'digits/test', classes: ['5-9'] });
    expect(parseDatasetSpec('cifar10:0-4')).toMatchObject({ kind: 'folder', dir: 'cifar10', classes: ['0-4'] });
    // a colon followed by a path is part of the path; built-in names win (./mnist is a folder)
    expect(parseDatasetSpec('C:/data/pets')).toMatchObject({ kind: 'folder', dir: 'C:/data/pets' });
    expect(parseDatasetSpec('./mnist:0-4')).toMatchObject({ kind: 'folder', dir: './mnist', classes: ['0-4'] });
  });

  it.each([
    ['', 'empty'],
    ['digits:a,,b', 'empty class name'],
    ['digits:cat,cat', 'listed twice'],
    ['mnist:0-10', 'bad class item "0-10"'],
    ['mnist:4-0', 'backwards'],
    ['mnist:1,1', 'listed twice'],
    ['mnist:0-4:valid', 'too many ":" parts'],
    ['mnist:', 'empty class list'],
    ['mnist:a', 'bad class item "a"'],
    ['X.npy:Y.csv', 'expected X.npy:Y.npy'],
  ])('refuses %j with an InvalidArgumentError that lists the valid forms', (spec, problem) => {
    let error: unknown;
    try {
      parseDatasetSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toContain(DATASET_SPEC_FORMS);
  });
});

describe('formatDatasetSpec', () => {
  it('writes the canonical form (ranges of three or more, split last)', () => {
    expect(formatDatasetSpec(parseDatasetSpec('mnist:4,3,2,1,0'))).toBe('mnist:0-4');
    expect(formatDatasetSpec(parseDatasetSpec('fashion-mnist:5-9:test'))).toBe('fashion:5-9:test');
    expect(formatDatasetSpec(parseDatasetSpec('mnist:0,2,7'))).toBe('mnist:0,2,7');
    expect(formatDatasetSpec(parseDatasetSpec('mnist:0,1,5-7'))).toBe('mnist:0,1,5-7');
    expect(formatDatasetSpec(parseDatasetSpec('X.npy:Y.npy'))).toBe('X.npy:Y.npy');
  });

  it('round-trips through parseDatasetSpec', () => {
    for (const text of ['mnist:0-4', 'mnist:0,2,7:train', 'fashion:0-9:test', 'a/X.npy', 'pets:cat,dog', 'a/b']) {
      const spec = parseDatasetSpec(text);
      expect(parseDatasetSpec(formatDatasetSpec(spec))).toMatchObject({ ...spec, text: formatDatasetSpec(spec) });
    }
  });
});
