import { GraphBuilder, SeededRandom, type Graph, type Tensor } from '@zipit/core';
import { ModelSession, ortExecutor as executor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { mergeModels, type ModelInput } from '../merge-models.js';
import type { Batch } from './batches.js';
import { resetBatchNorm } from './reset-batchnorm.js';

/** A small CNN with BatchNorm kept; the builder's running statistics are random, unlike the data's. */
function cnn(seed: number): Graph {
  const b = new GraphBuilder({ seed });
  let x = b.input('input', ['batch', 3, 8, 8]);
  x = b.relu(b.batchNorm(b.conv(x, 6, { kernel: 3, pad: 1, name: 'conv1' }), { name: 'bn1' }));
  x = b.relu(b.batchNorm(b.conv(x, 5, { kernel: 3, pad: 1, name: 'conv2' }), { name: 'bn2' }));
  x = b.flatten(b.globalAveragePool(x));
  b.output(b.gemm(x, 4, { name: 'fc' }), 'logits');
  return b.build();
}

const r = new SeededRandom(5);
const batches: Batch[] = [4, 4, 3].map((n) => ({ x: r.normalTensor([n, 3, 8, 8], 1, 0.5) }));
const x = r.normalTensor([6, 3, 8, 8], 1, 0.5);

async function logits(graph: Graph, input: Tensor): Promise<Record<string, Float32Array>> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    const out = await s.run({ input });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await s.release();
  }
}

function maxRelative(got: Float32Array, want: Float32Array): number {
  let d = 0;
  let m = 0;
  want.forEach((w, i) => {
    d = Math.max(d, Math.abs(got[i] - w));
    m = Math.max(m, Math.abs(w));
  });
  return d / m;
}

const merge = (models: ModelInput[], method: string, reset: 'anchored' | 'reference') =>
  mergeModels(models, { method, data: () => batches, executor, threads: 1, resetBatchNorm: reset });

describe('anchored BatchNorm reset', () => {
  it('keeps a model merged with itself exactly, for every method, whatever its stored statistics (the reference reset alone does not)', async () => {
    const a = cnn(3);
    const want = (await logits(a, x)).logits;
    const models = [
      { name: 'A', file: 'a.onnx', graph: a },
      { name: 'B', file: 'b.onnx', graph: a },
    ];
    for (const method of ['average', 'permute', 'zipit']) {
      const r = await merge(models, method, 'anchored');
      expect(r.batchNorm.mode).toBe('anchored');
      expect(r.batchNorm.reset).toHaveLength(2);
      const out = await logits(r.graph, x);
      expect(maxRelative(out['A:logits'], want), method).toBeLessThan(1e-4);
      expect(maxRelative(out['B:logits'], want), method).toBeLessThan(1e-4);
    }
    const reset = await resetBatchNorm(a, batches, { executor, threads: 1 });
    expect(maxRelative((await logits(reset.graph, x)).logits, want)).toBeGreaterThan(1e-2);
  });

  it('the default (reference) reset is skipped when the zip reproduces its inputs, and runs when it does not', async () => {
    const a = cnn(3);
    const want = (await logits(a, x)).logits;
    const self = await merge(
      [
        { name: 'A', file: 'a.onnx', graph: a },
        { name: 'B', file: 'b.onnx', graph: a },
      ],
      'zipit',
      'reference',
    );
    expect(self.batchNorm.skipped).toMatch(/reproduces its inputs/);
    expect(maxRelative((await logits(self.graph, x))['B:logits'], want)).toBeLessThan(1e-4);
    const pair = await merge(
      [
        { name: 'A', file: 'a.onnx', graph: a },
        { name: 'B', file: 'b.onnx', graph: cnn(4) },
      ],
      'zipit',
      'reference',
    );
    expect(pair.batchNorm.mode).toBe('reference');
    expect(pair.batchNorm.reset).toHaveLength(2);
  });

  it('is the reference reset when the inputs’ stored statistics are their own statistics on the merge data', async () => {
    // Two different models whose running statistics were estimated on the merge data itself.
    const models = await Promise.all(
      [cnn(3), cnn(4)].map(async (g, k) => ({ name: `M${k}`, file: `m${k}.onnx`, graph: (await resetBatchNorm(g, batches, { executor, threads: 1 })).graph })),
    );
    const anchored = await merge(models, 'zipit', 'anchored');
    const reference = await merge(models, 'zipit', 'reference');
    let compared = 0;
    for (const [name, t] of reference.graph.initializers) {
      if (!/running_(mean|var)/.test(name)) continue;
      compared++;
      const got = anchored.graph.initializers.get(name)!.data as Float32Array;
      (t.data as Float32Array).forEach((v, i) => expect(Math.abs(got[i] - v), `${name}[${i}]`).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    }
    expect(compared).toBe(4);
  });
});
