import { describe, expect, it } from 'vitest';
import { createArchitectureRegistry, deriveMergeGraph, detectArchitecture, diffMergeGraphs, GraphBuilder, NotFoundError, UnsupportedError } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { buildResNet18, buildResNet20, buildResNet50 } from './build.js';
import { registerResnet, resnetArch } from './resnet-arch.js';

describe('resnetArch on the reference CIFAR ResNet-20', () => {
  const g = buildResNet20({ seed: 1, imageSize: 16 });
  const mg = resnetArch.mergeGraph(g);

  it('recognises it', () => {
    expect(resnetArch.recognise(g)).toEqual({
      match: true,
      variant: 'resnet20',
      summary: 'ResNet-20 (BasicBlock): 9 blocks in stages [3, 3, 3], widths [16, 32, 64], 2 projection shortcuts, BatchNorm kept',
    });
  });

  it('declares 12 merge points: 9 inside blocks and 3 residual streams, in depth order', () => {
    expect(mg.points.map((p) => `${p.name}[${p.channels}]${p.stopPoint ? '*' : ''}`)).toEqual([
      'layer1.0.conv2:in[16]',
      'layer1.1.conv2:in[16]',
      'layer1.2.conv2:in[16]',
      'layer1:stream[16]*',
      'layer2.0.conv2:in[32]*',
      'layer2.1.conv2:in[32]',
      'layer2.2.conv2:in[32]',
      'layer2:stream[32]*',
      'layer3.0.conv2:in[64]*',
      'layer3.1.conv2:in[64]',
      'layer3.2.conv2:in[64]',
      'layer3:stream[64]*',
    ]);
    expect(mg.heads).toEqual([{ name: 'linear', node: '/linear/Gemm', outputs: ['logits'], classes: 10, input: 11 }]);
    const stream = mg.points[3];
    expect(stream.ties.map((t) => t.node)).toEqual(['/layer1/layer1.0/Add', '/layer1/layer1.1/Add', '/layer1/layer1.2/Add']);
    expect(stream.consumerNodes).toEqual([
      '/layer1/layer1.0/conv1/Conv',
      '/layer1/layer1.1/conv1/Conv',
      '/layer1/layer1.2/conv1/Conv',
      '/layer2/layer2.0/conv1/Conv',
      '/layer2/layer2.0/shortcut/shortcut.0/Conv',
    ]);
  });

  it('agrees with the automatic derivation, with BatchNorm kept and folded, at widths 1 and 2', () => {
    for (const width of [1, 2]) {
      for (const foldedBatchNorm of [false, true]) {
        const m = buildResNet20({ seed: 2, width, foldedBatchNorm, imageSize: 16 });
        expect(diffMergeGraphs(resnetArch.mergeGraph(m), deriveMergeGraph(m)), `w${width} folded=${foldedBatchNorm}`).toEqual([]);
      }
    }
  });
});

describe('resnetArch on torchvision layouts', () => {
  it('ResNet-18: the stem joins layer1, whose blocks have identity shortcuts', () => {
    const g = buildResNet18({ seed: 1, width: 0.25 });
    const mg = resnetArch.mergeGraph(g);
    expect(resnetArch.recognise(g)).toMatchObject({ match: true, variant: 'resnet18' });
    expect(mg.points.filter((p) => p.ties.length > 0).map((p) => p.name)).toEqual(['layer1:stream', 'layer2:stream', 'layer3:stream', 'layer4:stream']);
    expect(mg.points).toHaveLength(8 + 4);
    expect(mg.points[2].producerNodes[0]).toBe('/conv1/Conv');
    expect(diffMergeGraphs(mg, deriveMergeGraph(g))).toEqual([]);
    const folded = buildResNet18({ seed: 3, width: 0.25, foldedBatchNorm: true });
    expect(diffMergeGraphs(resnetArch.mergeGraph(folded), deriveMergeGraph(folded))).toEqual([]);
  });

  it('ResNet-50: Bottlenecks give two inner points per block and the stem its own point', () => {
    const g = buildResNet50({ seed: 1, width: 0.125 });
    const mg = resnetArch.mergeGraph(g);
    expect(resnetArch.recognise(g)).toMatchObject({ match: true, variant: 'resnet50' });
    expect(mg.points).toHaveLength(1 + 2 * 16 + 4);
    expect(mg.points.slice(0, 4).map((p) => `${p.name}[${p.channels}]`)).toEqual([
      'layer1.0.conv1:in[8]',
      'layer1.0.conv2:in[8]',
      'layer1.0.conv3:in[8]',
      'layer1.1.conv2:in[8]',
    ]);
    expect(mg.points.find((p) => p.name === 'layer4:stream')?.channels).toBe(256);
    expect(diffMergeGraphs(mg, deriveMergeGraph(g))).toEqual([]);
    const folded = buildResNet50({ seed: 3, width: 0.125, foldedBatchNorm: true });
    expect(diffMergeGraphs(resnetArch.mergeGraph(folded), deriveMergeGraph(folded))).toEqual([]);
  });
});

describe('resnetArch declines what is not a ResNet, saying why', () => {
  it('names the node after which no residual block was found', () => {
    const b = new GraphBuilder({ seed: 1 });
    let x = b.input('input', ['batch', 3, 8, 8]);
    x = b.relu(b.conv(x, 4, { name: 'conv1', pad: 1 }));
    b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
    expect(resnetArch.recognise(b.build())).toEqual({ match: false, reason: 'no residual Add found after node /Relu (Relu)' });
  });

  it('rejects the non-residual parts of other CNNs and throws a typed error from mergeGraph', () => {
    const g = buildSmallCnn({ seed: 1, width: 4, imageSize: 8 });
    const r = resnetArch.recognise(g);
    expect(r.match).toBe(false);
    expect(() => resnetArch.mergeGraph(g)).toThrow(UnsupportedError);
  });

  it('is found by detectArchitecture, which lists the reasons when nothing matches', () => {
    const registry = createArchitectureRegistry();
    registerResnet(registry);
    registerResnet(registry);
    expect(detectArchitecture(registry, buildResNet20({ seed: 1, imageSize: 16 })).variant).toBe('resnet20');
    const b = new GraphBuilder({ seed: 1 });
    b.output(b.gemm(b.input('x', ['batch', 4]), 2, { name: 'fc' }));
    const mlp = b.build();
    expect(() => detectArchitecture(registry, mlp, 'mlp.onnx')).toThrow(NotFoundError);
    expect(() => detectArchitecture(registry, mlp, 'mlp.onnx')).toThrow(
      /mlp.onnx: no registered architecture .*resnet: the input is not read by exactly one Conv/,
    );
  });
});
