import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MismatchError, ShapeError } from '../errors.js';
import { GraphBuilder } from '../graph/builder.js';
import { buildSmallCnn } from '../testing/models.js';
import type { Graph } from '../graph/graph.js';
import type { Tensor } from '../tensor/tensor.js';
import { deriveMergeGraph } from './derive.js';
import type { MergeGraph } from './merge-graph.js';
import { permuteModel } from './permute-model.js';
import { zipGraphs, type PointTransform } from './zip.js';

/** input → conv1 → bn1 → relu → conv2 → relu → GAP → flatten → fc (points: conv2:in [4], fc:in [6]). */
function cnn(seed: number, classes = 5): Graph {
  const b = new GraphBuilder({ seed });
  let x = b.input('input', ['batch', 3, 8, 8]);
  x = b.relu(b.batchNorm(b.conv(x, 4, { name: 'conv1', pad: 1, bias: false }), { name: 'bn1' }), { name: 'relu1' });
  x = b.relu(b.conv(x, 6, { name: 'conv2', pad: 1 }), { name: 'relu2' });
  x = b.flatten(b.globalAveragePool(x, { name: 'pool' }), { name: 'flatten' });
  b.output(b.gemm(x, classes, { name: 'fc' }), 'logits');
  return b.build();
}

function f32(t: Tensor | undefined): Float32Array {
  if (!t) throw new Error('missing tensor');
  return t.data as Float32Array;
}

/** Weight averaging: merge = [I/N … I/N], unmerge = [I; …; I]. */
function averaging(c: number, n: number): PointTransform {
  const merge = new Float32Array(c * n * c);
  const unmerge = new Float32Array(n * c * c);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < c; i++) {
      merge[i * n * c + k * c + i] = 1 / n;
      unmerge[(k * c + i) * c + i] = 1;
    }
  }
  return { merge, unmerge };
}

/** A seeded permutation of 0…c−1. */
function permutation(c: number, seed: number): Int32Array {
  const p = Int32Array.from({ length: c }, (_, i) => i);
  let s = seed;
  for (let i = c - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** The transform that aligns model 1 = permuted copy of model 0 back onto model 0 (averaging matched pairs). */
function alignment(perm: Int32Array): PointTransform {
  const c = perm.length;
  const merge = new Float32Array(c * 2 * c);
  const unmerge = new Float32Array(2 * c * c);
  for (let i = 0; i < c; i++) {
    merge[i * 2 * c + i] = 0.5;
    unmerge[i * c + i] = 1;
  }
  perm.forEach((src, b) => {
    merge[src * 2 * c + c + b] = 0.5;
    unmerge[(c + b) * c + src] = 1;
  });
  return { merge, unmerge };
}

describe('zipGraphs', () => {
  const a = cnn(1);
  const b = cnn(2);
  const mg = deriveMergeGraph(a);

  it('averages producers and consumers of zipped points and keeps one head per model', () => {
    const { graph, stop, outputs } = zipGraphs([a, b], {
      mergeGraph: mg,
      transforms: mg.points.map((p) => averaging(p.channels, 2)),
      modelNames: ['A', 'B'],
    });
    expect(stop).toBe(1);
    for (const name of ['conv1.weight', 'bn1.weight', 'conv2.weight', 'conv2.bias']) {
      const got = f32(graph.initializers.get(name));
      const wa = f32(a.initializers.get(name));
      const wb = f32(b.initializers.get(name));
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo((wa[i] + wb[i]) / 2, 6);
    }
    // A running variance merges as a variance: the standard deviations are averaged, then squared.
    const v = f32(graph.initializers.get('bn1.running_var'));
    const [va, vb] = [f32(a.initializers.get('bn1.running_var')), f32(b.initializers.get('bn1.running_var'))];
    for (let i = 0; i < v.length; i++) expect(v[i]).toBeCloseTo(((Math.sqrt(va[i]) + Math.sqrt(vb[i])) / 2) ** 2, 6);
    expect(f32(graph.initializers.get('fc.weight@A'))).toEqual(f32(a.initializers.get('fc.weight')));
    expect(f32(graph.initializers.get('fc.bias@B'))).toEqual(f32(b.initializers.get('fc.bias')));
    expect(graph.initializers.has('fc.weight')).toBe(false);
    expect(outputs).toEqual([
      { model: 'A', output: 'logits', value: 'A:logits' },
      { model: 'B', output: 'logits', value: 'B:logits' },
    ]);
    expect(graph.outputs.map((o) => o.name)).toEqual(['A:logits', 'B:logits']);
    expect(graph.nodes.filter((n) => n.opType === 'Gemm').map((n) => n.name)).toEqual(['/fc/Gemm@A', '/fc/Gemm@B']);
    expect(graph.metadata).toContainEqual(['zipit.models', 'A,B']);
  });

  it('recovers a model exactly from itself and a hidden-unit permutation of itself', () => {
    const perms = mg.points.map((p, i) => permutation(p.channels, 7 + i));
    const pa = permuteModel(a, mg, perms);
    expect(f32(pa.initializers.get('conv2.weight'))).not.toEqual(f32(a.initializers.get('conv2.weight')));
    const { graph } = zipGraphs([a, pa], { mergeGraph: mg, transforms: perms.map(alignment) });
    for (const [name, t] of a.initializers) {
      if (name.startsWith('fc.')) continue;
      expect(f32(graph.initializers.get(name)), name).toEqual(f32(t));
    }
    // Model 1's head reads the merged (= model 0's) basis through its unmerge: it equals model 0's head.
    expect(f32(graph.initializers.get('fc.weight@model1'))).toEqual(f32(a.initializers.get('fc.weight')));
  });

  it('at a partial stop unmerges the first per-model layer of each model and keeps the rest', () => {
    const perms = mg.points.map((p, i) => permutation(p.channels, 3 + i));
    const pa = permuteModel(a, mg, perms);
    const { graph, sharedNodes } = zipGraphs([a, pa], { mergeGraph: mg, transforms: [alignment(perms[0])], stopAt: 'conv2:in' });
    expect(sharedNodes).toEqual(['/conv1/Conv', '/bn1/BatchNormalization', '/relu1/Relu']);
    expect(f32(graph.initializers.get('conv1.weight'))).toEqual(f32(a.initializers.get('conv1.weight')));
    // Model 1's conv2 reads the merged basis: its input axis is un-permuted, its output axis stays permuted.
    const w = f32(graph.initializers.get('conv2.weight@model1'));
    const wa = f32(a.initializers.get('conv2.weight'));
    const [o, i, kk] = [6, 4, 9];
    for (let oo = 0; oo < o; oo++) {
      for (let ii = 0; ii < i; ii++) {
        for (let q = 0; q < kk; q++) expect(w[(oo * i + ii) * kk + q]).toBe(wa[(perms[1][oo] * i + ii) * kk + q]);
      }
    }
    expect(f32(graph.initializers.get('conv2.weight@model0'))).toEqual(wa);
    expect(f32(graph.initializers.get('fc.weight@model1'))).toEqual(f32(pa.initializers.get('fc.weight')));
  });

  it('zips nothing at stopAt none: every model keeps its own parameters', () => {
    const { graph, stop, sharedNodes } = zipGraphs([a, b], { mergeGraph: mg, transforms: [], stopAt: 'none' });
    expect(stop).toBe(-1);
    expect(sharedNodes).toEqual([]);
    for (const [name, t] of a.initializers) expect(graph.initializers.get(`${name}@model0`)).toBe(t);
    for (const [name, t] of b.initializers) expect(graph.initializers.get(`${name}@model1`)).toBe(t);
    expect(graph.nodes).toHaveLength(2 * a.nodes.length);
  });

  it('merges three models the same way', () => {
    const c = cnn(3);
    const { graph } = zipGraphs([a, b, c], { mergeGraph: mg, transforms: mg.points.map((p) => averaging(p.channels, 3)) });
    const got = f32(graph.initializers.get('conv2.weight'));
    const ws = [a, b, c].map((g) => f32(g.initializers.get('conv2.weight')));
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo((ws[0][i] + ws[1][i] + ws[2][i]) / 3, 6);
    expect(graph.outputs.map((o) => o.name)).toEqual(['model0:logits', 'model1:logits', 'model2:logits']);
  });

  it('lets tasks have different class counts', () => {
    const b3 = cnn(2, 3);
    const { graph } = zipGraphs([a, b3], { mergeGraph: mg, transforms: mg.points.map((p) => averaging(p.channels, 2)) });
    expect(graph.initializers.get('fc.weight@model1')!.shape).toEqual([3, 6]);
    expect(graph.initializers.get('fc.weight@model0')!.shape).toEqual([5, 6]);
  });

  it('shares computations that are identical in every model, e.g. the x.view(...) shape chain', () => {
    const va = buildSmallCnn({ seed: 1, width: 4, imageSize: 8, flatten: 'view' });
    const vb = buildSmallCnn({ seed: 2, width: 4, imageSize: 8, flatten: 'view' });
    const vmg = deriveMergeGraph(va);
    const { graph, sharedNodes } = zipGraphs([va, vb], { mergeGraph: vmg, transforms: [], stopAt: -1 });
    expect(sharedNodes.length).toBeGreaterThan(0);
    expect(sharedNodes.every((n) => /Constant|Shape|Gather|Unsqueeze|Concat/.test(n))).toBe(true);
    expect(graph.nodes.filter((n) => n.opType === 'Conv')).toHaveLength(2 * va.nodes.filter((n) => n.opType === 'Conv').length);
  });

  it('refuses a stop point that is not closed, wrong transform sizes and different architectures', () => {
    const rg = buildSmallCnn({ seed: 1, width: 4, imageSize: 8 });
    const rmg = deriveMergeGraph(rg);
    expect(() => zipGraphs([rg, rg], { mergeGraph: rmg, transforms: [], stopAt: 'layer1.0.conv2:in' })).toThrow(InvalidArgumentError);
    expect(() => zipGraphs([rg, rg], { mergeGraph: rmg, transforms: [], stopAt: 'layer1.0.conv2:in' })).toThrow(/stop points: -1 none, 1 layer1.0:stream/);
    expect(() => zipGraphs([a, b], { mergeGraph: mg, transforms: [averaging(3, 2)], stopAt: 0 })).toThrow(ShapeError);
    expect(() => zipGraphs([a, b], { mergeGraph: mg, transforms: [], stopAt: 0 })).toThrow(/no transform for merge point 0/);
    expect(() => zipGraphs([a, rg], { mergeGraph: mg, transforms: [], stopAt: -1 })).toThrow(MismatchError);
  });

  it('averages the consumer-only segment of a fused parameter (the K part of one QKV weight)', () => {
    const fused = (seed: number): Graph => {
      const b = new GraphBuilder({ seed });
      b.output(b.linear(b.input('tokens', ['batch', 3, 5]), 6, { name: 'qkv', bias: false }), 'y');
      return b.build();
    };
    const fa = fused(1);
    const fb = fused(2);
    const node = fa.nodes[0].name;
    const y = fa.nodes[0].outputs[0];
    const fmg: MergeGraph = {
      points: [
        {
          index: 0,
          name: 'attn:qk',
          channels: 2,
          observe: { value: y, axis: 2 },
          values: [{ value: y, axis: 2 }],
          producers: [{ param: 'qkv.weight', axis: 1, node, offset: 0 }],
          consumers: [{ param: 'qkv.weight', axis: 1, node, offset: 2 }],
          ties: [],
          blocks: { count: 1, size: 2 },
          stopPoint: true,
          producerNodes: [node],
          consumerNodes: [node],
        },
      ],
      heads: [],
      barriers: [],
    };
    const { graph } = zipGraphs([fa, fb], { mergeGraph: fmg, transforms: [averaging(2, 2)] });
    const wa = f32(fa.initializers.get('qkv.weight'));
    const wb = f32(fb.initializers.get('qkv.weight'));
    const w = f32(graph.initializers.get('qkv.weight'));
    for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo((wa[i] + wb[i]) / 2, 6);
  });
});
