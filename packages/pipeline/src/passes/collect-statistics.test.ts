import {
  GraphBuilder,
  InvalidArgumentError,
  MismatchError,
  NumericError,
  SeededRandom,
  ShapeError,
  tensor,
  type Graph,
  type SpaceRequest,
  type Tensor,
} from '@zipit/core';
import { buildSmallCnn, buildTokenMlp, tokenMlpActivation } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import type { Batch } from './batches.js';
import { collectStatistics } from './collect-statistics.js';
import { runModel } from './run-model.js';
import { ortExecutor as executor } from '@zipit/runtime-ort';

function randomBatches(shapes: number[][], seed: number): Batch[] {
  const r = new SeededRandom(seed);
  return shapes.map((s) => ({ x: r.normalTensor(s) }));
}

interface Reference {
  gram: Float64Array;
  sum: Float64Array;
  count: number;
}

/**
 * Plain-TypeScript statistics: tap each model's activation, move the channel axis first and
 * accumulate Σ x xᵀ and Σ x in float64 over every sample (all other axes).
 */
async function reference(models: Graph[], space: SpaceRequest, batches: Batch[]): Promise<Reference> {
  const taps: Tensor[][] = [];
  for (const [k, m] of models.entries()) {
    const list: Tensor[] = [];
    for await (const r of runModel(m, batches, { executor, fetch: [space.values[k]], threads: 1 })) list.push(r.values[space.values[k]]);
    taps.push(list);
  }
  const shape0 = taps[0][0].shape;
  const axis = space.axis < 0 ? shape0.length + space.axis : space.axis;
  const c = shape0[axis];
  const n = c * models.length;
  const gram = new Float64Array(n * n);
  const sum = new Float64Array(n);
  const x = new Float64Array(n);
  let count = 0;
  for (let b = 0; b < batches.length; b++) {
    const shape = taps[0][b].shape;
    const outer = shape.slice(0, axis).reduce((p, d) => p * d, 1);
    const inner = shape.slice(axis + 1).reduce((p, d) => p * d, 1);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        for (let k = 0; k < models.length; k++) {
          const data = taps[k][b].data as Float32Array;
          for (let ch = 0; ch < c; ch++) x[k * c + ch] = data[(o * c + ch) * inner + i];
        }
        for (let p = 0; p < n; p++) {
          sum[p] += x[p];
          for (let q = 0; q < n; q++) gram[p * n + q] += x[p] * x[q];
        }
        count++;
      }
    }
  }
  return { gram, sum, count };
}

/** Largest elementwise relative difference, with a floor of 1e-6 × the largest magnitude. */
function maxRelativeDiff(actual: Float64Array, expected: Float64Array): number {
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-6 * scale));
  }
  return worst;
}

/** Population covariance gram/count − μμᵀ of raw accumulators, in float64. */
function covarianceOf(a: { gram: Float64Array; sum: Float64Array; count: number }): Float64Array {
  const n = a.sum.length;
  return Float64Array.from(a.gram, (v, k) => v / a.count - (a.sum[Math.floor(k / n)] / a.count) * (a.sum[k % n] / a.count));
}

/**
 * Checks both the probed layouts and the shape-agnostic ones against the plain-TS reference.
 * The Gram blocks are float32 GEMMs over hundreds of samples, centred on the batch mean
 * before the GEMM (see GramBlock): the covariance (what matching uses) agrees to ~2e-4 of its
 * largest entry — an uncentred float32 Gram gave 4e-3 on the same data — and the raw Gram,
 * rebuilt in float64, to ~2e-3 elementwise (it was 1e-5 uncentred: small off-diagonal
 * entries now carry the centred GEMM's rounding, which is relative to Σ|x̃x̃ᵀ|, not to the
 * entry; the covariance is what improves).
 */
async function expectAgreement(models: Graph[], spaces: SpaceRequest[], batches: Batch[]): Promise<void> {
  const probed = await collectStatistics(models, spaces, batches, { executor, threads: 2 });
  const agnostic = await collectStatistics(models, spaces, batches, { executor, threads: 2, probe: false });
  expect(probed.models).toEqual(models.map((_, k) => `model${k}`));
  for (const space of spaces) {
    const ref = await reference(models, space, batches);
    for (const stats of [probed, agnostic]) {
      const got = stats.raw(space.name);
      expect(got.count).toBe(ref.count);
      expect(got.sum.length).toBe(ref.sum.length);
      expect(maxRelativeDiff(got.gram, ref.gram)).toBeLessThan(5e-3);
      expect(maxRelativeDiff(covarianceOf(got), covarianceOf(ref))).toBeLessThan(5e-4);
      expect(maxRelativeDiff(got.sum, ref.sum)).toBeLessThan(1e-5);
    }
  }
}

const cnnSpaces = (n: number): SpaceRequest[] => [
  { name: 'stem', values: Array(n).fill('/relu/Relu_output_0'), axis: 1 },
  { name: 'layer1', values: Array(n).fill('/layer1/layer1.0/relu/Relu_1_output_0'), axis: 1 },
  { name: 'layer2', values: Array(n).fill('/layer2/layer2.0/relu/Relu_output_0'), axis: 1 },
];

describe('collectStatistics agrees with plain TypeScript on tapped activations', () => {
  const cnnBatches = randomBatches(
    [
      [3, 3, 12, 12],
      [2, 3, 12, 12],
      [3, 3, 12, 12],
    ],
    21,
  );

  it('conv (NCHW) activations, 2 models', async () => {
    const models = [1, 2].map((seed) => buildSmallCnn({ seed, imageSize: 12 }));
    await expectAgreement(models, cnnSpaces(2), cnnBatches);
  });

  it('conv (NCHW) activations, 3 models', async () => {
    const models = [3, 4, 5].map((seed) => buildSmallCnn({ seed, imageSize: 12, opset: 11 }));
    await expectAgreement(models, cnnSpaces(3), cnnBatches);
  });

  const tokenBatches = randomBatches(
    [
      [4, 6, 10],
      [3, 6, 10],
    ],
    22,
  );
  const tokenSpaces = (n: number): SpaceRequest[] => [
    { name: 'block0', values: Array(n).fill(tokenMlpActivation(0)), axis: -1 },
    { name: 'block1', values: Array(n).fill(tokenMlpActivation(1)), axis: 2 },
  ];

  it('token ([B, T, C]) activations, 2 models', async () => {
    const models = [1, 2].map((seed) => buildTokenMlp({ seed, tokens: 6, inFeatures: 10, hidden: 12 }));
    await expectAgreement(models, tokenSpaces(2), tokenBatches);
  });

  it('token ([B, T, C]) activations, 3 models', async () => {
    const models = [3, 4, 5].map((seed) => buildTokenMlp({ seed, tokens: 6, inFeatures: 10, hidden: 12, opset: 17 }));
    await expectAgreement(models, tokenSpaces(3), tokenBatches);
  });

  it('a single model, channels on axis 1 of a 2-D value', async () => {
    const models = [buildSmallCnn({ seed: 9, imageSize: 12 })];
    await expectAgreement(models, [{ name: 'pooled', values: ['/Flatten_output_0'], axis: 1 }], cnnBatches);
  });
});

describe('collectStatistics errors', () => {
  const models = [1, 2].map((seed) => buildSmallCnn({ seed, imageSize: 12 }));

  it('names the space when activations are not finite', async () => {
    const [batch] = randomBatches([[2, 3, 12, 12]], 1);
    batch.x.data[5] = Number.NaN;
    const run = collectStatistics(models, cnnSpaces(2), [batch], { executor, threads: 1 });
    await expect(run).rejects.toThrow(NumericError);
    await expect(collectStatistics(models, cnnSpaces(2), [batch], { executor, threads: 1 })).rejects.toThrow(/space stem/);
  });

  it('refuses an empty dataset', async () => {
    await expect(collectStatistics(models, cnnSpaces(2), [], { executor, threads: 1 })).rejects.toThrow(InvalidArgumentError);
    await expect(collectStatistics(models, cnnSpaces(2), [], { executor, threads: 1 })).rejects.toThrow(/empty/);
  });

  it('refuses models whose channel counts differ at a space', async () => {
    const wide = buildSmallCnn({ seed: 3, imageSize: 12, width: 4 });
    const run = collectStatistics([models[0], wide], cnnSpaces(2).slice(0, 1), randomBatches([[1, 3, 12, 12]], 1), { executor, threads: 1 });
    await expect(run).rejects.toThrow(MismatchError);
  });

  it('names the space when the models’ sample counts differ', async () => {
    const spaces: SpaceRequest[] = [{ name: 'odd', values: ['/relu/Relu_output_0', '/layer1/layer1.0/relu/Relu_output_0'], axis: 1 }];
    const run = collectStatistics(models, spaces, randomBatches([[1, 3, 12, 12]], 1), { executor, threads: 1 });
    await expect(run).rejects.toThrow(ShapeError);
    await expect(collectStatistics(models, spaces, randomBatches([[1, 3, 12, 12]], 1), { executor, threads: 1 })).rejects.toThrow(/space odd/);
  });

  it('reports progress per batch and honours an abort signal', async () => {
    const seen: number[] = [];
    const stats = await collectStatistics(
      models,
      cnnSpaces(2),
      randomBatches(
        [
          [2, 3, 12, 12],
          [1, 3, 12, 12],
        ],
        2,
      ),
      {
        executor,
        threads: 1,
        onProgress: (p) => seen.push(p.samples),
      },
    );
    expect(seen).toEqual([2, 3]);
    expect(stats.count('stem')).toBe(3 * 12 * 12);
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(collectStatistics(models, cnnSpaces(2), randomBatches([[1, 3, 12, 12]], 1), { executor, signal: controller.signal })).rejects.toThrow(
      'cancelled',
    );
  });
});

describe('collectStatistics on features that vary little around a large mean', () => {
  it('keeps their covariance: positive variances, twins identical, correlations within [−1, 1]', async () => {
    // y = 3 + 1e-4·x: σ²/μ² ≈ 1e-9, below float32's resolution of an uncentred Gram (which gave
    // negative variances on such features, MobileNetV2 at 32 px). Two copies of one model: every
    // feature has a bit-identical twin.
    const b = new GraphBuilder({ opset: 13 });
    const x = b.input('x', ['batch', 6]);
    const y = b.add(b.mul(x, b.constant(tensor('float32', [1], Float32Array.of(1e-4)))), b.constant(tensor('float32', [1], Float32Array.of(3))));
    const value = b.identity(y);
    b.output(b.identity(value), 'y');
    const m = b.build();
    const space: SpaceRequest = { name: 'near-constant', values: [value, value], axis: 1 };
    const batches = randomBatches(
      [
        [5, 6],
        [3, 6],
      ],
      4,
    );
    const stats = await collectStatistics([m, m], [space], batches, { executor, threads: 1 });
    const ref = covarianceOf(await reference([m, m], space, batches));
    const cov = stats.covariance(0);
    const n = 12;
    for (let i = 0; i < n; i++) {
      expect(cov[i * n + i]).toBeGreaterThan(0);
      expect(Math.abs(cov[i * n + i] - ref[i * n + i]) / ref[i * n + i]).toBeLessThan(1e-3);
      expect(cov[i * n + ((i + 6) % n)]).toBe(cov[i * n + i]);
      for (let j = 0; j < n; j++) expect(Math.abs(cov[i * n + j])).toBeLessThanOrEqual(Math.sqrt(cov[i * n + i] * cov[j * n + j]) * (1 + 1e-6));
    }
  });
});
