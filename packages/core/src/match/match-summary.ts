import type { MatchResult } from './matcher.js';

/** How a match combined the models' features, for reports. */
export interface MatchSummary {
  /** Merged features made only of model k's features (k-th entry). */
  onlyFrom: number[];
  /** Merged features with members from two or more models. */
  acrossModels: number;
  /** Per model: merges of two of its own features into one (members from the same model minus one, summed over groups). */
  withinModel: number[];
  /** Group sizes: histogram, index = members per merged feature. */
  groupSizes: number[];
}

export function summarizeMatch(res: MatchResult): MatchSummary {
  const { channels: c, numModels: m } = res;
  const o = c * m;
  const onlyFrom = new Array<number>(m).fill(0);
  const withinModel = new Array<number>(m).fill(0);
  const groupSizes: number[] = [];
  let acrossModels = 0;
  const perModel = new Int32Array(m);
  for (let g = 0; g < c; g++) {
    perModel.fill(0);
    let size = 0;
    for (let r = 0; r < o; r++) {
      if (res.unmerge[r * c + g] !== 0) {
        perModel[Math.floor(r / c)]++;
        size++;
      }
    }
    groupSizes[size] = (groupSizes[size] ?? 0) + 1;
    let models = 0;
    for (let k = 0; k < m; k++) {
      if (perModel[k] > 0) models++;
      if (perModel[k] > 1) withinModel[k] += perModel[k] - 1;
    }
    if (models > 1) acrossModels++;
    else for (let k = 0; k < m; k++) if (perModel[k] > 0) onlyFrom[k]++;
  }
  for (let i = 0; i < groupSizes.length; i++) groupSizes[i] ??= 0;
  return { onlyFrom, acrossModels, withinModel, groupSizes };
}
