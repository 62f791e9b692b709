import { describe, expect, it } from 'vitest';
import { orthogonalMatch } from '@zipit/core';
import { buildVit } from './build.js';
import { blendSimilarity, mlpWeightSimilarity } from './weight-similarity.js';

describe('MLP weight similarity', () => {
  it('finds every hidden unit of a model in its copy (similarity 1) and blends with correlations on a unit diagonal', () => {
    const g = buildVit({ depth: 2, heads: 2, dim: 8, mlpRatio: 2, seed: 7 });
    // The stream matched to itself: identity rotation.
    const c = 8;
    const eye2 = new Float64Array(4 * c * c).map((_, e) => (e % (2 * c + 1) === 0 ? 1 : 0));
    const stream = orthogonalMatch(eye2, 2);
    const sim = mlpWeightSimilarity([g, g], 1, stream);
    const h = 16;
    const n = 2 * h;
    for (let i = 0; i < h; i++) {
      expect(sim[i * n + h + i]).toBeCloseTo(1, 5);
      for (let j = 0; j < h; j++) if (j !== i) expect(sim[i * n + h + j]).toBeLessThan(0.99);
    }
    const cov = new Float64Array(n * n).map((_, e) => (Math.floor(e / n) === e % n ? 4 : 1));
    const blended = blendSimilarity(cov, sim, 0.25);
    expect(blended[0]).toBe(1);
    expect(blended[1]).toBeCloseTo(0.75 * 0.25 + 0.25 * sim[1], 12);
  });
});
