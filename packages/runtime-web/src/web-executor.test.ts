import { fileURLToPath } from 'node:url';
import { createExecutorRegistry, deriveMergeGraph, pickExecutor, SeededRandom, tensor, type Tensor } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { computeStatistics, type Batches } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { webExecutor } from './web-executor.js';

const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/models/${name}`, import.meta.url));

function batches(count: number, seed: number): () => Batches {
  return () => ({
    async *[Symbol.asyncIterator]() {
      const rng = new SeededRandom(seed);
      for (let b = 0; b < count; b++)
        yield {
          x: tensor(
            'float32',
            [8, 3, 32, 32],
            Float32Array.from({ length: 8 * 3072 }, () => rng.normal()),
          ),
        };
    },
  });
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('webExecutor (onnxruntime-web, WebAssembly, here in Node)', () => {
  it('is picked when it is the only executor, and answers like onnxruntime-node on the ResNet-20 fixture', async () => {
    expect(await webExecutor.availability()).toEqual({ available: true });
    expect(await pickExecutor(createExecutorRegistry([webExecutor]))).toBe(webExecutor);
    const graph = await readOnnxFile(fixture('resnet20_mnist_0-4.onnx'));
    const rng = new SeededRandom(5);
    const x = tensor(
      'float32',
      [4, 3, 32, 32],
      Float32Array.from({ length: 4 * 3072 }, () => rng.normal()),
    );
    const outputs: Record<string, Tensor>[] = [];
    for (const ex of [webExecutor, ortExecutor]) {
      const s = await ex.createSession(graph, { threads: 1 });
      try {
        outputs.push(await s.run({ [s.inputNames[0]]: x }));
      } finally {
        await s.release();
      }
    }
    const [web, native] = outputs;
    expect(Object.keys(web)).toEqual(Object.keys(native));
    for (const k of Object.keys(web)) {
      expect(web[k].shape).toEqual(native[k].shape);
      expect(maxAbsDiff(web[k].data as Float32Array, native[k].data as Float32Array)).toBeLessThan(1e-4);
    }
  });

  it('runs the statistics pass of the pipeline: the same covariances as onnxruntime-node', async () => {
    const models = await Promise.all(
      ['resnet20_mnist_0-4.onnx', 'resnet20_mnist_5-9.onnx'].map(async (f, i) => ({ name: `m${i}`, file: f, graph: await readOnnxFile(fixture(f)) })),
    );
    const mg = deriveMergeGraph(models[0].graph);
    const [web, native] = await Promise.all(
      [webExecutor, ortExecutor].map((executor) => computeStatistics(models, mg, batches(1, 9)(), { executor, threads: 1 })),
    );
    for (let i = 0; i < mg.points.length; i++) {
      const a = web.covariance(i);
      const b = native.covariance(i);
      const scale = Math.max(...Array.from(b, Math.abs));
      expect(maxAbsDiff(a, b) / scale, mg.points[i].name).toBeLessThan(1e-5);
    }
  });

  it('says what is wrong with a bad thread count', async () => {
    const graph = await readOnnxFile(fixture('resnet20_mnist_0-4.onnx'));
    await expect(webExecutor.createSession(graph, { threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
  });
});
