import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, type Graph, type Tensor } from '@zipit/core';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { mergeModels, type MergeModelsResult } from '@zipit/pipeline';
import { ortExecutor } from '@zipit/runtime-ort';
import { safetensorsFormat } from '../safetensors-format.js';

/**
 * The fixture merge (tests and scripts only; not exported): models A and B read from their
 * safetensors state_dicts onto structure.onnx, zipped fully with zipit, BatchNorm re-estimated
 * on x.npy.
 */
export async function mergeFixtureModels(dir: string): Promise<{ structure: Graph; a: Graph; b: Graph; x: Tensor<'float32'>; merged: MergeModelsResult }> {
  const structure = await readOnnxFile(join(dir, 'structure.onnx'));
  const read = (f: string) => safetensorsFormat.read(new Uint8Array(readFileSync(join(dir, f))), { file: f, structure }) as Graph;
  const a = read('a.safetensors');
  const b = read('b.safetensors');
  const x = decodeNpy(readFileSync(join(dir, 'x.npy'))) as Tensor<'float32'>;
  const merged = await mergeModels(
    [
      { name: 'a', graph: a, file: 'a.safetensors' },
      { name: 'b', graph: b, file: 'b.safetensors' },
    ],
    { method: 'zipit', data: () => [{ x }], executor: ortExecutor, threads: 1 },
  );
  return { structure, a, b, x, merged };
}
