import { InvalidArgumentError } from '@zipit/core';
import type { BuiltinName, Split } from './builtin.js';

/**
 * Dataset specs, as written on the command line:
 *
 * | spec | meaning |
 * |---|---|
 * | `mnist:0-4`, `mnist:5-9`, `fashion:0-4` | a class range of a built-in dataset |
 * | `mnist:0,2,7`, `mnist:0-2,7` | a class list (ranges allowed) |
 * | `mnist`, `fashion` | all ten classes |
 * | `…:train`, `…:test` | a split (default: chosen by the caller — data to merge or compute statistics on uses `train`, evaluation uses `test`) |
 * | `X.npy:Y.npy` | images (float32, already in the model's input layout, [N, …]) and labels (int64 [N]) |
 * | `X.npy` | images only, no labels (statistics, BatchNorm re-estimation) |
 * | `DIR` | a folder of images: class subfolders (labels = sorted subfolder names, as torchvision's `ImageFolder`) or loose images (no labels) |
 * | `DIR:cat,dog`, `DIR:5-9` | the class subfolders a head predicts (a range `a-b` selects the integer-named folders a…b) |
 *
 * `fashion-mnist` is accepted for `fashion`. Labels of a class selection are remapped to
 * 0..k−1 in sorted class order (a head trained on digits 5–9 has 5 outputs).
 */
export type DatasetSpec = BuiltinSpec | NpySpec | FolderSpec;

export interface BuiltinSpec {
  kind: 'builtin';
  /** The spec as written. */
  text: string;
  dataset: BuiltinName;
  /** Original class labels, sorted ascending, no duplicates. */
  classes: number[];
  /** The split asked for, or undefined to let the caller choose. */
  split?: Split;
}

export interface NpySpec {
  kind: 'npy';
  text: string;
  images: string;
  /** Absent for an images-only dataset. */
  labels?: string;
}

export interface FolderSpec {
  kind: 'folder';
  text: string;
  dir: string;
  /** Class folders (or `a-b` ranges of integer-named ones) as written; absent for all classes. */
  classes?: string[];
}

/** The valid spec forms, for error messages and `--help`. */
export const DATASET_SPEC_FORMS =
  'mnist:0-4, mnist:0,2,7, fashion:5-9, mnist (all classes), any of these + :train or :test, X.npy:Y.npy, X.npy, DIR (image folder), DIR:cat,dog (its class subfolders cat and dog), DIR:5-9';

const ALIASES: Record<string, BuiltinName> = { mnist: 'mnist', fashion: 'fashion', 'fashion-mnist': 'fashion' };

/** Parses a dataset spec; a malformed one is an InvalidArgumentError listing the valid forms. */
export function parseDatasetSpec(text: string): DatasetSpec {
  const fail = (problem: string): never => {
    throw new InvalidArgumentError(`dataset spec "${text}": ${problem}`, { hint: `valid forms: ${DATASET_SPEC_FORMS}` });
  };
  const spec = text.trim();
  if (!spec) fail('empty');
  if (/\.npy(:|$)/i.test(spec)) return parseNpy(spec, text, fail);

  const parts = spec.split(':');
  const dataset = ALIASES[parts[0].toLowerCase()];
  if (!dataset) return parseFolder(spec, text, fail);
  let rest = parts.slice(1);
  let split: Split | undefined;
  const last = rest[rest.length - 1]?.toLowerCase();
  if (last === 'train' || last === 'test') {
    split = last;
    rest = rest.slice(0, -1);
  }
  if (rest.length > 1) fail(`too many ":" parts`);
  const classes = rest.length === 0 ? range(0, 9) : parseClasses(rest[0], fail);
  return split === undefined ? { kind: 'builtin', text, dataset, classes } : { kind: 'builtin', text, dataset, classes, split };
}

function parseNpy(spec: string, text: string, fail: (p: string) => never): NpySpec {
  const m = /^(.+?\.npy)(?::(.+\.npy))?$/i.exec(spec);
  if (!m) fail('expected X.npy:Y.npy or X.npy');
  return m![2] === undefined ? { kind: 'npy', text, images: m![1] } : { kind: 'npy', text, images: m![1], labels: m![2] };
}

/**
 * `DIR` or `DIR:a,b,…`: the part after the last ":" is a class list unless it looks like a path
 * (holds a slash), so `C:\\images` and `./a:b/c` stay whole. Built-in names win over folders of the
 * same name: write `./mnist` for a folder called mnist.
 */
function parseFolder(spec: string, text: string, fail: (p: string) => never): FolderSpec {
  const colon = spec.lastIndexOf(':');
  const tail = colon < 0 ? '' : spec.slice(colon + 1);
  if (colon <= 0 || /[\\/]/.test(tail)) return { kind: 'folder', text, dir: spec };
  const dir = spec.slice(0, colon);
  const classes = tail.split(',').map((c) => c.trim());
  if (classes.some((c) => c === '')) fail(`empty class name in "${tail}" (write DIR:cat,dog)`);
  const seen = new Set<string>();
  for (const c of classes) {
    if (seen.has(c)) fail(`class ${c} is listed twice`);
    seen.add(c);
  }
  return { kind: 'folder', text, dir, classes };
}

function parseClasses(list: string, fail: (p: string) => never): number[] {
  if (!list) fail('empty class list');
  const seen = new Set<number>();
  for (const item of list.split(',')) {
    const m = /^(\d)(?:-(\d))?$/.exec(item.trim());
    if (!m) fail(`bad class item "${item}" (classes are 0–9, as "3", "0-4" or "0,2,7")`);
    const lo = Number(m![1]);
    const hi = m![2] === undefined ? lo : Number(m![2]);
    if (hi < lo) fail(`class range "${item}" is backwards`);
    for (let c = lo; c <= hi; c++) {
      if (seen.has(c)) fail(`class ${c} is listed twice`);
      seen.add(c);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** The spec written back in canonical form (`mnist:0-4:test`, `fashion:0,2,7`). */
export function formatDatasetSpec(spec: DatasetSpec): string {
  if (spec.kind === 'folder') return spec.classes ? `${spec.dir}:${spec.classes.join(',')}` : spec.dir;
  if (spec.kind === 'npy') return spec.labels === undefined ? spec.images : `${spec.images}:${spec.labels}`;
  const groups: string[] = [];
  for (let i = 0; i < spec.classes.length; ) {
    let j = i;
    while (j + 1 < spec.classes.length && spec.classes[j + 1] === spec.classes[j] + 1) j++;
    if (j - i >= 2) groups.push(`${spec.classes[i]}-${spec.classes[j]}`);
    else for (let k = i; k <= j; k++) groups.push(`${spec.classes[k]}`);
    i = j + 1;
  }
  return `${spec.dataset}:${groups.join(',')}${spec.split ? `:${spec.split}` : ''}`;
}
