import type { ImageFolderListing } from './image-folder.js';

/**
 * Which images of an image folder a pass reads: pure functions of the file names (no file
 * system), shared by the Node image folders and the browser app's picked image files.
 */

/** Sort order of names (UTF-16 code units: Python's sorted() for every name without astral characters). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * How many images each class gives to a sample of `limit`: as even as the class sizes allow
 * (every class gets ⌊limit/k⌋ or one more, earlier classes first; a class with too few images
 * gives all it has and the rest is spread over the others).
 */
export function evenQuotas(counts: readonly number[], limit: number): number[] {
  const quotas = counts.map(() => 0);
  let left = Math.min(
    limit,
    counts.reduce((a, b) => a + b, 0),
  );
  while (left > 0) {
    const open = counts.map((_, k) => k).filter((k) => quotas[k] < counts[k]);
    const share = Math.max(1, Math.floor(left / open.length));
    for (const k of open) {
      const take = Math.min(share, counts[k] - quotas[k], left);
      quotas[k] += take;
      left -= take;
      if (left === 0) break;
    }
  }
  return quotas;
}

/**
 * A deterministic pseudo-random rank of a file for a seed (FNV-1a of seed and path, then a
 * murmur3 finaliser): each class gives its lowest-ranked files, so a sample does not depend on
 * the order the file system lists them in, and a larger sample contains a smaller one.
 */
export function fileRank(seed: number, path: string): number {
  let h = Math.imul(0x811c9dc5 ^ (seed | 0), 0x01000193);
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One selected image: its path relative to the folder and its label (0..k−1; 0 for a flat folder). */
export interface FolderItem {
  file: string;
  label: number;
}

/**
 * The images a pass reads: `limit` of them spread evenly over the classes ({@link evenQuotas}),
 * the lowest-ranked of each class for the seed ({@link fileRank}), classes interleaved in
 * proportion to their shares (every prefix — every batch — mixes all classes, which BatchNorm
 * re-estimation needs).
 */
export function selectFolderItems(listing: Pick<ImageFolderListing, 'files'>, limit: number, seed: number): FolderItem[] {
  const quotas = evenQuotas(
    listing.files.map((f) => f.length),
    limit,
  );
  const chosen = listing.files.map((files, k) => {
    const ranked = files.map((file) => ({ file, rank: fileRank(seed, file) }));
    ranked.sort((a, b) => a.rank - b.rank || byCodeUnits(a.file, b.file));
    return ranked.slice(0, quotas[k]).map((r) => r.file);
  });
  const total = quotas.reduce((a, b) => a + b, 0);
  const emitted = quotas.map(() => 0);
  const out: FolderItem[] = [];
  for (let t = 0; t < total; t++) {
    let pick = -1;
    let best = Infinity;
    for (let k = 0; k < quotas.length; k++) {
      if (emitted[k] === quotas[k]) continue;
      const progress = (emitted[k] + 0.5) / quotas[k];
      if (progress < best) {
        best = progress;
        pick = k;
      }
    }
    out.push({ file: chosen[pick][emitted[pick]++], label: pick });
  }
  return out;
}
