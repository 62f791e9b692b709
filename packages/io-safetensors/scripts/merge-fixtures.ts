/**
 * Step 2 of the fixtures (see fixtures/make_fixtures.py): reads the PyTorch state_dicts of
 * models A and B onto structure.onnx, merges them with zipit (fully zipped, BatchNorm
 * re-estimated on x.npy) on onnxruntime-node, and writes merged.onnx plus one state_dict per
 * model (shared trunk + its own head) under the original parameter names.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNpy, type Tensor } from '@zipit/core';
import { writeOnnx } from '@zipit/io-onnx';
import { mergeFixtureModels } from '../src/testing/merge-fixture.js';
import { decodeSafetensors, encodeSafetensors, toStateDict } from '../src/index.js';

const dir = join(import.meta.dirname, '../fixtures');
const { merged } = await mergeFixtureModels(dir);
writeFileSync(join(dir, 'merged.onnx'), writeOnnx(merged.graph));
const template = decodeSafetensors(readFileSync(join(dir, 'a.safetensors'))).tensors;
for (const model of ['a', 'b']) {
  const sd = toStateDict(merged.graph, { model, template });
  writeFileSync(join(dir, `merged_${model}.safetensors`), encodeSafetensors(sd.tensors));
  console.log(
    `merged_${model}.safetensors: ${sd.fromGraph.length} from the merged graph, kept from the template: ${sd.fromTemplate.join(', ') || 'none'}; left out: ${sd.leftOut.join(', ') || 'none'}`,
  );
}
const x: Tensor = decodeNpy(readFileSync(join(dir, 'x.npy')));
console.log(`merged ${merged.points.length} points; BatchNorm reset: ${merged.batchNorm.reset.join(', ')}; x ${x.shape.join('×')}`);
