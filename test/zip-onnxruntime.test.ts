import { beforeAll, describe, expect, it } from 'vitest';
import {
  averageMatch,
  deriveMergeGraph,
  fromAssignment,
  GraphBuilder,
  permuteModel,
  tensor,
  zipGraphs,
  type Graph,
  type MergeGraph,
  type PointTransform,
  type StopAt,
  type Tensor,
} from '@zipit/core';
import { buildSmallCnn, buildTokenMlp } from '@zipit/core/testing';
import { ModelSession } from '@zipit/runtime-ort';
import { readOnnxFile } from '@zipit/io-onnx/node';

/**
 * End to end: derive the merge graph, zip, write ONNX, run it in onnxruntime, compare with the
 * input models run the same way. Invariants: no zipping reproduces the ensemble bit for bit;
 * zip(A, A) with averaging equals A; zip(A, P(A)) with the aligning transform equals A.
 */

function seededTensor(shape: number[], seed: number): Tensor<'float32'> {
  let s = seed >>> 0;
  const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return tensor('float32', shape, data);
}

async function run(graph: Graph, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function permutation(c: number, seed: number): Int32Array {
  const p = Int32Array.from({ length: c }, (_, i) => i);
  let s = seed >>> 0;
  for (let i = c - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** What a perfect matcher returns for (A, P(A)): pair channel perm[b] of A with channel b of the copy. */
function aligning(perm: Int32Array): PointTransform {
  const c = perm.length;
  const groupOf = new Int32Array(2 * c);
  for (let i = 0; i < c; i++) groupOf[i] = i;
  perm.forEach((src, b) => (groupOf[c + b] = src));
  return fromAssignment(groupOf, c, 2);
}

function averaging(mg: MergeGraph, n: number): PointTransform[] {
  return mg.points.map((p) => averageMatch(new Float64Array((n * p.channels) ** 2), n));
}

interface Case {
  name: string;
  build: (seed: number) => Graph;
  input: Record<string, Tensor>;
}

const image = { input: seededTensor([3, 3, 8, 8], 11) };
const tokens = { tokens: seededTensor([3, 5, 6], 12) };

const cases: Case[] = [
  {
    name: 'residual CNN (BatchNorm, Pad, MaxPool, x.view flatten)',
    build: (seed) => buildSmallCnn({ seed, width: 4, imageSize: 8, flatten: 'view' }),
    input: image,
  },
  {
    name: 'residual CNN (BatchNorm folded, ReduceMean pooling, two heads of 3 and 4 classes)',
    build: (seed) => buildSmallCnn({ seed, width: 4, imageSize: 8, foldedBatchNorm: true, pool: 'reduceMean', classes: [3, 4] }),
    input: image,
  },
  {
    name: 'conv shortcut block',
    build: (seed) => {
      const b = new GraphBuilder({ seed });
      let x = b.input('input', ['batch', 3, 8, 8]);
      x = b.relu(b.batchNorm(b.conv(x, 4, { name: 'stem', pad: 1, bias: false }), { name: 'stem_bn' }));
      const y = b.relu(b.conv(x, 6, { name: 'block.conv1', pad: 1, stride: 2 }));
      const z = b.conv(y, 6, { name: 'block.conv2', pad: 1 });
      const s = b.conv(x, 6, { name: 'block.shortcut', kernel: 1, stride: 2 });
      x = b.relu(b.add(z, s, { name: 'block' }));
      b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
      return b.build();
    },
    input: image,
  },
  {
    name: 'MLP with Gemm transB=0, Sigmoid/Tanh/LeakyRelu/Clip and a per-channel scale',
    build: (seed) => {
      const b = new GraphBuilder({ seed });
      const dense = (x: string, k: number, n: number, name: string) => {
        const w = b.parameter(`${name}.weight`, b.rng.normalTensor([k, n], Math.sqrt(1 / k)));
        const bias = b.parameter(`${name}.bias`, b.rng.normalTensor([n], 0.1));
        return b.node('Gemm', [x, w, bias], { name, attributes: { transB: { type: 'int', value: 0 } }, shapes: [['batch', n]] })[0];
      };
      const act = (op: string, x: string, attributes = {}) => b.node(op, [x], { attributes, shapes: [b.shape(x)] })[0];
      let x = b.input('features', ['batch', 10]);
      x = act('LeakyRelu', dense(x, 10, 8, 'fc1'), { alpha: { type: 'float', value: 0.1 } });
      x = b.mul(act('Tanh', dense(x, 8, 8, 'fc2')), b.parameter('scale', b.rng.uniformTensor([8], 0.5, 1.5)));
      x = act('Sigmoid', dense(x, 8, 6, 'fc3'));
      x = b.node(
        'Clip',
        [dense(x, 6, 6, 'fc4'), b.constant(tensor('float32', [], Float32Array.of(0))), b.constant(tensor('float32', [], Float32Array.of(0.8)))],
        { shapes: [['batch', 6]] },
      )[0];
      b.output(dense(x, 6, 3, 'head'), 'logits');
      return b.build();
    },
    input: { features: seededTensor([4, 10], 13) },
  },
  { name: 'token MLP (MatMul + Add)', build: (seed) => buildTokenMlp({ seed, tokens: 5, inFeatures: 6 }), input: tokens },
  {
    name: 'tokens with LayerNorm and erf GELU (opset 17)',
    build: (seed) => {
      const b = new GraphBuilder({ seed, opset: 17 });
      let x = b.input('tokens', ['batch', 5, 6]);
      x = b.layerNorm(b.linear(x, 8, { name: 'fc1' }), { name: 'norm' });
      x = b.linear(b.gelu(x, { name: 'act' }), 8, { name: 'fc2' });
      x = b.reduceMean(b.relu(x), [1], { name: 'pool' });
      b.output(b.gemm(x, 3, { name: 'head' }), 'logits');
      return b.build();
    },
    input: tokens,
  },
];

describe.each(cases)('zip in onnxruntime: $name', ({ build, input }) => {
  const a = build(1);
  const b = build(2);
  const mg = deriveMergeGraph(a);
  const stops: StopAt[] = [...mg.points.filter((p) => p.stopPoint).map((p) => p.name), 'all'];

  it('has stop points', () => {
    expect(stops.length).toBeGreaterThan(1);
  });

  it('reproduces the ensemble bit for bit when nothing is zipped', async () => {
    const [ra, rb] = [await run(a, input), await run(b, input)];
    const { graph } = zipGraphs([a, b], { mergeGraph: mg, transforms: [], stopAt: 'none', modelNames: ['A', 'B'] });
    const rz = await run(graph, input);
    for (const o of a.outputs) {
      expect(rz[`A:${o.name}`]).toEqual(ra[o.name]);
      expect(rz[`B:${o.name}`]).toEqual(rb[o.name]);
    }
  });

  it('zip(A, A) with averaging equals A at every stop point (max |Δ| ≤ 1e-4)', async () => {
    const ra = await run(a, input);
    for (const stopAt of stops) {
      const { graph } = zipGraphs([a, a], { mergeGraph: mg, transforms: averaging(mg, 2), stopAt });
      const rz = await run(graph, input);
      for (const o of a.outputs) {
        for (const k of [0, 1]) expect(maxAbsDiff(rz[`model${k}:${o.name}`], ra[o.name]), `${String(stopAt)} model${k}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('zip(A, P(A)) with the aligning transform equals A at every stop point', async () => {
    const perms = mg.points.map((p, i) => permutation(p.channels, 31 + i));
    const pa = permuteModel(a, mg, perms);
    const ra = await run(a, input);
    const rp = await run(pa, input);
    for (const o of a.outputs) expect(maxAbsDiff(rp[o.name], ra[o.name])).toBeLessThanOrEqual(1e-4);
    for (const stopAt of stops) {
      const { graph } = zipGraphs([a, pa], { mergeGraph: mg, transforms: perms.map(aligning), stopAt });
      const rz = await run(graph, input);
      for (const o of a.outputs) {
        for (const k of [0, 1]) expect(maxAbsDiff(rz[`model${k}:${o.name}`], ra[o.name]), `${String(stopAt)} model${k}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('merges three models: zip(A, A, A) equals A', async () => {
    const ra = await run(a, input);
    const { graph } = zipGraphs([a, a, a], { mergeGraph: mg, transforms: averaging(mg, 3), stopAt: 'all' });
    const rz = await run(graph, input);
    for (const o of a.outputs) {
      for (const k of [0, 1, 2]) expect(maxAbsDiff(rz[`model${k}:${o.name}`], ra[o.name])).toBeLessThanOrEqual(1e-4);
    }
  });
});

/** Models exported by PyTorch 1.13 (see packages/io-onnx/fixtures/README.md), incl. the dynamic F.pad lowering. */
describe.each([
  { file: 'cnn_bn_opset13', points: ['conv2:in', 'fc:in'] },
  { file: 'cnn_folded_opset17', points: ['conv2:in', 'fc:in'] },
  { file: 'resnet_block_opset13', points: ['block1.conv2:in', 'block1:stream', 'block2.conv2:in', 'block2:stream'] },
  { file: 'mlp_view_opset17', points: ['fc2:in'] },
])('zip in onnxruntime: PyTorch export $file', ({ file, points }) => {
  let a: Graph;
  let mg: MergeGraph;
  const input = { input: seededTensor([2, 3, 8, 8], 5) };
  beforeAll(async () => {
    a = await readOnnxFile(`packages/io-onnx/fixtures/${file}.onnx`);
    mg = deriveMergeGraph(a);
  });

  it('derives readable merge points', () => {
    expect(mg.points.map((p) => p.name)).toEqual(points);
    expect(mg.barriers).toEqual([]);
  });

  it('reproduces the ensemble exactly, and zip(A, P(A)) = A at every stop point', async () => {
    const perms = mg.points.map((p, i) => permutation(p.channels, 17 + i));
    const pa = permuteModel(a, mg, perms);
    const [ra, rp] = [await run(a, input), await run(pa, input)];
    const ensemble = zipGraphs([a, pa], { mergeGraph: mg, transforms: [], stopAt: 'none' });
    const re = await run(ensemble.graph, input);
    expect(re['model0:logits']).toEqual(ra.logits);
    expect(re['model1:logits']).toEqual(rp.logits);
    for (const stopAt of [...mg.points.filter((p) => p.stopPoint).map((p) => p.index), 'all'] as StopAt[]) {
      const { graph } = zipGraphs([a, pa], { mergeGraph: mg, transforms: perms.map(aligning), stopAt });
      const rz = await run(graph, input);
      for (const k of [0, 1]) expect(maxAbsDiff(rz[`model${k}:logits`], ra.logits), `${String(stopAt)}`).toBeLessThanOrEqual(1e-4);
    }
  });
});
