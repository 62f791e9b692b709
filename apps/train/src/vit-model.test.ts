import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { vitArch } from '@zipit/arch-vit';
import { SeededRandom, type Tensor } from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { runModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { useWasmBackend } from './backend.js';
import { exportVit, VitParameters, vitForward, type VitConfig } from './vit-model.js';

beforeAll(async () => {
  await useWasmBackend();
});

const config: VitConfig = { imageSize: 28, channels: 1, patch: 7, dim: 16, depth: 2, heads: 4, mlpRatio: 2, classes: 5 };

/** Parameters with non-trivial LayerNorm affines and biases (the defaults are 1 and 0). */
function randomParams(seed: number): VitParameters {
  const params = new VitParameters(config, seed);
  const rng = new SeededRandom(seed + 1);
  for (const [name, v] of params.variables) {
    if (v.rank === 1) v.assign(tf.tensor(rng.normalTensor([v.size], 0.3, name.includes('norm') && name.endsWith('.weight') ? 1 : 0).data, v.shape));
    else v.assign(tf.tensor(rng.normalTensor(v.shape, 0.3).data, v.shape));
  }
  return params;
}

describe('the tfjs ViT and its ONNX export', () => {
  it('compute the same logits, and the export is a ViT the plugin recognises', async () => {
    const params = randomParams(3);
    const x: Tensor<'float32'> = new SeededRandom(9).normalTensor([6, 1, 28, 28]);
    const graph = readOnnx(writeOnnx(exportVit(params)));
    expect(vitArch.recognise(graph)).toMatchObject({ match: true, variant: 'vit-d2-h4' });
    const ref = tf.tidy(() => vitForward(params, tf.tensor4d(x.data, x.shape as [number, number, number, number])).dataSync() as Float32Array);
    let onnx: Float32Array | undefined;
    for await (const { values } of runModel(graph, [{ x }], { executor, threads: 1 })) onnx = values.logits.data as Float32Array;
    expect(onnx!.length).toBe(6 * 5);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(ref[i] - onnx![i]));
    expect(diff).toBeLessThan(1e-4);
    params.dispose();
  });
});
