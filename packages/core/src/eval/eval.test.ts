import { describe, expect, it } from 'vitest';
import { MultiTaskAccuracy } from './multi-task-accuracy.js';
import { modelCost } from './model-cost.js';
import { GraphBuilder } from '../graph/builder.js';
import { InvalidArgumentError } from '../errors.js';

describe('MultiTaskAccuracy', () => {
  it('scores per-task accuracy on the own head and joint accuracy over all heads’ softmax', () => {
    // Two tasks: A has 2 classes, B has 3. Two samples of each.
    const acc = new MultiTaskAccuracy(['A', 'B'], [2, 3]);
    // Task A: sample 0 correct on head A and confident (joint correct); sample 1 correct on
    // head A but head B is more confident (joint wrong).
    acc.add(0, [Float32Array.from([5, 0, 0, 3]), Float32Array.from([0, 0, 0, 10, 0, 0])], BigInt64Array.from([0n, 1n]));
    // Task B: sample 0 wrong on head B (predicts 2, label 1); sample 1 correct and confident.
    acc.add(1, [Float32Array.from([0, 0, 0, 0]), Float32Array.from([0, 1, 2, 0, 0, 9])], BigInt64Array.from([1n, 2n]));
    const r = acc.result();
    expect(r.perTask).toEqual([1, 0.5]);
    expect(r.average).toBe(0.75);
    // Joint: A0 ✓ (p=.99 on head A), A1 ✗ (head B p≈1), B0 ✗ (wrong class), B1 ✓ → 2/4.
    expect(r.joint).toBe(0.5);
    expect(r.samples).toEqual([2, 2]);
  });

  it('refuses labels out of range for the head, naming the task', () => {
    const acc = new MultiTaskAccuracy(['digits 5-9'], [5]);
    expect(() => acc.add(0, [new Float32Array(5)], BigInt64Array.from([7n]))).toThrow(InvalidArgumentError);
    expect(() => acc.add(0, [new Float32Array(5)], BigInt64Array.from([7n]))).toThrow(/label 7 of task "digits 5-9" is out of range for its head of 5 classes/);
  });
});

describe('modelCost', () => {
  it('counts parameters and FLOPs of a small CNN by the formulas', () => {
    const b = new GraphBuilder({ seed: 1 });
    let x = b.input('input', ['batch', 3, 8, 8]);
    x = b.conv(x, 4, { kernel: 3, pad: 1, name: 'conv1' }); // 4·8·8 outputs × 3·3·3 MACs
    x = b.relu(b.batchNorm(x, { name: 'bn1' }));
    x = b.flatten(b.globalAveragePool(x));
    b.output(b.gemm(x, 5, { name: 'fc' }), 'logits'); // 5 outputs × 4 MACs
    const cost = modelCost(b.build());
    const convParams = 4 * 3 * 3 * 3 + 4;
    const bnParams = 4 * 4;
    const fcParams = 5 * 4 + 5;
    expect(cost.parameters).toBe(convParams + bnParams + fcParams);
    expect(cost.matmulFlops).toBe(2 * 4 * 8 * 8 * 27 + 2 * 5 * 4);
    // BN + ReLU over 4·8·8, GAP reads 4·8·8.
    expect(cost.flops).toBe(cost.matmulFlops + 3 * 4 * 8 * 8);
    expect(cost.unknown).toEqual([]);
  });
});
