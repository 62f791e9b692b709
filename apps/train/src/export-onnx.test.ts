import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom, tensor, type Graph, type Tensor } from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { runModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { useWasmBackend } from './backend.js';
import { exportGraph } from './export-onnx.js';
import { forward, type ModelConfig } from './models.js';
import { ParameterStore, TfOps, toOnnxParameters } from './tf-ops.js';

beforeAll(async () => {
  await useWasmBackend();
});

/** A model with seeded weights and random (non-trivial) BatchNorm affine parameters and running statistics. */
function randomModel(config: ModelConfig, seed: number): ParameterStore {
  const params = new ParameterStore(seed);
  tf.tidy(() => forward(new TfOps(params, false), tf.zeros([1, 32, 32, 3]), config));
  const rng = new SeededRandom(seed + 1000);
  for (const [name, v] of params.variables) {
    const n = v.size;
    if (name.endsWith('.running_mean') || name.endsWith('.bias')) v.assign(tf.tensor(rng.normalTensor([n], 0.2).data, v.shape));
    else if (name.endsWith('.running_var') || (v.rank === 1 && name.endsWith('.weight'))) v.assign(tf.tensor(rng.uniformTensor([n], 0.5, 1.5).data, v.shape));
  }
  return params;
}

/** Logits of the tfjs model (inference mode) for NCHW images. */
function tfLogits(params: ParameterStore, config: ModelConfig, x: Tensor<'float32'>): Float32Array {
  return tf.tidy(() => {
    const nhwc = tf.transpose(tf.tensor4d(x.data, x.shape as [number, number, number, number]), [0, 2, 3, 1]);
    return forward(new TfOps(params, false), nhwc, config).dataSync() as Float32Array;
  });
}

async function ortLogits(graph: Graph, x: Tensor<'float32'>): Promise<Float32Array> {
  for await (const { values } of runModel(graph, [{ x }], { executor, threads: 1 })) return values.logits.data as Float32Array;
  throw new Error('no batch');
}

function images(n: number, seed: number): Tensor<'float32'> {
  return new SeededRandom(seed).normalTensor([n, 3, 32, 32]) as Tensor<'float32'>;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CONFIGS: [string, ModelConfig][] = [
  ['ResNet-20', { arch: 'resnet20', width: 4, classes: 5 }],
  ['VGG-11', { arch: 'vgg11', width: 4, classes: 3 }],
];

describe('exportGraph', () => {
  it.each(CONFIGS)('%s: onnxruntime reproduces the tfjs logits of the exported model (through ONNX bytes)', async (_, config) => {
    const params = randomModel(config, 7);
    const graph = readOnnx(writeOnnx(exportGraph(config, toOnnxParameters(params))));
    const x = images(6, 3);
    const expected = tfLogits(params, config, x);
    const actual = await ortLogits(graph, x);
    expect(actual.length).toBe(6 * config.classes);
    expect(maxAbsDiff(actual, expected)).toBeLessThan(1e-4);
    params.dispose();
  });

  it('ResNet-20 has PyTorch module names, BatchNorm kept, option-B shortcuts and opset 13', () => {
    const params = randomModel({ arch: 'resnet20', width: 4, classes: 5 }, 1);
    const graph = exportGraph({ arch: 'resnet20', width: 4, classes: 5 }, toOnnxParameters(params));
    const names = [...graph.initializers.keys()];
    expect(names.slice(0, 6)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'layer1.0.conv1.weight']);
    expect(names).toContain('layer2.0.shortcut.0.weight');
    expect(names).toContain('layer3.0.shortcut.1.running_var');
    expect(names).not.toContain('layer1.0.shortcut.0.weight');
    expect(graph.initializers.get('layer2.0.shortcut.0.weight')!.shape).toEqual([8, 4, 1, 1]);
    expect(graph.initializers.get('layer3.2.conv2.weight')!.shape).toEqual([16, 16, 3, 3]);
    expect(graph.initializers.get('linear.weight')!.shape).toEqual([5, 16]);
    const ops = graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(21);
    expect(ops.filter((o) => o === 'BatchNormalization')).toHaveLength(21);
    expect(ops.filter((o) => o === 'Add')).toHaveLength(9);
    expect(graph.nodes.find((n) => n.opType === 'Gemm')!.name).toBe('/linear/Gemm');
    expect(graph.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(graph.inputs.map((i) => [i.name, i.shape])).toEqual([['input', ['batch', 3, 32, 32]]]);
    expect(graph.outputs.map((o) => [o.name, o.shape])).toEqual([['logits', ['batch', 5]]]);
    params.dispose();
  });

  it('VGG-11 has features.N / classifier names, conv biases, five max-pools and the trailing AvgPool(1)', () => {
    const params = randomModel({ arch: 'vgg11', width: 4, classes: 3 }, 1);
    const graph = exportGraph({ arch: 'vgg11', width: 4, classes: 3 }, toOnnxParameters(params));
    const names = [...graph.initializers.keys()];
    expect(names.slice(0, 6)).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.1.running_mean',
      'features.1.running_var',
    ]);
    expect(names).toContain('features.25.weight');
    expect(names).toContain('features.26.running_var');
    expect(graph.initializers.get('classifier.weight')!.shape).toEqual([3, 32]);
    const ops = graph.nodes.map((n) => n.opType);
    expect(ops.filter((o) => o === 'Conv')).toHaveLength(8);
    expect(ops.filter((o) => o === 'MaxPool')).toHaveLength(5);
    expect(graph.nodes.find((n) => n.opType === 'AveragePool')!.name).toBe('/features/features.29/AveragePool');
    expect(graph.nodes.find((n) => n.opType === 'MaxPool')!.name).toBe('/features/features.3/MaxPool');
    params.dispose();
  });

  it('refuses parameters that are missing, left over or of the wrong shape', () => {
    const config: ModelConfig = { arch: 'vgg11', width: 2, classes: 2 };
    const params = randomModel(config, 2);
    const onnx = toOnnxParameters(params);
    const missing = new Map(onnx);
    missing.delete('features.4.weight');
    expect(() => exportGraph(config, missing)).toThrow('no trained value for parameter features.4.weight');
    const extra = new Map(onnx).set('fc.weight', tensor('float32', [1], new Float32Array(1)));
    expect(() => exportGraph(config, extra)).toThrow('trained parameters not in the graph: fc.weight');
    const wrong = new Map(onnx).set('classifier.bias', tensor('float32', [3], new Float32Array(3)));
    expect(() => exportGraph(config, wrong)).toThrow('parameter classifier.bias is [3], the graph needs [2]');
    params.dispose();
  });
});
