import { GraphBuilder, SeededRandom, type Graph } from '@zipit/core';
import { describe, expect, it } from 'vitest';
import type { Batch } from './batches.js';
import { resetBatchNorm } from './reset-batchnorm.js';
import { runModel } from './run-model.js';
import { ortExecutor as executor } from '@zipit/runtime-ort';

function cnn(opset: number): Graph {
  const b = new GraphBuilder({ seed: 3, opset });
  let x = b.input('input', ['batch', 3, 8, 8]);
  x = b.relu(b.batchNorm(b.conv(x, 6, { kernel: 3, pad: 1, name: 'conv1' }), { name: 'bn1' }));
  x = b.relu(b.batchNorm(b.conv(x, 5, { kernel: 3, pad: 1, name: 'conv2' }), { name: 'bn2' }));
  x = b.flatten(b.globalAveragePool(x));
  b.output(b.gemm(x, 4, { name: 'fc' }), 'logits');
  return b.build();
}

function data(batches: number[], seed: number): Batch[] {
  const r = new SeededRandom(seed);
  return batches.map((n) => ({ x: r.normalTensor([n, 3, 8, 8], 1, 0.5) }));
}

/** Per-channel mean and unbiased variance of an NCHW tensor, in float64. */
function channelStats(x: Float32Array, [n, c, h, w]: number[]): { mean: number[]; variance: number[] } {
  const mean: number[] = [];
  const variance: number[] = [];
  const count = n * h * w;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) s += x[(i * c + ch) * h * w + p];
    const m = s / count;
    let q = 0;
    for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) q += (x[(i * c + ch) * h * w + p] - m) ** 2;
    mean.push(m);
    variance.push(q / (count - 1));
  }
  return { mean, variance };
}

describe('resetBatchNorm', () => {
  for (const opset of [13, 18]) {
    it(`re-estimates running statistics as the cumulative average of batch statistics (opset ${opset})`, async () => {
      const graph = cnn(opset);
      const batches = data([4, 4, 3], 7);
      const { graph: reset, nodes } = await resetBatchNorm(graph, batches, { executor, threads: 1 });
      expect(nodes).toHaveLength(2);
      // bn1's input (conv1's output) does not depend on any BatchNorm: check it exactly.
      const conv1 = graph.nodes.find((n) => n.opType === 'Conv')!.outputs[0];
      const bn1 = graph.nodes.find((n) => n.opType === 'BatchNormalization')!;
      const expectMean = new Float64Array(6);
      const expectVar = new Float64Array(6);
      for await (const { values } of runModel(graph, batches, { executor, fetch: [conv1], threads: 1 })) {
        const t = values[conv1];
        const s = channelStats(t.data as Float32Array, [...t.shape]);
        s.mean.forEach((m, c) => (expectMean[c] += m / batches.length));
        s.variance.forEach((v, c) => (expectVar[c] += v / batches.length));
      }
      const mean = reset.initializers.get(bn1.inputs[3])!.data as Float32Array;
      const variance = reset.initializers.get(bn1.inputs[4])!.data as Float32Array;
      for (let c = 0; c < 6; c++) {
        expect(mean[c]).toBeCloseTo(expectMean[c], 4);
        expect(variance[c] / expectVar[c]).toBeCloseTo(1, 4);
      }
      // The original graph is untouched and the reset graph still runs with the same outputs.
      expect(graph.initializers.get(bn1.inputs[3])).not.toBe(reset.initializers.get(bn1.inputs[3]));
      for await (const { values } of runModel(reset, batches.slice(0, 1), { executor, threads: 1 })) {
        expect(values.logits.shape).toEqual([4, 4]);
      }
    });
  }

  it('after a reset on one large batch, eval-mode BatchNorm outputs are normalised', async () => {
    const graph = cnn(13);
    const batches = data([64], 11);
    const { graph: reset } = await resetBatchNorm(graph, batches, { executor, threads: 1 });
    const bn2 = reset.nodes.filter((n) => n.opType === 'BatchNormalization')[1];
    const beta = reset.initializers.get(bn2.inputs[2])!.data as Float32Array;
    for await (const { values } of runModel(reset, batches, { executor, fetch: [bn2.outputs[0]], threads: 1 })) {
      const t = values[bn2.outputs[0]];
      const s = channelStats(t.data as Float32Array, [...t.shape]);
      // Eval mode uses the unbiased variance and bn1's running statistics: close to, not exactly, β.
      s.mean.forEach((m, c) => expect(Math.abs(m - beta[c])).toBeLessThan(0.05));
    }
  });
});

describe('resetBatchNorm precision', () => {
  it('keeps the variance of channels whose mean is large compared with their spread', async () => {
    // Input channels with σ = 0.05 around means 0, 10, 100, 300, through a BatchNorm directly.
    const b = new GraphBuilder({ seed: 1, opset: 13 });
    const x = b.input('input', ['batch', 4, 8, 8]);
    b.output(b.batchNorm(x, { name: 'bn' }), 'out');
    const graph = b.build();
    const r = new SeededRandom(5);
    const means = [0, 10, 100, 300];
    const batches: Batch[] = [0, 1].map(() => {
      const t = r.normalTensor([16, 4, 8, 8], 0.05);
      const d = t.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] += means[Math.floor(i / 64) % 4];
      return { x: t };
    });
    const { graph: reset } = await resetBatchNorm(graph, batches, { executor, threads: 1 });
    const bn = reset.nodes.find((n) => n.opType === 'BatchNormalization')!;
    const variance = reset.initializers.get(bn.inputs[4])!.data as Float32Array;
    for (let c = 0; c < 4; c++) {
      expect(variance[c] / 0.0025).toBeGreaterThan(0.9);
      expect(variance[c] / 0.0025).toBeLessThan(1.1);
    }
  });
});
