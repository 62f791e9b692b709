import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FormatError, InvalidArgumentError, NotFoundError } from '@zipit/core';
import { byCodeUnits } from './folder-sample.js';
import { isImageFile, IMAGE_EXTENSIONS } from './image-decode.js';
import type { FolderSpec } from './spec.js';

// The sample a pass draws is pure code (the browser app draws the same one from picked files).
export { evenQuotas, type FolderItem, fileRank, selectFolderItems } from './folder-sample.js';

/**
 * The files of an image folder, as torchvision's `ImageFolder` finds them:
 * - **classes**: every (non-hidden) subfolder is a class; class k is the k-th name in sorted
 *   order; a class holds the image files anywhere below its folder, in sorted walk order.
 *   A spec's class selection keeps those classes, labelled 0..k−1 in sorted order.
 * - **flat**: no subfolders, the images themselves (unlabelled merge data).
 * File names only (relative to the folder, about 100 bytes per image) are held; pixels are read
 * when a batch needs them.
 */
export interface ImageFolderListing {
  /** The folder as the spec wrote it (errors and reports show it). */
  dir: string;
  /** Absolute path of the folder. */
  root: string;
  layout: 'classes' | 'flat';
  /** Selected class names, sorted (null for a flat folder). */
  classNames: string[] | null;
  /** Index of each selected class among all class folders (ImageFolder's class_to_idx), or null. */
  classIndices: number[] | null;
  /** Relative paths of the images of each selected class (one group for a flat folder), sorted. */
  files: string[][];
}

/** Lists an image folder for a spec; a typed error naming the folder when it cannot be used. */
export async function listImageFolder(spec: FolderSpec, baseDir = '.'): Promise<ImageFolderListing> {
  const root = resolve(baseDir, spec.dir);
  const entries = await readFolder(root, spec.dir, true);
  const subdirs: string[] = [];
  const loose: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (await isDirectory(root, e)) subdirs.push(e.name);
    else if (isImageFile(e.name)) loose.push(e.name);
  }
  subdirs.sort(byCodeUnits);
  loose.sort(byCodeUnits);
  if (subdirs.length === 0) {
    if (spec.classes)
      throw new InvalidArgumentError(`image folder ${spec.dir} has no class subfolders, so classes ${spec.classes.join(',')} cannot be selected`, {
        file: spec.dir,
        hint: 'put the images of each class in a subfolder named after it',
      });
    if (loose.length === 0) throw new FormatError(`image folder ${spec.dir} holds no images (${IMAGE_EXTENSIONS.join(' ')})`, { file: spec.dir });
    return { dir: spec.dir, root, layout: 'flat', classNames: null, classIndices: null, files: [loose] };
  }
  if (loose.length > 0) {
    throw new FormatError(`image folder ${spec.dir} holds class subfolders and also loose images (${loose[0]}${loose.length > 1 ? ', …' : ''})`, {
      file: spec.dir,
      hint: 'move the loose images into a class subfolder, or give the subfolder that holds them',
    });
  }
  const selected = spec.classes ? selectClasses(spec.classes, subdirs, spec.dir) : subdirs;
  const files: string[][] = [];
  for (const name of selected) {
    const found: string[] = [];
    await walk(join(root, name), name, `${spec.dir}/${name}`, found);
    if (found.length === 0) {
      throw new FormatError(`class folder ${name} holds no images (${IMAGE_EXTENSIONS.join(' ')})`, {
        file: `${spec.dir}/${name}`,
        hint: 'add images or remove the folder',
      });
    }
    files.push(found);
  }
  return { dir: spec.dir, root, layout: 'classes', classNames: selected, classIndices: selected.map((n) => subdirs.indexOf(n)), files };
}

/** The class folders a selection names, sorted; `a-b` selects integer-named folders a…b. */
function selectClasses(items: readonly string[], subdirs: readonly string[], dir: string): string[] {
  const chosen = new Set<string>();
  for (const item of items) {
    if (subdirs.includes(item)) {
      chosen.add(item);
      continue;
    }
    const range = /^(\d+)-(\d+)$/.exec(item);
    const inRange = range ? subdirs.filter((n) => /^\d+$/.test(n) && Number(n) >= Number(range[1]) && Number(n) <= Number(range[2])) : [];
    if (inRange.length === 0) {
      throw new NotFoundError(`image folder ${dir} has no class folder ${item}`, {
        file: dir,
        hint: `its classes: ${subdirs.slice(0, 20).join(', ')}${subdirs.length > 20 ? ', …' : ''}`,
      });
    }
    for (const n of inRange) chosen.add(n);
  }
  return [...chosen].sort(byCodeUnits);
}

/** Image files below `abs` (recursively, sorted by name at each level), as paths relative to the root. */
async function walk(abs: string, rel: string, shown: string, out: string[]): Promise<void> {
  const entries = await readFolder(abs, shown, false);
  entries.sort((a, b) => byCodeUnits(a.name, b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    if (await isDirectory(abs, e)) await walk(join(abs, e.name), `${rel}/${e.name}`, `${shown}/${e.name}`, out);
    else if (isImageFile(e.name)) out.push(`${rel}/${e.name}`);
  }
}

interface Entry {
  name: string;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

async function readFolder(abs: string, shown: string, top: boolean): Promise<Entry[]> {
  try {
    return await readdir(abs, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new NotFoundError(top ? `no such image folder (nor a built-in dataset: mnist, fashion)` : 'no such folder', { file: shown, cause: e });
    }
    if (code === 'ENOTDIR') throw new InvalidArgumentError('not a folder (an image folder spec names a directory)', { file: shown, cause: e });
    throw new NotFoundError(`cannot read the folder (${code ?? (e as Error).message})`, { file: shown, cause: e });
  }
}

/** Directories, following symbolic links (as ImageFolder's os.walk(followlinks=True)). */
async function isDirectory(parent: string, e: Entry): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await stat(join(parent, e.name))).isDirectory();
  } catch {
    return false;
  }
}
