import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import { buildSmallCnn, buildTokenMlp } from '../testing/models.js';
import type { Graph } from '../graph/graph.js';
import { tensor } from '../tensor/tensor.js';
import { deriveMergeGraph } from './derive.js';
import { diffMergeGraphs, type MergeGraph, type MergePoint } from './merge-graph.js';
import { commonModulePrefix, scopeModule } from './naming.js';

function point(mg: MergeGraph, name: string): MergePoint {
  const p = mg.points.find((q) => q.name === name);
  if (!p) throw new Error(`no point ${name}; have ${mg.points.map((q) => q.name).join(', ')}`);
  return p;
}

const refs = (rs: { param: string; axis: number }[]) => rs.map((r) => `${r.param}@${r.axis}`).sort();

/** input → conv1 → relu → conv2 → relu → GAP → flatten → fc. */
function plainCnn(opts: { bn?: boolean } = {}): Graph {
  const b = new GraphBuilder({ seed: 3 });
  let x = b.input('input', ['batch', 3, 8, 8]);
  x = b.conv(x, 4, { name: 'conv1', pad: 1, bias: !opts.bn });
  if (opts.bn) x = b.batchNorm(x, { name: 'bn1' });
  x = b.relu(x, { name: 'relu1' });
  x = b.relu(b.conv(x, 6, { name: 'conv2', pad: 1 }), { name: 'relu2' });
  x = b.flatten(b.globalAveragePool(x, { name: 'pool' }), { name: 'flatten' });
  b.output(b.gemm(x, 5, { name: 'fc' }), 'logits');
  return b.build();
}

describe('deriveMergeGraph on a plain CNN', () => {
  const mg = deriveMergeGraph(plainCnn({ bn: true }));

  it('finds one space per hidden layer, named after the layer that reads it, in depth order', () => {
    expect(mg.points.map((p) => [p.index, p.name, p.channels])).toEqual([
      [0, 'conv2:in', 4],
      [1, 'fc:in', 6],
    ]);
    expect(mg.barriers).toEqual([]);
  });

  it('lists producers (weights, bias, BatchNorm parameters and statistics) and consumers with their axes', () => {
    const p = point(mg, 'conv2:in');
    expect(refs(p.producers)).toEqual(
      refs([
        { param: 'conv1.weight', axis: 0 },
        { param: 'bn1.weight', axis: 0 },
        { param: 'bn1.bias', axis: 0 },
        { param: 'bn1.running_mean', axis: 0 },
        { param: 'bn1.running_var', axis: 0 },
      ]),
    );
    expect(refs(p.consumers)).toEqual(['conv2.weight@1']);
    const q = point(mg, 'fc:in');
    expect(refs(q.producers)).toEqual(['conv2.bias@0', 'conv2.weight@0']);
    expect(refs(q.consumers)).toEqual(['fc.weight@1']); // Gemm transB=1: W [out, in]
    expect(p.producerNodes).toEqual(['/conv1/Conv', '/bn1/BatchNormalization']);
    expect(p.consumerNodes).toEqual(['/conv2/Conv']);
  });

  it('observes after the nonlinearity and before pooling', () => {
    expect(point(mg, 'conv2:in').observe).toEqual({ value: '/relu1/Relu_output_0', axis: 1 });
    expect(point(mg, 'fc:in').observe).toEqual({ value: '/relu2/Relu_output_0', axis: 1 });
    expect(point(mg, 'fc:in').values.map((v) => v.value)).toContain('/flatten/Flatten_output_0');
  });

  it('marks the classifier as a head, never a merge point, and both points as stop points', () => {
    expect(mg.heads).toEqual([{ name: 'fc', node: '/fc/Gemm', outputs: ['logits'], classes: 5, input: 1 }]);
    expect(mg.points.map((p) => p.stopPoint)).toEqual([true, true]);
  });
});

describe('deriveMergeGraph on residual networks', () => {
  it('ties the residual stream into one space observed at the end of its stage', () => {
    const mg = deriveMergeGraph(buildSmallCnn({ width: 4, imageSize: 8 }));
    expect(mg.points.map((p) => [p.name, p.channels, p.stopPoint])).toEqual([
      ['layer1.0.conv2:in', 4, false],
      ['layer1.0:stream', 4, true],
      ['fc:in', 8, true],
    ]);
    const stream = point(mg, 'layer1.0:stream');
    expect(stream.ties.map((t) => t.node)).toEqual(['/layer1/layer1.0/Add']);
    // Stem and block output both write the stream; the next stage's conv reads it through the Pad.
    expect(stream.producerNodes).toEqual(['/conv1/Conv', '/bn1/BatchNormalization', '/layer1/layer1.0/conv2/Conv', '/layer1/layer1.0/bn2/BatchNormalization']);
    expect(stream.consumerNodes).toEqual(['/layer1/layer1.0/conv1/Conv', '/layer2/layer2.0/conv1/Conv']);
    expect(stream.observe.value).toBe('/layer1/layer1.0/relu/Relu_1_output_0');
  });

  it('derives the same points from the x.view(x.size(0), -1) chain, ReduceMean pooling and folded BatchNorm', () => {
    const base = deriveMergeGraph(buildSmallCnn({ width: 4, imageSize: 8 }));
    for (const g of [
      buildSmallCnn({ width: 4, imageSize: 8, flatten: 'view' }),
      buildSmallCnn({ width: 4, imageSize: 8, pool: 'reduceMean' }),
      buildSmallCnn({ width: 4, imageSize: 8, foldedBatchNorm: true }),
      buildSmallCnn({ width: 4, imageSize: 8, flatten: 'view', constants: 'initializer', opset: 18, pool: 'reduceMean' }),
    ]) {
      const mg = deriveMergeGraph(g);
      expect(mg.points.map((p) => [p.name, p.channels, p.stopPoint, p.observe.value])).toEqual(
        base.points.map((p) => [p.name, p.channels, p.stopPoint, p.observe.value]),
      );
    }
  });

  it('gives a conv shortcut its own input space and ties its output to the block output', () => {
    const b = new GraphBuilder({ seed: 1 });
    let x = b.input('input', ['batch', 3, 8, 8]);
    x = b.relu(b.conv(x, 4, { name: 'stem', pad: 1 }));
    const y = b.relu(b.conv(x, 6, { name: 'block.conv1', pad: 1 }));
    const z = b.conv(y, 6, { name: 'block.conv2', pad: 1 });
    const s = b.conv(x, 6, { name: 'block.shortcut', kernel: 1 });
    x = b.relu(b.add(z, s, { name: 'block' }));
    b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
    const mg = deriveMergeGraph(b.build());
    expect(mg.points.map((p) => [p.name, p.channels, p.stopPoint])).toEqual([
      ['block.conv1:in', 4, true],
      // With a conv shortcut the block's input is its own space, so the inner point is closed too.
      ['block.conv2:in', 6, true],
      ['block:stream', 6, true],
    ]);
    expect(refs(point(mg, 'block.conv1:in').consumers)).toEqual(['block.conv1.weight@1', 'block.shortcut.weight@1']);
    expect(refs(point(mg, 'block:stream').producers)).toEqual([
      'block.conv2.bias@0',
      'block.conv2.weight@0',
      'block.shortcut.bias@0',
      'block.shortcut.weight@0',
    ]);
  });
});

describe('deriveMergeGraph on VGG-11 (CIFAR layout of the reference)', () => {
  it('finds one point per convolution, observed after its ReLU and before max-pooling', () => {
    const b = new GraphBuilder({ seed: 6 });
    let x = b.input('input', ['batch', 3, 32, 32]);
    let i = 0;
    const convs: string[] = [];
    for (const v of [4, 'M', 8, 'M', 8, 8, 'M', 16, 16, 'M', 16, 16, 'M'] as const) {
      if (v === 'M') {
        x = b.maxPool(x, { kernel: 2, name: `features.${i++}` });
        continue;
      }
      convs.push(`features.${i}`);
      x = b.conv(x, v, { name: `features.${i++}`, pad: 1 });
      x = b.relu(x, { name: `features.${i++}` });
    }
    x = b.node('AveragePool', [x], {
      name: `features.${i}`,
      attributes: { kernel_shape: { type: 'ints', value: [1, 1] }, strides: { type: 'ints', value: [1, 1] } },
      shapes: [['batch', 16, 1, 1]],
    })[0];
    b.output(b.gemm(b.viewFlat(x), 10, { name: 'classifier' }), 'logits');
    const mg = deriveMergeGraph(b.build());
    expect(mg.points.map((p) => p.name)).toEqual([...convs.slice(1).map((c) => `${c}:in`), 'classifier:in']);
    expect(mg.points.every((p) => p.stopPoint)).toBe(true);
    expect(mg.points[0].observe.value).toBe('/features/features.1/Relu_output_0');
  });
});

describe('deriveMergeGraph on token models', () => {
  it('follows MatMul + Add(bias) on [B, T, C] with channels on the last axis', () => {
    const mg = deriveMergeGraph(buildTokenMlp({ hidden: 7, depth: 2 }));
    expect(mg.points.map((p) => [p.name, p.channels, p.stopPoint])).toEqual([
      ['layers.1:in', 7, true],
      ['head:in', 7, true],
    ]);
    const p = point(mg, 'layers.1:in');
    expect(refs(p.producers)).toEqual(['layers.0.bias@0', 'layers.0.weight@1']);
    expect(refs(p.consumers)).toEqual(['layers.1.weight@0']);
    expect(p.observe).toEqual({ value: '/layers/layers.0/act/Relu_output_0', axis: 2 });
    expect(point(mg, 'head:in').observe.value).toBe('/layers/layers.1/act/Relu_output_0');
  });

  for (const opset of [13, 17]) {
    it(`puts LayerNorm parameters on the space they normalise and follows the Erf GELU (opset ${opset})`, () => {
      const b = new GraphBuilder({ seed: 2, opset });
      let x = b.input('tokens', ['batch', 4, 6]);
      x = b.linear(x, 8, { name: 'fc1' });
      x = b.layerNorm(x, { name: 'norm' });
      x = b.gelu(x, { name: 'act' });
      x = b.linear(x, 8, { name: 'fc2' });
      x = b.reduceMean(x, [1], { name: 'pool' });
      b.output(b.gemm(x, 3, { name: 'head' }), 'logits');
      const mg = deriveMergeGraph(b.build());
      expect(mg.points.map((p) => p.name)).toEqual(['fc2:in', 'head:in']);
      expect(refs(point(mg, 'fc2:in').producers)).toEqual(['fc1.bias@0', 'fc1.weight@1', 'norm.bias@0', 'norm.weight@0']);
      expect(mg.barriers).toEqual([]);
    });
  }
});

describe('deriveMergeGraph stops before what it cannot merge', () => {
  function withOp(op: (b: GraphBuilder, x: string) => string): Graph {
    const b = new GraphBuilder({ seed: 4 });
    let x = b.input('input', ['batch', 3, 8, 8]);
    x = b.relu(b.conv(x, 4, { name: 'conv1', pad: 1 }));
    x = op(b, x);
    x = b.relu(b.conv(x, 4, { name: 'conv2', pad: 1 }));
    b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
    return b.build();
  }

  it('turns an operator without a rule into a barrier naming the node, its type and what to do', () => {
    const g = withOp((b, x) => b.node('MyCustomOp', [x], { name: 'custom', shapes: [['batch', 4, 8, 8]] })[0]);
    const mg = deriveMergeGraph(g);
    expect(mg.barriers).toEqual([
      expect.objectContaining({ node: '/custom/MyCustomOp', opType: 'MyCustomOp', reason: 'no propagation rule for operator MyCustomOp' }),
    ]);
    expect(mg.barriers[0].hint).toMatch(/architecture plugin/);
    // conv1's output is blocked; conv2's output is still a point, but not a stop point (its trunk needs the barrier).
    expect(mg.points.map((p) => [p.name, p.stopPoint])).toEqual([['fc:in', false]]);
  });

  it('stops at grouped convolutions, non-zero padding, channel softmax and a slice cutting a space', () => {
    const cases: [string, (b: GraphBuilder, x: string) => string, RegExp][] = [
      ['grouped conv', (b, x) => b.conv(x, 4, { groups: 2, name: 'grouped', pad: 1 }), /grouped convolution \(group=2/],
      ['pad 1.0', (b, x) => b.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], { value: 1, name: 'padone' }), /non-zero constant 1/],
      ['softmax', (b, x) => b.softmax(x, { axis: 1, name: 'sm' }), /Softmax over the channel axis/],
    ];
    for (const [what, op, message] of cases) {
      const mg = deriveMergeGraph(withOp(op));
      expect(mg.barriers.map((b) => b.reason).join('; '), what).toMatch(message);
      expect(mg.points.find((p) => p.name === 'conv2:in' || p.producerNodes.includes('/conv1/Conv'))?.stopPoint ?? false, what).toBe(false);
    }
  });

  it('accepts depthwise convolutions (the space passes through) and a softmax after the head', () => {
    const mg = deriveMergeGraph(withOp((b, x) => b.conv(x, 4, { groups: 4, name: 'dw', pad: 1 })));
    expect(mg.points.map((p) => p.name)).toEqual(['conv2:in', 'fc:in']);
    expect(refs(point(mg, 'conv2:in').producers)).toEqual(['conv1.bias@0', 'conv1.weight@0', 'dw.bias@0', 'dw.weight@0']);

    const b = new GraphBuilder({ seed: 4 });
    const x = b.relu(b.conv(b.input('input', ['batch', 3, 4, 4]), 2, { name: 'conv1', pad: 1 }));
    b.output(b.softmax(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), { axis: 1 }), 'probs');
    const mg2 = deriveMergeGraph(b.build());
    expect(mg2.heads.map((h) => [h.name, h.outputs])).toEqual([['fc', ['probs']]]);
    expect(mg2.points.map((p) => p.name)).toEqual(['fc:in']);
  });

  it('treats per-channel Add/Mul initializers as producers and refuses per-channel Div', () => {
    const build = (op: 'add' | 'mul' | 'div') => {
      const b = new GraphBuilder({ seed: 5 });
      let x = b.relu(b.conv(b.input('input', ['batch', 3, 4, 4]), 2, { name: 'conv1', pad: 1 }));
      const p = b.parameter('scale', tensor('float32', [2, 1, 1], Float32Array.of(1.5, 2)));
      x = op === 'div' ? b.node('Div', [x, p], { shapes: [['batch', 2, 4, 4]] })[0] : b[op](x, p);
      b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
      return b.build();
    };
    expect(refs(deriveMergeGraph(build('mul')).points[0].producers)).toContain('scale@0');
    expect(refs(deriveMergeGraph(build('add')).points[0].producers)).toContain('scale@0');
    expect(deriveMergeGraph(build('div')).barriers.map((b) => b.reason)).toEqual([expect.stringMatching(/Div with a per-channel operand "scale"/)]);
  });
});

describe('deriveMergeGraph through flattening, concatenation and splits along channels', () => {
  it('merges through a channel-major flatten: the next layer reads each channel as H·W features (M ⊗ I)', () => {
    const b = new GraphBuilder({ seed: 4 });
    const x = b.relu(b.conv(b.input('input', ['batch', 3, 4, 4]), 2, { name: 'conv1', pad: 1 }));
    b.output(b.gemm(b.flatten(x), 3, { name: 'fc' }), 'logits');
    const mg = deriveMergeGraph(b.build());
    expect(mg.barriers).toEqual([]);
    const p = point(mg, 'fc:in');
    expect(p.channels).toBe(2);
    expect(p.consumers).toEqual([expect.objectContaining({ param: 'fc.weight', axis: 1, repeat: 16 })]);
    expect(p.observe).toEqual({ value: x, axis: 1 });
    expect(p.stopPoint).toBe(true);
  });

  it('follows channels-last window reshapes whose leading dims are unknown (Swin: [?, 16, C] → [B, 2, 2, 4, 4, C])', () => {
    const b = new GraphBuilder({ seed: 4 });
    const x = b.relu(b.conv(b.input('input', ['batch', 3, 8, 8]), 4, { name: 'conv1', pad: 1 }));
    const t = b.transpose(x, [0, 2, 3, 1]);
    const windows = b.node('Reshape', [t, b.constant(tensor('int64', [3], BigInt64Array.of(-1n, 16n, 4n)), { name: 'win' })], {
      name: 'win',
      shapes: [[null, 16, 4]],
    })[0];
    const back = b.node('Reshape', [windows, b.constant(tensor('int64', [4], BigInt64Array.of(-1n, 8n, 8n, 4n)), { name: 'unwin' })], {
      name: 'unwin',
      shapes: [['batch', 8, 8, 4]],
    })[0];
    const y = b.transpose(back, [0, 3, 1, 2]);
    b.output(b.gemm(b.flatten(b.globalAveragePool(y)), 3, { name: 'fc' }), 'logits');
    const mg = deriveMergeGraph(b.build());
    expect(mg.barriers).toEqual([]);
    expect(mg.points.map((p) => [p.name, p.channels])).toEqual([['fc:in', 4]]);
  });

  it('gives each input of a channel Concat its own point at its offset (direct sum)', () => {
    const b = new GraphBuilder({ seed: 4 });
    const input = b.input('input', ['batch', 3, 8, 8]);
    const a = b.relu(b.conv(input, 4, { name: 'convA', pad: 1 }));
    const c = b.relu(b.conv(a, 2, { name: 'convB', pad: 1 }));
    let x = b.concat([a, c], 1, { name: 'cat' });
    x = b.relu(b.conv(x, 5, { name: 'conv3', pad: 1 }));
    b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
    const mg = deriveMergeGraph(b.build());
    expect(mg.barriers).toEqual([]);
    const pa = point(mg, 'convB:in');
    expect(pa.channels).toBe(4);
    expect(pa.consumers.map((r) => [r.param, r.axis, r.offset ?? 0])).toEqual([
      ['convB.weight', 1, 0],
      ['conv3.weight', 1, 0],
    ]);
    const pb = mg.points.find((p) => p.producerNodes.includes('/convB/Conv'))!;
    expect(pb.channels).toBe(2);
    expect(pb.consumers.map((r) => [r.param, r.axis, r.offset ?? 0])).toEqual([['conv3.weight', 1, 4]]);
    // The concatenation carries both points: zipping must stop after both or before the first.
    // Both are observed in the concatenation (at offsets 0 and 4), so they sit side by side in depth order.
    expect(pa.observe).toEqual({ value: '/cat/Concat_output_0', axis: 1, offset: 0 });
    expect(pb.observe).toEqual({ value: pa.observe.value, axis: 1, offset: 4 });
    expect(Math.abs(pa.index - pb.index)).toBe(1);
    expect([pa, pb].map((p) => p.stopPoint).sort()).toEqual([false, true]);
  });

  it('lets a channel Split take whole concatenated spaces and stops where it cuts one', () => {
    const build = (sizes: number[]) => {
      const b = new GraphBuilder({ seed: 4 });
      const input = b.input('input', ['batch', 3, 8, 8]);
      const a = b.relu(b.conv(input, 4, { name: 'convA', pad: 1 }));
      const c = b.relu(b.conv(input, 2, { name: 'convB', pad: 1 }));
      const cat = b.concat([a, c], 1, { name: 'cat' });
      const parts = b.node('Split', [cat, b.constant(tensor('int64', [2], BigInt64Array.from(sizes.map(BigInt))), { name: 'split' })], {
        name: 'split',
        attributes: { axis: { type: 'int', value: 1 } },
        outputs: 2,
        shapes: sizes.map((n) => ['batch', n, 8, 8]),
      });
      const y = b.add(b.conv(parts[0], 3, { name: 'convC', pad: 1 }), b.conv(parts[1], 3, { name: 'convD', pad: 1 }));
      b.output(b.gemm(b.flatten(b.globalAveragePool(b.relu(y))), 3, { name: 'fc' }), 'logits');
      return b.build();
    };
    const whole = deriveMergeGraph(build([4, 2]));
    expect(whole.barriers).toEqual([]);
    expect(point(whole, 'convC:in').channels).toBe(4);
    expect(point(whole, 'convD:in').channels).toBe(2);
    const cut = deriveMergeGraph(build([3, 3]));
    expect(cut.barriers.map((b) => b.reason)).toEqual([expect.stringMatching(/cutting a space of 4 channels/)]);
  });
});

describe('naming helpers', () => {
  it('reads PyTorch scope names and common stage prefixes', () => {
    expect(scopeModule('/layer1/layer1.0/conv1/Conv')).toBe('layer1.0.conv1');
    expect(scopeModule('/features/features.0/Conv')).toBe('features.0');
    expect(scopeModule('/Add')).toBe('');
    expect(scopeModule('Conv_12')).toBe('');
    expect(commonModulePrefix(['layer1.0', 'layer1.1', 'layer1.2'])).toBe('layer1');
    expect(commonModulePrefix(['layer1.0'])).toBe('layer1.0');
  });
});

describe('diffMergeGraphs', () => {
  it('is empty for equal graphs and names each difference', () => {
    const mg = deriveMergeGraph(plainCnn());
    expect(diffMergeGraphs(mg, deriveMergeGraph(plainCnn()))).toEqual([]);
    const changed: MergeGraph = structuredClone(mg);
    changed.points[0].name = 'other:in';
    changed.points[1].consumers = [];
    changed.heads[0].classes = 7;
    expect(diffMergeGraphs(mg, changed)).toEqual([
      'point 0 (conv2:in): name "conv2:in" expected, "other:in" found',
      'point 1 (fc:in): consumers "fc.weight@1" expected, "" found',
      'heads ["fc:/fc/Gemm:5:1"] expected, ["fc:/fc/Gemm:7:1"] found',
    ]);
  });
});
