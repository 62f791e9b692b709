import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../graph/builder.js';
import { deriveMergeGraph } from '../merge/derive.js';
import { permuteModel, randomPointPermutations } from '../merge/permute-model.js';
import { buildSmallCnn } from '../testing/models.js';
import { pointSignatures, signatureDistance } from './feature-signatures.js';
import { permuteMatch } from './permute-matcher.js';
import { zipitMatch } from './zipit-matcher.js';

function groupOf(res: ReturnType<typeof zipitMatch>): number[] {
  const c = res.channels;
  return Array.from({ length: res.numModels * c }, (_, r) => res.unmerge.subarray(r * c, (r + 1) * c).indexOf(1));
}

describe('pointSignatures', () => {
  const a = buildSmallCnn({ width: 6, imageSize: 8, seed: 3 });
  const mg = deriveMergeGraph(a);
  const perms = randomPointPermutations(mg, new SeededRandom(5));
  const b = permuteModel(a, mg, perms);

  it('gives a channel and its twin in a permuted copy the same signature, and different channels different ones', () => {
    expect(mg.points.length).toBeGreaterThan(1);
    for (const p of mg.points) {
      const s = pointSignatures([a, b], p);
      const c = p.channels;
      expect(s.width).toBe(2 * (p.producers.length + p.consumers.length));
      expect(s.values.length).toBe(2 * c * s.width);
      // Channel j of B holds channel perms[j] of A: equal up to float64 rounding of reordered sums.
      for (let j = 0; j < c; j++) expect(signatureDistance(s, perms[p.index][j], c + j), `${p.name} ${j}`).toBeLessThan(1e-20);
      for (let i = 0; i < c; i++) for (let k = 0; k < i; k++) expect(signatureDistance(s, i, k), `${p.name} ${i}/${k}`).toBeGreaterThan(1e-6);
    }
  });

  it('lets zipit and permute pair features the data cannot tell apart (dead on every sample) with their twins', () => {
    const p = mg.points[mg.points.length - 1];
    const c = p.channels;
    const perm = perms[p.index];
    // Channels 0 … 3 of A are dead on the data (zero), the rest vary; B is the permuted copy.
    const r = new SeededRandom(7);
    const samples = 6;
    const featA = Array.from({ length: c }, (_, i) => Float64Array.from({ length: samples }, () => (i < 4 ? 0 : r.next())));
    const stacked = [...featA, ...Array.from(perm, (q) => featA[q])];
    const n = 2 * c;
    const mean = stacked.map((x) => x.reduce((u, v) => u + v, 0) / samples);
    const cov = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let v = 0;
        for (let t = 0; t < samples; t++) v += (stacked[i][t] - mean[i]) * (stacked[j][t] - mean[j]);
        cov[i * n + j] = v / samples;
      }
    const means = Float64Array.from(mean);
    const signatures = pointSignatures([a, b], p);
    for (const g of [groupOf(zipitMatch(cov, 2, 0.5, 1, { means, signatures })), groupOf(permuteMatch(cov, 2, { means, signatures }))]) {
      for (let j = 0; j < c; j++) expect(g[c + j], `B ${j} = A ${perm[j]}`).toBe(g[perm[j]]);
    }
    // Without signatures the k-th dead feature of B joins the k-th of A, whichever it is.
    const deadB = Array.from({ length: c }, (_, j) => j).filter((j) => perm[j] < 4);
    expect(deadB.map((j) => perm[j])).not.toEqual([0, 1, 2, 3]);
    const byRank = groupOf(permuteMatch(cov, 2, { means }));
    deadB.forEach((j, k) => {
      expect(byRank[c + j]).toBe(byRank[k]);
    });
    // Read only where constants of two models share a class (callers compute them on demand).
    let reads = 0;
    const counting = {
      means,
      get signatures() {
        reads++;
        return signatures;
      },
    };
    zipitMatch(cov, 2, 0.5, 1, counting);
    expect(reads).toBe(1);
    const live = Array.from({ length: n * n }, (_, e) => (Math.floor(e / n) === e % n ? 1 : cov[e]));
    zipitMatch(Float64Array.from(live), 2, 0.5, 1, counting);
    expect(reads).toBe(1);
  });
});
