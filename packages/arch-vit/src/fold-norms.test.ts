import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  defaultMatcherRegistry,
  getPointMatcher,
  procrustesFixingOnes,
  SeededRandom,
  tensor,
  zipGraphs,
  type Graph,
  type MergeGraph,
  type Tensor,
} from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { computeStatistics } from '@zipit/pipeline';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { foldNormAffine } from './fold-norms.js';
import { matchVit } from './vit-match.js';
import { readVitLayout } from './layout.js';
import { prepareVit } from './prepare.js';
import { vitArch } from './vit-arch.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const TOLERANCE = 1e-4;

function images(shape: readonly number[], count: number, seed: number): Tensor<'float32'> {
  return new SeededRandom(seed).normalTensor([count, ...shape.slice(1)]);
}

async function run(graph: Graph, x: Tensor<'float32'>): Promise<Record<string, Float32Array>> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await s.run({ [graph.inputs.find((i) => !graph.initializers.has(i.name))!.name]: x });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * A copy of `graph` whose residual stream is rotated by an orthogonal Q: every stream producer
 * and consumer parameter gets Q along its channel axis (new[…, i, …] = Σⱼ Q[i, j]·old[…, j, …];
 * for consumers this is W·Qᵀ on the input side, since Q⁻¹ = Qᵀ).
 */
function rotateStream(graph: Graph, mg: MergeGraph, q: Float64Array): Graph {
  const initializers = new Map(graph.initializers);
  const seen = new Set<string>();
  for (const p of mg.points.filter((x) => x.name.endsWith(':stream'))) {
    const c = p.channels;
    for (const ref of [...p.producers, ...p.consumers]) {
      const key = `${ref.param}/${ref.axis}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const t = initializers.get(ref.param)!;
      const old = t.data as Float32Array;
      const inner = t.shape.slice(ref.axis + 1).reduce((x, y) => x * y, 1);
      const outer = t.shape.slice(0, ref.axis).reduce((x, y) => x * y, 1);
      const out = new Float32Array(old.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < c; i++) {
          for (let j = 0; j < c; j++) {
            const w = q[i * c + j];
            for (let r = 0; r < inner; r++) out[(o * c + i) * inner + r] += w * old[(o * c + j) * inner + r];
          }
        }
      }
      initializers.set(ref.param, tensor('float32', t.shape, out));
    }
  }
  return { ...graph, initializers };
}

describe.each([
  ['vit_d4_h4_fused_opset17.onnx', 'LayerNormalization op, fused qkv'],
  ['vit_d2_h4_mha_opset13.onnx', 'decomposed LayerNorm, nn.MultiheadAttention'],
])('foldNormAffine on %s (%s)', (file) => {
  it('keeps the function and leaves every LayerNorm with γ = 1, β = 0', async () => {
    const a = prepareVit(await readOnnxFile(fixture(file)));
    const folded = foldNormAffine(a);
    const x = images(a.inputs[0].shape as number[], 4, 1);
    expect(maxAbsDiff((await run(folded, x)).logits, (await run(a, x)).logits)).toBeLessThan(TOLERANCE);
    const r = readVitLayout(folded);
    if (!r.ok) throw new Error(r.reason);
    for (const n of [...r.layout.blocks.flatMap((b) => [b.norm1, b.norm2]), r.layout.norm]) {
      expect([...(folded.initializers.get(n.scale!)!.data as Float32Array)].every((v) => v === 1)).toBe(true);
      expect([...(folded.initializers.get(n.bias!)!.data as Float32Array)].every((v) => v === 0)).toBe(true);
    }
    expect(foldNormAffine(folded).initializers).toEqual(folded.initializers);
  });

  it('makes the stream rotation invariant: a rotated copy computes the same, and orthogonal stream/head matching (covariances pooled) merges it back to A', async () => {
    const a = foldNormAffine(prepareVit(await readOnnxFile(fixture(file))));
    const mg = vitArch.mergeGraph(a);
    const d = mg.points.find((p) => p.name.endsWith(':stream'))!.channels;
    const rng = new SeededRandom(7);
    const q = procrustesFixingOnes(
      Float64Array.from({ length: d * d }, () => rng.normal()),
      d,
    );
    const b = rotateStream(a, mg, q);
    const x = images(a.inputs[0].shape as number[], 8, 2);
    const ra = (await run(a, x)).logits;
    expect(maxAbsDiff((await run(b, x)).logits, ra)).toBeLessThan(TOLERANCE);

    const models = [a, b].map((graph, k) => ({ name: `model${k}`, graph, file: `model${k}.onnx` }));
    const stats = await computeStatistics(models, mg, [{ x: images(a.inputs[0].shape as number[], 32, 3) }], { executor, threads: 1 });
    const orthogonal = { matcher: getPointMatcher(defaultMatcherRegistry(), 'orthogonal') };
    const ts = matchVit(mg, (i) => stats.covariance(i), 2, {
      stream: orthogonal,
      attention: orthogonal,
      mlp: { matcher: getPointMatcher(defaultMatcherRegistry(), 'permute') },
    }).map((r) => ({ merge: r!.merge, unmerge: r!.unmerge }));
    const { graph } = zipGraphs([a, b], { mergeGraph: mg, transforms: ts, stopAt: 'all' });
    const out = await run(graph, x);
    for (const k of [0, 1]) expect(maxAbsDiff(out[`model${k}:logits`], ra)).toBeLessThan(1e-3);
  });
});
