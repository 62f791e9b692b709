import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { inlineParameters } from './inline-parameters.js';

describe('inlineParameters', () => {
  it('turns Identity-of-initializer and Constant tensors into initializers, sharing the data', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.input('input', ['batch', 4]);
    const y = b.gemm(x, 4, { name: 'fc' });
    b.output(y, 'out');
    const g = b.build();
    const gemm = g.nodes.find((n) => n.opType === 'Gemm')!;
    const bias = gemm.inputs[2];
    // Rewrite: the bias comes from an Identity of another initializer, the weight from a Constant.
    g.initializers.set('shared.bias', g.initializers.get(bias)!);
    g.initializers.delete(bias);
    g.nodes.unshift({ name: 'dedup', opType: 'Identity', domain: '', inputs: ['shared.bias'], outputs: [bias], attributes: [] });
    const w = g.initializers.get(gemm.inputs[1])!;
    g.initializers.delete(gemm.inputs[1]);
    g.nodes.unshift({
      name: 'c',
      opType: 'Constant',
      domain: '',
      inputs: [],
      outputs: [gemm.inputs[1]],
      attributes: [{ name: 'value', value: { type: 'tensor', value: w } }],
    });
    const out = inlineParameters(g);
    expect(out.nodes.map((n) => n.opType)).toEqual(['Gemm']);
    expect(out.initializers.get(bias)!.data).toBe(out.initializers.get('shared.bias')!.data);
    expect(out.initializers.get(gemm.inputs[1])).toBe(w);
    expect(g.nodes).toHaveLength(3);
  });

  it('keeps graphs without such nodes as they are', () => {
    const b = new GraphBuilder({ seed: 1 });
    b.output(b.relu(b.input('input', ['batch', 4])), 'out');
    const g = b.build();
    expect(inlineParameters(g)).toBe(g);
  });
});
