import { buildResNet18 } from '@zipit/arch-resnet';
import { SeededRandom, type Graph } from '@zipit/core';
import { mergeModels, type Batch } from '@zipit/pipeline';
import { ModelSession, ortExecutor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';

/**
 * With BatchNorm folded into the convolutions, the default merge corrects zipped layers with
 * REPAIR. Merged with itself, a model must come back: targets and merged statistics are the
 * same numbers, so every correction is the identity (a BatchNorm-style estimate moved the
 * logits by 1.8 % here).
 */

async function logits(graph: Graph, x: Batch['x'], output: string): Promise<Float32Array> {
  const s = await ModelSession.create(graph, { threads: 1 });
  try {
    return (await s.run({ [graph.inputs[0].name]: x }))[output].data as Float32Array;
  } finally {
    await s.release();
  }
}

function relativeError(got: Float32Array, want: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i] - want[i]) ** 2;
    den += want[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('REPAIR on a self-merge is the identity', () => {
  const a = buildResNet18({ seed: 1, width: 0.25, imageSize: 32, foldedBatchNorm: true });
  const r = new SeededRandom(7);
  // Several batches, so that per-batch and pooled statistics differ.
  const batches: Batch[] = Array.from({ length: 4 }, () => ({ x: r.normalTensor([16, 3, 32, 32]) }));
  const held = r.normalTensor([8, 3, 32, 32]);

  for (const method of ['average', 'permute', 'zipit']) {
    it(`folded ResNet-18, ${method}, default options`, async () => {
      const m = await mergeModels(
        [
          { name: 'A', graph: a, file: 'a.onnx' },
          { name: 'B', graph: a, file: 'b.onnx' },
        ],
        { method, data: () => batches, executor: ortExecutor, threads: 1 },
      );
      expect(m.batchNorm.repaired!.length).toBeGreaterThan(10);
      const out = a.outputs[0].name;
      for (const x of [batches[0].x, held]) {
        const want = await logits(a, x, out);
        expect(relativeError(await logits(m.graph, x, `A:${out}`), want)).toBeLessThan(1e-5);
        expect(relativeError(await logits(m.graph, x, `B:${out}`), want)).toBeLessThan(1e-5);
      }
    }, 30_000);
  }
});
