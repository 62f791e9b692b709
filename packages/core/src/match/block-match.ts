import { InvalidArgumentError, ShapeError } from '../errors.js';
import { correlation32 } from '../stats/correlation.js';
import { linearSumAssignment } from './lap.js';
import { checkCovariance, squareSize, type MatchResult } from './matcher.js';

/**
 * Matching for spaces made of blocks (attention heads): a merged block takes whole blocks, one
 * of each model, and features are matched only within them, so the merge and unmerge matrices
 * are block-diagonal up to a permutation of each model's blocks. Attention needs this because a
 * head's score Σᵢ qᵢkᵢ only means something when all its features come from one head of each
 * model.
 */

/** `count` blocks of `size` consecutive channels. */
export interface BlockShape {
  count: number;
  size: number;
}

/**
 * Aligns the blocks of every model with those of model 0. Each pair (block a of model 0,
 * block b of model k) is scored by its best within-block matching — the largest Σᵢ corr(aᵢ, b_π(i))
 * over one-to-one pairings π of their features (a linear sum assignment) — summed over the given
 * spaces (e.g. the Q·Kᵀ and V points of one attention layer, which must align heads alike); then
 * the assignment over blocks maximising the total score is solved.
 *
 * `covariances` are [N·C, N·C] (model-major, as FeatureStats gives them) with C = count · size.
 * Returns `order` with `order[k][j]` = the block of model k that goes into merged block j
 * (`order[0]` is the identity).
 */
export function alignBlocks(covariances: readonly (Float32Array | Float64Array)[], numModels: number, blocks: BlockShape): Int32Array[] {
  const { count, size } = checkBlocks(blocks);
  if (covariances.length === 0) throw new InvalidArgumentError('block alignment needs at least one covariance');
  const scores = Array.from({ length: numModels }, () => new Float64Array(count * count));
  const cross = new Float32Array(size * size);
  for (const cov of covariances) {
    const o = squareSize(cov);
    const c = checkCovariance(cov, o, numModels);
    if (c !== count * size) throw new ShapeError(`a space of ${c} channels cannot hold ${count} blocks of ${size}`);
    const corr = correlation32(cov, o);
    for (let k = 1; k < numModels; k++) {
      for (let a = 0; a < count; a++) {
        for (let b = 0; b < count; b++) {
          for (let i = 0; i < size; i++) {
            const row = (a * size + i) * o + k * c + b * size;
            cross.set(corr.subarray(row, row + size), i * size);
          }
          const pick = linearSumAssignment(cross, size, true);
          let s = 0;
          for (let i = 0; i < size; i++) s += cross[i * size + pick[i]];
          scores[k][a * count + b] += s;
        }
      }
    }
  }
  const order: Int32Array[] = [Int32Array.from({ length: count }, (_, j) => j)];
  for (let k = 1; k < numModels; k++) order.push(linearSumAssignment(scores[k], count, true));
  return order;
}

/** The identity alignment: block j of every model goes into merged block j. */
export function identityBlockOrder(numModels: number, count: number): Int32Array[] {
  return Array.from({ length: numModels }, () => Int32Array.from({ length: count }, (_, j) => j));
}

/**
 * Matches a block-structured space: for every merged block j, the sub-covariance of the blocks
 * `order[k][j]` of all models (N·size features) is matched by `matchBlock`, and its merge
 * [size, N·size] and unmerge [N·size, size] are placed at rows/columns of merged block j.
 * The result has the usual shapes: merge [C, N·C], unmerge [N·C, C].
 */
export function matchBlockwise(
  covariance: Float32Array | Float64Array,
  numModels: number,
  blocks: BlockShape,
  order: readonly Int32Array[],
  matchBlock: (covariance: Float64Array, numModels: number) => MatchResult,
): MatchResult {
  const { count, size } = checkBlocks(blocks);
  const o = squareSize(covariance);
  const c = checkCovariance(covariance, o, numModels);
  if (c !== count * size) throw new ShapeError(`a space of ${c} channels cannot hold ${count} blocks of ${size}`);
  if (order.length !== numModels || order.some((p) => !isPermutation(p, count))) {
    throw new InvalidArgumentError(`block order must hold one permutation of ${count} blocks per model (${numModels})`);
  }
  const m = numModels * size;
  const merge = new Float32Array(c * o);
  const unmerge = new Float32Array(o * c);
  const idx = new Int32Array(m);
  const sub = new Float64Array(m * m);
  for (let j = 0; j < count; j++) {
    for (let k = 0; k < numModels; k++) {
      for (let i = 0; i < size; i++) idx[k * size + i] = k * c + order[k][j] * size + i;
    }
    for (let r = 0; r < m; r++) for (let s = 0; s < m; s++) sub[r * m + s] = covariance[idx[r] * o + idx[s]];
    const res = matchBlock(sub, numModels);
    if (res.channels !== size || res.merge.length !== size * m || res.unmerge.length !== m * size) {
      throw new ShapeError(`the block matcher returned ${res.channels} channels for a block of ${size}`);
    }
    for (let f = 0; f < size; f++) {
      const row = (j * size + f) * o;
      for (let s = 0; s < m; s++) merge[row + idx[s]] = res.merge[f * m + s];
    }
    for (let s = 0; s < m; s++) {
      for (let f = 0; f < size; f++) unmerge[idx[s] * c + j * size + f] = res.unmerge[s * size + f];
    }
  }
  return { merge, unmerge, channels: c, numModels };
}

function checkBlocks(blocks: BlockShape): BlockShape {
  if (!Number.isInteger(blocks.count) || !Number.isInteger(blocks.size) || blocks.count < 1 || blocks.size < 1) {
    throw new InvalidArgumentError(`invalid block shape ${blocks.count}×${blocks.size}`);
  }
  return blocks;
}

function isPermutation(p: Int32Array, n: number): boolean {
  if (p.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of p) {
    if (v < 0 || v >= n || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}
