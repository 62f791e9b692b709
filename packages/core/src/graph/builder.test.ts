import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, ShapeError } from '../errors.js';
import { GraphBuilder, SeededRandom } from './builder.js';
import { buildSmallCnn, buildTokenMlp, tokenMlpActivation } from '../testing/models.js';
import { getAttribute, intsAttr, producers } from './graph.js';

describe('SeededRandom', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('draws standard normals', () => {
    const r = new SeededRandom(1);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
});

describe('GraphBuilder', () => {
  it('names nodes, values and parameters as PyTorch exports them', () => {
    const b = new GraphBuilder({ seed: 3 });
    let x = b.input('input', [null, 3, 8, 8]);
    x = b.conv(x, 4, { kernel: 3, pad: 1, bias: false, name: 'layer1.0.conv1' });
    expect(x).toBe('/layer1/layer1.0/conv1/Conv_output_0');
    x = b.batchNorm(x, { name: 'layer1.0.bn1' });
    x = b.relu(x);
    const y = b.relu(x);
    expect(y).toBe('/Relu_1_output_0');
    b.output(y, 'out');
    const g = b.build();
    expect([...g.initializers.keys()]).toEqual([
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
      'layer1.0.bn1.bias',
      'layer1.0.bn1.running_mean',
      'layer1.0.bn1.running_var',
    ]);
    expect(g.nodes.map((n) => n.name)).toEqual(['/layer1/layer1.0/conv1/Conv', '/layer1/layer1.0/bn1/BatchNormalization', '/Relu', '/Relu_1']);
    expect(g.outputs).toEqual([{ name: 'out', dtype: 'float32', shape: [null, 4, 8, 8] }]);
    expect(g.nodes[3].outputs).toEqual(['out']);
    expect(g.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(g.irVersion).toBe(7);
  });

  it('draws He-normal conv weights and sane BatchNorm parameters', () => {
    const b = new GraphBuilder({ seed: 11 });
    const x = b.input('input', [1, 64, 4, 4]);
    b.output(b.batchNorm(b.conv(x, 64, { kernel: 3, name: 'c' }), { name: 'bn' }));
    const g = b.build();
    const w = g.initializers.get('c.weight')!;
    expect(w.shape).toEqual([64, 64, 3, 3]);
    let s2 = 0;
    for (const v of w.data as Float32Array) s2 += v * v;
    const std = Math.sqrt(s2 / w.data.length);
    expect(std).toBeCloseTo(Math.sqrt(2 / (64 * 9)), 2);
    const bound = 1 / Math.sqrt(64 * 9);
    for (const v of g.initializers.get('c.bias')!.data as Float32Array) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    for (const v of g.initializers.get('bn.running_var')!.data as Float32Array) expect(v >= 0.5 && v < 1.5).toBe(true);
    for (const v of g.initializers.get('bn.weight')!.data as Float32Array) expect(v >= 0.5 && v < 1.5).toBe(true);
  });

  it('is deterministic: same seed and calls give identical weights', () => {
    const a = buildSmallCnn({ seed: 5 });
    const b = buildSmallCnn({ seed: 5 });
    const c = buildSmallCnn({ seed: 6 });
    expect([...a.initializers.keys()]).toEqual([...b.initializers.keys()]);
    for (const [k, t] of a.initializers) expect(b.initializers.get(k)!.data).toEqual(t.data);
    expect(c.initializers.get('conv1.weight')!.data).not.toEqual(a.initializers.get('conv1.weight')!.data);
  });

  it('tracks shapes through conv, pool, pad, flatten and gemm', () => {
    const b = new GraphBuilder();
    let x = b.input('input', ['batch', 3, 32, 32]);
    x = b.conv(x, 8, { kernel: 3, stride: 2, pad: 1 });
    expect(b.shape(x)).toEqual(['batch', 8, 16, 16]);
    x = b.maxPool(x, { kernel: 2 });
    expect(b.shape(x)).toEqual(['batch', 8, 8, 8]);
    x = b.pad(x, [0, 0, 1, 1, 0, 0, 1, 1]);
    expect(b.shape(x)).toEqual(['batch', 8, 10, 10]);
    const v = b.viewFlat(x);
    expect(b.shape(v)).toEqual(['batch', 800]);
    x = b.flatten(b.globalAveragePool(x));
    expect(b.shape(x)).toEqual(['batch', 8]);
    x = b.gemm(x, 5, { name: 'fc' });
    expect(b.shape(x)).toEqual(['batch', 5]);
    expect(b.shape(b.reshape(v, [0, 8, -1]))).toEqual(['batch', 8, 100]);
    expect(b.shape(b.transpose(v, [1, 0]))).toEqual([800, 'batch']);
  });

  it('emits the Shape/Gather/Unsqueeze/Concat/Reshape chain for x.view(x.size(0), -1)', () => {
    for (const opset of [11, 13, 17]) {
      const b = new GraphBuilder({ opset });
      b.output(b.viewFlat(b.input('x', [null, 2, 3])));
      const g = b.build();
      expect(g.nodes.map((n) => n.opType)).toEqual([
        'Shape',
        'Constant',
        'Gather',
        ...(opset >= 13 ? ['Constant'] : []),
        'Unsqueeze',
        'Constant',
        'Concat',
        'Reshape',
      ]);
      const unsq = g.nodes.find((n) => n.opType === 'Unsqueeze')!;
      expect(unsq.inputs.length).toBe(opset >= 13 ? 2 : 1);
      expect(intsAttr(unsq, 'axes')).toEqual(opset >= 13 ? undefined : [0]);
    }
  });

  it('puts shape constants into initializers on request', () => {
    const b = new GraphBuilder({ constants: 'initializer' });
    b.output(b.viewFlat(b.input('x', [null, 2, 3])));
    const g = b.build();
    expect(g.nodes.map((n) => n.opType)).toEqual(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape']);
    expect([...g.initializers.values()].every((t) => t.dtype === 'int64')).toBe(true);
  });

  it('writes Gemm with transB=1 and [out, in] weights, MatMul+Add with [in, out] weights', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [null, 6]);
    b.output(b.gemm(x, 4, { name: 'fc' }));
    const t = b.input('t', [null, 5, 6]);
    const y = b.linear(t, 3, { name: 'proj' });
    expect(b.shape(y)).toEqual([null, 5, 3]);
    b.output(y);
    const g = b.build();
    const gemm = g.nodes.find((n) => n.opType === 'Gemm')!;
    expect(getAttribute(gemm, 'transB')).toEqual({ type: 'int', value: 1 });
    expect(g.initializers.get('fc.weight')!.shape).toEqual([4, 6]);
    expect(g.initializers.get('proj.weight')!.shape).toEqual([6, 3]);
    const add = producers(g).get(y)!;
    expect(add.opType).toBe('Add');
    expect(add.inputs[0]).toBe('proj.bias');
  });

  it('uses LayerNormalization from opset 17 and the decomposed chain before', () => {
    const ops = (opset: number) => {
      const b = new GraphBuilder({ opset });
      b.output(b.layerNorm(b.input('t', [null, 4, 6]), { name: 'norm' }));
      return b.build().nodes.map((n) => n.opType);
    };
    expect(ops(17)).toEqual(['LayerNormalization']);
    expect(ops(13)).toContain('ReduceMean');
    expect(ops(13)).not.toContain('LayerNormalization');
  });

  it('builds the reference models with the expected interface', () => {
    const cnn = buildSmallCnn({ classes: [3, 4], flatten: 'view', pool: 'reduceMean', opset: 18 });
    expect(cnn.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['logits_0', ['batch', 3]],
      ['logits_1', ['batch', 4]],
    ]);
    expect(new Set(cnn.nodes.map((n) => n.opType))).toEqual(
      new Set([
        'Conv',
        'BatchNormalization',
        'Relu',
        'MaxPool',
        'Add',
        'Pad',
        'Constant',
        'Identity',
        'ReduceMean',
        'Shape',
        'Gather',
        'Unsqueeze',
        'Concat',
        'Reshape',
        'Gemm',
      ]),
    );
    const folded = buildSmallCnn({ foldedBatchNorm: true });
    expect(folded.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    expect(folded.initializers.has('conv1.bias')).toBe(true);
    const mlp = buildTokenMlp({ depth: 3 });
    expect(producers(mlp).get(tokenMlpActivation(2))?.opType).toBe('Relu');
    expect(mlp.outputs[0].shape).toEqual(['batch', 5]);
  });

  it('rejects bad use with typed errors', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [null, 3, 4, 4]);
    expect(() => b.relu('nope')).toThrow(NotFoundError);
    expect(() => b.conv(x, 4, { kernel: 5 })).toThrow(ShapeError);
    expect(() => b.conv(x, 4, { groups: 2 })).toThrow(ShapeError);
    expect(() => b.input('x', [1])).toThrow(InvalidArgumentError);
    b.conv(x, 4, { name: 'c' });
    expect(() => b.conv(x, 4, { name: 'c' })).toThrow(InvalidArgumentError);
    expect(() => b.build()).toThrow(InvalidArgumentError);
    expect(() => new GraphBuilder({ opset: 9 })).toThrow(InvalidArgumentError);
    const u = new GraphBuilder();
    expect(() => u.conv(u.input('y', [null, null, 4, 4]), 2)).toThrow(ShapeError);
  });
});
