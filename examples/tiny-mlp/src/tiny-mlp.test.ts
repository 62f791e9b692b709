import { describe, expect, it } from 'vitest';
import { buildSmallCnn } from '@zipit/core/testing';
import { createArchitectureRegistry, detectArchitecture, GraphBuilder, resolveMatcherParams } from '@zipit/core';
import { buildTinyMlp, tinyMlpArch, weightMatchingMatcher } from './index.js';

describe('tiny-mlp architecture', () => {
  it('summarises what it recognised', () => {
    expect(tinyMlpArch.recognise(buildTinyMlp({ seed: 1, hidden: [8, 4], classes: 3 }))).toEqual({
      match: true,
      variant: 'mlp-8-4',
      summary: 'MLP, hidden 8 → 4, 3 classes',
    });
  });

  it('declines other graphs, naming the node where it stopped', () => {
    expect(tinyMlpArch.recognise(buildSmallCnn({ seed: 1 }))).toMatchObject({
      match: false,
      reason: expect.stringMatching(/expected a Linear layer \(Gemm\) as the only reader of input, found .*\(Conv\)/),
    });
    const b = new GraphBuilder({ seed: 1 });
    b.output(b.sigmoid(b.gemm(b.gemm(b.input('x', ['batch', 4]), 8, { name: 'fc1' }), 2, { name: 'fc2' })), 'p');
    expect(tinyMlpArch.recognise(b.build())).toMatchObject({
      match: false,
      reason: expect.stringMatching(/after \/fc1\/Gemm \(Gemm\) expected a ReLU, found \/fc2\/Gemm \(Gemm\)/),
    });
    const single = new GraphBuilder({ seed: 1 });
    single.output(single.gemm(single.input('x', ['batch', 4]), 2, { name: 'fc' }), 'logits');
    expect(tinyMlpArch.recognise(single.build())).toMatchObject({ match: false, reason: expect.stringMatching(/only layer/) });
  });

  it('is found by detectArchitecture from a registry holding it', () => {
    const registry = createArchitectureRegistry();
    registry.register(tinyMlpArch);
    expect(detectArchitecture(registry, buildTinyMlp({ seed: 2 })).arch.name).toBe('tiny-mlp');
  });
});

describe('weight-matching matcher', () => {
  it('declares its parameter: whole sweeps, at least one', () => {
    expect(resolveMatcherParams(weightMatchingMatcher, { iterations: 5 })).toEqual({ iterations: 5 });
    expect(() => resolveMatcherParams(weightMatchingMatcher, { iterations: 0.5 })).toThrow(/out of range/);
  });
});
