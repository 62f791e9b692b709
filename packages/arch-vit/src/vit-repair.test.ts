import { describe, expect, it } from 'vitest';
import { orthogonalMatch, polarFactor, SeededRandom, zipGraphs } from '@zipit/core';
import { runModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { buildVit } from './build.js';
import { prepareVit } from './prepare.js';
import { vitArch } from './vit-arch.js';
import { channelAffine, channelMomentsAccumulator, insertChannelAffine, RepairTargetMoments, vitRepairSites, vitTemperatureSites } from './vit-repair.js';

describe('ViT REPAIR', () => {
  it('targets a permutation merge at the merge-weighted source moments, and a rotated copy at the model itself', () => {
    const rng = new SeededRandom(5);
    const [c, rows] = [3, 500];
    const x0 = Float32Array.from({ length: rows * c }, (_, e) => rng.normal() * (1 + (e % c)) + (e % c));
    const x1 = Float32Array.from({ length: rows * c }, () => 2 * rng.normal() - 1);
    // Merged channel j averages model 0's j and model 1's (j + 1) mod c.
    const merge = new Float64Array(c * 2 * c);
    for (let j = 0; j < c; j++) {
      merge[j * 2 * c + j] = 0.5;
      merge[j * 2 * c + c + ((j + 1) % c)] = 0.5;
    }
    const t = new RepairTargetMoments(merge, 2, c);
    t.add(0, x0);
    t.add(1, x1);
    const [m0, m1] = [x0, x1].map((x) => {
      const a = channelMomentsAccumulator(c);
      a.add(0, x);
      return a.target();
    });
    const got = t.target();
    for (let j = 0; j < c; j++) {
      expect(got.mean[j]).toBeCloseTo((m0.mean[j] + m1.mean[(j + 1) % c]) / 2, 10);
      expect(got.std[j]).toBeCloseTo((m0.std[j] + m1.std[(j + 1) % c]) / 2, 10);
    }

    // Model 1 = a rotation of model 0; the orthogonal merge's target is model 0's moments, and
    // the correction of model 0's own moments onto it is the identity.
    const r = polarFactor(
      Float64Array.from({ length: c * c }, () => rng.normal()),
      c,
    );
    const xr = new Float32Array(rows * c);
    for (let s = 0; s < rows; s++) for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) xr[s * c + i] += r[i * c + j] * x0[s * c + j];
    const rotMerge = new Float64Array(c * 2 * c);
    for (let i = 0; i < c; i++) {
      rotMerge[i * 2 * c + i] = 0.5;
      for (let j = 0; j < c; j++) rotMerge[i * 2 * c + c + j] = r[j * c + i] / 2; // Rᵀ maps model 1 back onto model 0
    }
    const tr = new RepairTargetMoments(rotMerge, 2, c);
    tr.add(0, x0);
    tr.add(1, xr);
    const target = tr.target();
    for (let j = 0; j < c; j++) {
      expect(target.mean[j]).toBeCloseTo(m0.mean[j], 5);
      expect(target.std[j]).toBeCloseTo(m0.std[j], 5);
    }
    const { scale, shift } = channelAffine(m0, target);
    for (let j = 0; j < c; j++) {
      expect(scale[j]).toBeCloseTo(1, 5);
      expect(shift[j]).toBeCloseTo(0, 4);
    }
  });

  it('lists the sites of the zipped trunk in graph order and corrects one exactly in onnxruntime', async () => {
    const g = prepareVit(buildVit({ depth: 2, heads: 2, dim: 16, qkv: 'fused', seed: 2 }));
    const mg = vitArch.mergeGraph(g);
    const stops = mg.points.filter((p) => p.stopPoint).map((p) => p.index);
    const all = vitRepairSites(g, mg, stops[stops.length - 1], ['stream', 'mlp', 'branch']);
    expect(all.map((s) => s.kind)).toEqual(['stream', 'branch', 'mlp', 'branch', 'stream', 'branch', 'mlp', 'branch', 'stream']);
    expect(all.every((s) => s.channels === mg.points[s.point].channels)).toBe(true);
    expect(vitRepairSites(g, mg, stops[0], ['stream', 'mlp', 'branch']).map((s) => s.kind)).toEqual(['stream']);
    expect(vitTemperatureSites(g, mg, stops[1])).toHaveLength(1);
    expect(vitTemperatureSites(g, mg, stops[2]).map((s) => [s.offset, s.channels, s.outChannels])).toEqual([
      [0, 16, 48],
      [0, 16, 48],
    ]);

    // A self-merge keeps the names of the trunk; a correction y = 2x − 1 at an fc1 output.
    const rot = (p: number) =>
      orthogonalMatch(
        new Float64Array((2 * mg.points[p].channels) ** 2).map((_, e) => (e % (2 * mg.points[p].channels + 1) === 0 ? 1 : 0)),
        2,
      );
    const { graph: merged } = zipGraphs([g, g], { mergeGraph: mg, transforms: mg.points.map((p) => rot(p.index)), modelNames: ['A', 'B'] });
    const site = all[2];
    const c = site.channels;
    const fixed = insertChannelAffine(merged, site.value, new Float32Array(c).fill(2), new Float32Array(c).fill(-1));
    const batch = [{ x: new SeededRandom(3).normalTensor([2, 1, 16, 16]) }];
    const read = async (graph: typeof g, values: string[]) => {
      for await (const r of runModel(graph, batch, { executor, threads: 1, fetch: values })) return values.map((v) => r.values[v].data as Float32Array);
      throw new Error('no batch');
    };
    const [before] = await read(merged, [site.value]);
    const [raw, corrected] = await read(fixed, [site.value, `${site.value}/repair/output`]);
    expect(raw).toEqual(before);
    for (let e = 0; e < raw.length; e++) expect(corrected[e]).toBeCloseTo(2 * raw[e] - 1, 5);
    expect(() => insertChannelAffine(fixed, site.value, new Float32Array(c), new Float32Array(c))).toThrow(/corrected already/);
  });
});
