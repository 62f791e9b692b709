import { describe, expect, it } from 'vitest';
import {
  createArchitectureRegistry,
  deriveMergeGraph,
  detectArchitecture,
  diffMergeGraphs,
  UnsupportedError,
  validateMergeGraph,
  type MergeGraph,
} from '@zipit/core';
import { buildSmallCnn, buildTokenMlp } from '@zipit/core/testing';
import { buildVgg, registerVgg, VGG_VARIANTS, vggArch, vggWidths, type VggBatchNorm } from './index.js';

const BN_MODES: VggBatchNorm[] = ['kept', 'folded', 'none'];

describe('buildVgg', () => {
  it('names layers as torch.onnx.export names the reference VGG (features.N, classifier)', () => {
    const g = buildVgg({ variant: 'vgg11', width: 0.125, seed: 1 });
    const convs = g.nodes.filter((n) => n.opType === 'Conv');
    expect(convs.map((n) => n.name)).toEqual([0, 4, 8, 11, 15, 18, 22, 25].map((i) => `/features/features.${i}/Conv`));
    expect(convs.map((n) => n.inputs[1])).toEqual([0, 4, 8, 11, 15, 18, 22, 25].map((i) => `features.${i}.weight`));
    expect(g.nodes.find((n) => n.opType === 'BatchNormalization')!.inputs.slice(1)).toEqual(
      ['weight', 'bias', 'running_mean', 'running_var'].map((p) => `features.1.${p}`),
    );
    expect(g.nodes.filter((n) => n.opType === 'MaxPool').map((n) => n.name)).toEqual([3, 7, 14, 21, 28].map((i) => `/features/features.${i}/MaxPool`));
    expect(g.nodes.find((n) => n.opType === 'AveragePool')!.name).toBe('/features/features.29/AveragePool');
    expect(
      g.nodes
        .map((n) => n.opType)
        .filter((op) => op !== 'Constant')
        .slice(-6),
    ).toEqual(['Shape', 'Gather', 'Unsqueeze', 'Concat', 'Reshape', 'Gemm']);
    expect(g.outputs.map((o) => [o.name, o.shape])).toEqual([['logits', ['batch', 10]]]);
    expect(convs.map((n) => g.initializers.get(n.inputs[1])!.shape[0])).toEqual(vggWidths('vgg11', 0.125));
    expect(vggWidths('vgg11', 0.125)).toEqual([8, 16, 32, 32, 64, 64, 64, 64]);
  });

  it('folds BatchNorm like an eval-mode export with constant folding: onnx::Conv_N parameters, BN indices kept', () => {
    const g = buildVgg({ variant: 'vgg11', width: 0.125, seed: 1, batchNorm: 'folded' });
    expect(g.nodes.some((n) => n.opType === 'BatchNormalization')).toBe(false);
    const convs = g.nodes.filter((n) => n.opType === 'Conv');
    expect(convs[1].name).toBe('/features/features.4/Conv');
    expect(convs.every((n) => n.inputs.slice(1).every((p) => p.startsWith('onnx::Conv_') && g.initializers.has(p)))).toBe(true);
    expect(new Set(convs.flatMap((n) => n.inputs.slice(1))).size).toBe(16);
    expect(g.nodes.find((n) => n.opType === 'Relu')!.name).toBe('/features/features.2/Relu');
  });

  it('without BatchNorm, numbers Conv and ReLU modules consecutively', () => {
    const g = buildVgg({ variant: 'vgg11', width: 0.125, seed: 1, batchNorm: 'none' });
    expect(g.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[1])).toEqual([0, 3, 6, 8, 11, 13, 16, 18].map((i) => `features.${i}.weight`));
  });

  it('is deterministic and rejects inputs too small for its max-pools', () => {
    const a = buildVgg({ variant: 'vgg16', width: 0.0625, seed: 3 });
    const b = buildVgg({ variant: 'vgg16', width: 0.0625, seed: 3 });
    expect([...a.initializers.values()].map((t) => Array.from(t.data as Float32Array))).toEqual(
      [...b.initializers.values()].map((t) => Array.from(t.data as Float32Array)),
    );
    expect(() => buildVgg({ variant: 'vgg11', imageSize: 16 })).toThrow(/at least 32×32/);
    expect(() => buildVgg({ variant: 'vgg11', width: 0 })).toThrow(/positive/);
  });
});

describe('vggArch.recognise', () => {
  it.each(VGG_VARIANTS.flatMap((v) => BN_MODES.map((bn) => [v, bn] as const)))('recognises %s with BatchNorm %s', (variant, bn) => {
    const g = buildVgg({ variant, width: 0.0625, seed: 2, batchNorm: bn, classes: 7 });
    const r = vggArch.recognise(g);
    expect(r).toMatchObject({ match: true, variant: bn === 'kept' ? `${variant}-bn` : variant });
    if (r.match) expect(r.summary).toContain(`VGG-${variant.slice(3)}`);
    if (r.match) expect(r.summary).toContain('7 classes');
  });

  it('declines a residual network, naming the node where the skip connection leaves', () => {
    const r = vggArch.recognise(buildSmallCnn({ seed: 1 }));
    expect(r.match).toBe(false);
    if (!r.match) expect(r.reason).toMatch(/skip connection leaves MaxPool \/maxpool\/MaxPool .*Add \/layer1\/layer1\.0\/Add/);
  });

  it('declines token models, other pool patterns and feature maps larger than 1×1', () => {
    const tokens = vggArch.recognise(buildTokenMlp());
    expect(tokens).toMatchObject({ match: false, reason: expect.stringMatching(/not an NCHW image/) });
    const big = vggArch.recognise(buildVgg({ variant: 'vgg11', width: 0.0625, imageSize: 64 }));
    expect(big).toMatchObject({ match: false, reason: expect.stringMatching(/at 2×2 .*MaxPool \/features\/features\.28\/MaxPool.*1×1/) });
    const g = buildVgg({ variant: 'vgg11', width: 0.0625, seed: 1 });
    const pool = g.nodes.findIndex((n) => n.opType === 'MaxPool');
    const rewired = {
      ...g,
      nodes: g.nodes
        .filter((_, i) => i !== pool)
        .map((n) => ({ ...n, inputs: n.inputs.map((i) => (i === g.nodes[pool].outputs[0] ? g.nodes[pool].inputs[0] : i)) })),
    };
    expect(vggArch.recognise(rewired)).toMatchObject({
      match: false,
      reason: expect.stringMatching(/max-pools after layers \[2, 4, 6, 8\] match no VGG configuration/),
    });
  });

  it('mergeGraph of a graph it does not recognise is an UnsupportedError with the reason', () => {
    expect(() => vggArch.mergeGraph(buildSmallCnn({ seed: 1 }))).toThrow(UnsupportedError);
    expect(() => vggArch.mergeGraph(buildSmallCnn({ seed: 1 }))).toThrow(/not a VGG: a skip connection/);
  });

  it('registers idempotently and is found by detectArchitecture', () => {
    const registry = createArchitectureRegistry();
    registerVgg(registry);
    registerVgg(registry);
    expect(registry.list().map((a) => a.name)).toEqual(['vgg']);
    expect(detectArchitecture(registry, buildVgg({ variant: 'vgg13', width: 0.0625 })).variant).toBe('vgg13-bn');
    expect(() => detectArchitecture(registry, buildSmallCnn())).toThrow(/vgg: a skip connection leaves/);
  });
});

describe('vggArch.mergeGraph', () => {
  const valuesOf = (mg: MergeGraph) => mg.points.map((p) => p.values);

  it.each(VGG_VARIANTS.flatMap((v) => BN_MODES.map((bn) => [v, bn] as const)))(
    '%s (BatchNorm %s) declares what derivation finds, values included',
    (variant, bn) => {
      const g = buildVgg({ variant, width: 0.0625, seed: 4, batchNorm: bn });
      const declared = vggArch.mergeGraph(g);
      validateMergeGraph(g, declared);
      const derived = deriveMergeGraph(g);
      expect(diffMergeGraphs(declared, derived)).toEqual([]);
      expect(valuesOf(declared)).toEqual(valuesOf(derived));
      expect(declared.points.map((p) => p.producerNodes)).toEqual(derived.points.map((p) => p.producerNodes));
      expect(declared.points.map((p) => p.consumerNodes)).toEqual(derived.points.map((p) => p.consumerNodes));
      expect(declared.heads).toEqual(derived.heads);
    },
  );

  it('VGG-11: one point per conv layer, named after its reader, all stop points, the classifier as head', () => {
    const mg = vggArch.mergeGraph(buildVgg({ variant: 'vgg11', width: 0.125, seed: 1 }));
    expect(mg.points.map((p) => p.name)).toEqual([4, 8, 11, 15, 18, 22, 25].map((i) => `features.${i}:in`).concat('classifier:in'));
    expect(mg.points.map((p) => p.channels)).toEqual([8, 16, 32, 32, 64, 64, 64, 64]);
    expect(mg.points.every((p) => p.stopPoint)).toBe(true);
    expect(mg.points[0].producers.map((r) => `${r.param}@${r.axis}`)).toEqual([
      'features.0.weight@0',
      'features.0.bias@0',
      'features.1.weight@0',
      'features.1.bias@0',
      'features.1.running_mean@0',
      'features.1.running_var@0',
    ]);
    expect(mg.points[7].consumers.map((r) => `${r.param}@${r.axis}`)).toEqual(['classifier.weight@1']);
    expect(mg.heads).toEqual([{ name: 'classifier', node: '/classifier/Gemm', outputs: ['logits'], classes: 10, input: 7 }]);
  });
});
