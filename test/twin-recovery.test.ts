import { buildResNet50 } from '@zipit/arch-resnet';
import { buildVgg } from '@zipit/arch-vgg';
import { GraphBuilder, permuteModel, randomPointPermutations, SeededRandom, zipitMatch, type Graph } from '@zipit/core';
import { computeStatistics, prepareModels, type Batch } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';

/**
 * ZipIt on a model and its twin (itself, or a copy with permuted hidden units) must pair every
 * feature with its twin at every merge point — also late, low-resolution layers where few
 * samples per feature leave dead ReLUs (σ = 0) and float32 correlations tied at 1 with
 * perfectly correlated features of the same model (see core/src/match/zipit-ties.ts).
 */

function images(count: number, size: number, seed: number): Batch[] {
  const r = new SeededRandom(seed);
  const out: Batch[] = [];
  for (let done = 0; done < count; done += 16) out.push({ x: r.normalTensor([Math.min(16, count - done), 3, size, size]) });
  return out;
}

/** A small conv stem and a 1024-wide two-layer ReLU classifier (torchvision VGG's head, narrower), on 32 images. */
function wideClassifier(seed: number): Graph {
  const b = new GraphBuilder({ seed });
  let x = b.input('input', ['batch', 3, 8, 8]);
  x = b.relu(b.conv(x, 8, { kernel: 3, pad: 1, name: 'features.0' }));
  x = b.flatten(b.globalAveragePool(x));
  x = b.relu(b.gemm(x, 1024, { name: 'classifier.0' }));
  x = b.relu(b.gemm(x, 1024, { name: 'classifier.3' }));
  b.output(b.gemm(x, 10, { name: 'classifier.6' }), 'logits');
  return b.build();
}

/**
 * For every merge point, how many features of model B the match put in another group than their
 * twin's in model A, and how many of those vary on the data (`live`).
 */
async function strayFeatures(a: Graph, b: Graph, perms: Int32Array[] | null, batches: Batch[]): Promise<{ name: string; stray: number; live: number }[]> {
  const models = [
    { name: 'A', graph: a, file: 'a.onnx' },
    { name: 'B', graph: b, file: 'b.onnx' },
  ];
  const mg = prepareModels(models);
  const stats = await computeStatistics(models, mg, batches, { executor: ortExecutor, threads: 1 });
  return mg.points.map((p) => {
    const c = p.channels;
    const cov = stats.covariance(p.index);
    const res = zipitMatch(cov, 2, 0.5, 1);
    const group = (row: number) => res.unmerge.subarray(row * c, (row + 1) * c).indexOf(1);
    let stray = 0;
    let live = 0;
    // Channel j of model B holds channel perm[j] of model A.
    for (let j = 0; j < c; j++) {
      if (group(c + j) === group(perms ? perms[p.index][j] : j)) continue;
      stray++;
      if (cov[(c + j) * 2 * c + c + j] > 0) live++;
    }
    return { name: p.name, stray, live };
  });
}

describe('zipit recovers twins exactly at every depth', () => {
  it('ResNet-50 (bottlenecks) at 32 px merged with itself and with a permuted copy', async () => {
    const a = buildResNet50({ seed: 3, width: 0.125, imageSize: 32, foldedBatchNorm: true, classes: 10 });
    const batches = images(32, 32, 4);
    const self = await strayFeatures(a, a, null, batches);
    expect(self.filter((p) => p.stray > 0)).toEqual([]);
    const mg = prepareModels([
      { name: 'A', graph: a, file: 'a.onnx' },
      { name: 'B', graph: a, file: 'b.onnx' },
    ]);
    const perms = randomPointPermutations(mg, new SeededRandom(5));
    const permuted = await strayFeatures(a, permuteModel(a, mg, perms), perms, batches);
    // Features dead on every merge image cannot be told apart by data (they pair in index
    // order, which is exact on the data); every other feature pairs with its twin.
    expect(permuted.some((p) => p.stray > 0)).toBe(true);
    expect(permuted.filter((p) => p.live > 0)).toEqual([]);
  }, 60_000);

  it('a 1024-wide ReLU classifier on 32 images (more features than samples)', async () => {
    const a = wideClassifier(6);
    expect((await strayFeatures(a, a, null, images(32, 8, 7))).filter((p) => p.stray > 0)).toEqual([]);
  }, 60_000);

  it('VGG-11 at 32 px (1×1 after the last pool) merged with itself', async () => {
    const a = buildVgg({ variant: 'vgg11', width: 0.25, batchNorm: 'folded', imageSize: 32 });
    expect((await strayFeatures(a, a, null, images(32, 32, 8))).filter((p) => p.stray > 0)).toEqual([]);
  }, 60_000);
});
