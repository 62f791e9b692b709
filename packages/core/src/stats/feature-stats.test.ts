import { describe, expect, it } from 'vitest';
import { FeatureStats } from './feature-stats.js';
import { decodeStats, encodeStats } from './stats-file.js';
import { correlation32 } from './correlation.js';
import { flat32, goldenFile } from '../testing/golden.js';
import { FormatError, MismatchError, NumericError } from '../errors.js';

interface GoldenFeatures {
  num_models: number;
  channels_per_model: number;
  batches: number[];
  features: number[][][][][];
  covariance: number[][];
}

/** Stacks a batch of images of every model into X [M·C, B·H·W] (model-major, every pixel a sample). */
function stackBatch(g: GoldenFeatures, start: number, size: number): { x: Float64Array; n: number; p: number } {
  const m = g.num_models;
  const c = g.channels_per_model;
  const h = g.features[0][0][0].length;
  const w = g.features[0][0][0][0].length;
  const p = size * h * w;
  const n = m * c;
  const x = new Float64Array(n * p);
  for (let k = 0; k < m; k++)
    for (let ch = 0; ch < c; ch++)
      for (let b = 0; b < size; b++)
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) x[(k * c + ch) * p + (b * h + i) * w + j] = g.features[k][start + b][ch][i][j];
  return { x, n, p };
}

function gramAndSum(x: Float64Array, n: number, p: number) {
  const gram = new Float64Array(n * n);
  const sum = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < p; t++) sum[i] += x[i * p + t];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < p; t++) s += x[i * p + t] * x[j * p + t];
      gram[i * n + j] = s;
    }
  }
  return { gram, sum };
}

function accumulate(file: string): { stats: FeatureStats; golden: GoldenFeatures } {
  const g = goldenFile<GoldenFeatures>(file);
  const models = Array.from({ length: g.num_models }, (_, k) => `m${k}`);
  const stats = new FeatureStats(models, [{ name: 'p', channels: g.channels_per_model }]);
  let start = 0;
  for (const size of g.batches) {
    const { x, n, p } = stackBatch(g, start, size);
    const { gram, sum } = gramAndSum(x, n, p);
    stats.add('p', gram, sum, p);
    start += size;
  }
  return { stats, golden: g };
}

describe('FeatureStats', () => {
  for (const file of ['features_m2_c8.json', 'features_m2_c16.json', 'features_m3_c8.json']) {
    it(`reproduces the reference covariance (${file})`, () => {
      const { stats, golden } = accumulate(file);
      const cov = stats.covariance('p');
      const ref = golden.covariance.flat();
      const scale = Math.max(...ref.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(cov[i] - ref[i]));
      // The reference accumulates in float32; ours is float64, so agreement is to float32 precision.
      expect(worst / scale).toBeLessThan(1e-6);
      // One entry at a time (covarianceAt) is the same number as the whole matrix's.
      const n = Math.sqrt(cov.length);
      for (const [i, j] of [
        [0, 0],
        [1, n - 1],
        [n - 1, 2],
      ])
        expect(stats.covarianceAt('p', i, j)).toBe(cov[i * n + j]);
    });
  }

  it('computes the reference correlation from its covariance bit for bit (float32 arithmetic)', () => {
    for (const file of ['zipit_m2_c16_a0.3_b0.125.json', 'real_p1_node21_permute.json']) {
      const g = goldenFile<{ covariance: number[][]; correlation: number[][] }>(file);
      const n = g.covariance.length;
      const corr = correlation32(flat32(g.covariance), n);
      expect(Array.from(corr)).toEqual(Array.from(flat32(g.correlation)));
    }
  });

  it('is additive: two shards equal one pass', () => {
    const { stats: whole, golden } = accumulate('features_m2_c8.json');
    const models = ['m0', 'm1'];
    const spaces = [{ name: 'p', channels: golden.channels_per_model }];
    const a = new FeatureStats(models, spaces);
    const b = new FeatureStats(models, spaces);
    const first = stackBatch(golden, 0, golden.batches[0]);
    const second = stackBatch(golden, golden.batches[0], golden.batches[1]);
    const s1 = gramAndSum(first.x, first.n, first.p);
    const s2 = gramAndSum(second.x, second.n, second.p);
    a.add(0, s1.gram, s1.sum, first.p);
    b.add(0, s2.gram, s2.sum, second.p);
    a.addAll(b);
    expect(Array.from(a.covariance(0))).toEqual(Array.from(whole.covariance(0)));
    expect(a.count(0)).toBe(whole.count(0));
  });

  it('rejects NaN and mismatched shapes, naming the space', () => {
    const s = new FeatureStats(['a', 'b'], [{ name: 'layer1:stream', channels: 2 }]);
    const sum = new Float64Array([1, Number.NaN, 0, 0]);
    expect(() => s.add(0, new Float64Array(16), sum, 3)).toThrow(NumericError);
    expect(() => s.add(0, new Float64Array(16), sum, 3)).toThrow(/layer1:stream/);
    expect(() => s.add(0, new Float64Array(9), new Float64Array(3), 3)).toThrow(/do not fit 4 features/);
  });
});

describe('statistics file', () => {
  it('round-trips exactly and keeps the header', () => {
    const { stats } = accumulate('features_m3_c8.json');
    const bytes = encodeStats(stats, { fingerprints: ['x', 'y', 'z'] });
    const { stats: back, meta } = decodeStats(bytes);
    expect(meta).toEqual({ fingerprints: ['x', 'y', 'z'] });
    expect(back.models).toEqual(stats.models);
    expect(Array.from(back.covariance(0))).toEqual(Array.from(stats.covariance(0)));
    expect(encodeStats(back, meta)).toEqual(bytes);
  });

  it('refuses truncated, foreign and mismatched files with typed errors', () => {
    const { stats } = accumulate('features_m2_c8.json');
    const bytes = encodeStats(stats);
    expect(() => decodeStats(bytes.subarray(0, bytes.length - 8), 'a.zstats')).toThrow(FormatError);
    expect(() => decodeStats(bytes.subarray(0, bytes.length - 8), 'a.zstats')).toThrow(/a\.zstats/);
    expect(() => decodeStats(new TextEncoder().encode('hello world, not stats'))).toThrow(/bad magic/);
    const { stats: back } = decodeStats(bytes);
    expect(() => back.assertCompatible(['m0', 'other'], back.spaces)).toThrow(MismatchError);
  });
});
