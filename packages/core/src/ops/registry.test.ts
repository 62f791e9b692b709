import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { builtinOperators, defaultOperators } from './builtin.js';
import { sameShape, unary } from './elementwise.js';
import { operatorKey } from './registry.js';

describe('OperatorRegistry', () => {
  it('holds each built-in operator once, each with a rule or a shape inference', () => {
    const defs = defaultOperators.list();
    expect(new Set(defs.map((d) => operatorKey(d.domain, d.opType))).size).toBe(defs.length);
    for (const d of defs) expect(d.rule !== undefined || d.infer !== undefined).toBe(true);
    expect(defaultOperators.keysWith('weight')).toEqual(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);
    expect(defaultOperators.keysWith('shape')).toEqual(['Shape', 'Size']);
    expect(
      defs
        .filter((d) => d.observeThrough)
        .map((d) => d.opType)
        .sort(),
    ).toEqual([
      'AveragePool',
      'Dropout',
      'Flatten',
      'GlobalAveragePool',
      'GlobalLpPool',
      'GlobalMaxPool',
      'Identity',
      'LpPool',
      'MaxPool',
      'Pad',
      'ReduceMax',
      'ReduceMean',
      'ReduceSum',
      'Reshape',
      'Squeeze',
      'Transpose',
      'Unsqueeze',
    ]);
  });

  it('finds operators by domain (ai.onnx is the default domain) and refuses duplicates unless replaced', () => {
    const ops = builtinOperators();
    expect(ops.of({ domain: 'ai.onnx', opType: 'Relu' })).toBe(ops.of({ domain: '', opType: 'Relu' }));
    expect(ops.of({ domain: 'com.example', opType: 'Relu' })).toBeUndefined();
    const custom = { opType: 'Swish', domain: 'com.example', role: 'elementwise' as const, rule: unary, infer: sameShape };
    ops.register(custom);
    expect(ops.get('com.example::Swish')).toBe(custom);
    expect(() => ops.register(custom)).toThrow(InvalidArgumentError);
    expect(() => ops.with({ opType: 'Conv', role: 'weight' })).toThrow(/Conv is already registered/);
    ops.replace({ opType: 'Conv', role: 'weight' });
    expect(ops.get('Conv')?.rule).toBeUndefined();
    expect(defaultOperators.get('Conv')?.rule).toBeDefined();
    expect(builtinOperators().has('com.example::Swish')).toBe(false);
  });
});
