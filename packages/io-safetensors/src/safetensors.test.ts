import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFormatRegistry, decodeNpy, detectFormat, FormatError, MismatchError, UnsupportedError, type Graph, type Tensor } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { onnxFormat } from '@zipit/io-onnx';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { ortExecutor } from '@zipit/runtime-ort';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, loadStateDict, safetensorsFormat, toStateDict } from './index.js';
import { mergeFixtureModels } from './testing/merge-fixture.js';

const DIR = join(import.meta.dirname, '../fixtures');
const bytes = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));
const npy = (f: string) => decodeNpy(bytes(f)).data as Float32Array;
const x = decodeNpy(bytes('x.npy')) as Tensor<'float32'>;

async function run(graph: Graph, outputs?: string[]): Promise<Record<string, Float32Array>> {
  const session = await ortExecutor.createSession(graph, { threads: 1 });
  try {
    const out = await session.run({ input: x }, outputs);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
  } finally {
    await session.release();
  }
}

function expectClose(got: Float32Array, want: Float32Array, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  expect(worst).toBeLessThan(tol);
}

describe('safetensors codec', () => {
  it('decodes a PyTorch state_dict and re-encodes it byte for byte', () => {
    const raw = bytes('a.safetensors');
    const { tensors } = decodeSafetensors(raw, 'a.safetensors');
    expect([...tensors.keys()]).toEqual([
      'conv1.weight',
      'conv1.bias',
      'bn1.weight',
      'bn1.bias',
      'bn1.running_mean',
      'bn1.running_var',
      'bn1.num_batches_tracked',
      'conv2.weight',
      'conv2.bias',
      'bn2.weight',
      'bn2.bias',
      'bn2.running_mean',
      'bn2.running_var',
      'bn2.num_batches_tracked',
      'fc.weight',
      'fc.bias',
    ]);
    expect(tensors.get('conv1.weight')!.shape).toEqual([8, 3, 3, 3]);
    expect(tensors.get('bn1.num_batches_tracked')).toEqual({ dtype: 'int64', shape: [], data: BigInt64Array.of(100n) });
    expect(encodeSafetensors(tensors)).toEqual(raw);
  });

  it('round-trips metadata and every numeric dtype', () => {
    const t: [string, Tensor][] = [
      ['f64', { dtype: 'float64', shape: [2], data: Float64Array.of(1.5, -2) }],
      ['f16', { dtype: 'float16', shape: [1], data: Uint16Array.of(0x3c00) }],
      ['i8', { dtype: 'int8', shape: [3], data: Int8Array.of(-1, 0, 1) }],
      ['ok', { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) }],
      ['empty', { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) }],
    ];
    const back = decodeSafetensors(encodeSafetensors(t, { format: 'pt' }));
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors]).toEqual(t);
  });

  it('names the file and the tensor when the bytes are corrupt', () => {
    const raw = bytes('a.safetensors');
    expect(() => decodeSafetensors(raw.subarray(0, raw.length - 4), 'cut.safetensors')).toThrow(/cut\.safetensors: tensor "fc\.bias" \[4\] F32 needs 16 bytes/);
    expect(() => decodeSafetensors(raw.subarray(0, 100), 'head.safetensors')).toThrow(FormatError);
    expect(() => decodeSafetensors(Uint8Array.of(1, 2, 3), 'x')).toThrow(/too short/);
    const badJson = encodeSafetensors([]);
    badJson[8] = 0x5b;
    expect(() => decodeSafetensors(badJson, 'j')).toThrow(FormatError);
    expect(() => encodeSafetensors([['s', { dtype: 'string', shape: [1], data: ['a'] }]])).toThrow(UnsupportedError);
  });
});

describe('state_dict onto a structure', () => {
  it('loads model A onto its ONNX export: onnxruntime gives the PyTorch logits', async () => {
    const structure = await readOnnxFile(join(DIR, 'structure.onnx'));
    const load = loadStateDict(structure, decodeSafetensors(bytes('a.safetensors')).tensors);
    expect(load.unmatched).toEqual([]);
    expect(load.unused).toEqual(['bn1.num_batches_tracked', 'bn2.num_batches_tracked']);
    expect(load.matched).toHaveLength(14);
    expectClose((await run(load.graph)).logits, npy('logits_a.npy'), 1e-5);
    const b = loadStateDict(structure, decodeSafetensors(bytes('b.safetensors')).tensors).graph;
    expect(b.initializers.get('conv1.weight')!.data).not.toEqual(structure.initializers.get('conv1.weight')!.data);
  });

  it('says which parameters cannot be matched when the export folded BatchNorm into Conv', async () => {
    const folded = await readOnnxFile(join(DIR, 'folded.onnx'));
    const tensors = decodeSafetensors(bytes('a.safetensors')).tensors;
    expect(() => loadStateDict(folded, tensors, { file: 'a.safetensors' })).toThrow(MismatchError);
    expect(() => loadStateDict(folded, tensors, { file: 'a.safetensors' })).toThrow(/cannot be matched by name: onnx::Conv_\d+.*TrainingMode\.PRESERVE/);
    const loose = loadStateDict(folded, tensors, { strict: false });
    expect(loose.matched).toEqual(['fc.weight', 'fc.bias']);
    expect(loose.unmatched.every((n) => n.startsWith('onnx::Conv_'))).toBe(true);
    expect(loose.unused).toContain('bn1.running_mean');
  });

  it("takes a reference builder's graph as the structure (weights of another seed land by name)", () => {
    const structure = buildSmallCnn({ seed: 1 });
    const other = buildSmallCnn({ seed: 2 });
    const graph = safetensorsFormat.read(encodeSafetensors(other.initializers), { structure }) as Graph;
    expect([...graph.initializers]).toEqual([...other.initializers]);
    expect(graph.nodes).toBe(structure.nodes);
  });

  it('is a format plugin: detected by content, refuses to read without a structure', async () => {
    const registry = createFormatRegistry([onnxFormat, safetensorsFormat]);
    expect(detectFormat(registry, 'weights.bin', bytes('a.safetensors')).name).toBe('safetensors');
    expect(detectFormat(registry, 'model.bin', bytes('structure.onnx')).name).toBe('onnx');
    expect(() => safetensorsFormat.read(bytes('a.safetensors'), { file: 'a.safetensors' })).toThrow(/needs the structure/);
  });
});

describe('merged weights as a state_dict', () => {
  it('the committed check: PyTorch with merged_{a,b}.safetensors loaded gives the logits of merged.onnx', async () => {
    const merged = await readOnnxFile(join(DIR, 'merged.onnx'));
    const out = await run(merged);
    expectClose(out['a:logits'], npy('merged_logits_a.npy'), 1e-4);
    expectClose(out['b:logits'], npy('merged_logits_b.npy'), 1e-4);
    const template = decodeSafetensors(bytes('a.safetensors')).tensors;
    for (const model of ['a', 'b']) {
      const sd = toStateDict(merged, { model, template });
      expect(sd.fromTemplate).toEqual(['bn1.num_batches_tracked', 'bn2.num_batches_tracked']);
      expect(encodeSafetensors(sd.tensors)).toEqual(bytes(`merged_${model}.safetensors`));
    }
    expect(() => toStateDict(merged)).toThrow(/per-model parameters for a, b/);
  });

  it("a fresh merge written as a state_dict and read back gives the merged graph's logits per model", async () => {
    const { structure, merged } = await mergeFixtureModels(DIR);
    const out = await run(merged.graph);
    for (const model of ['a', 'b']) {
      const sd = toStateDict(merged.graph, { model });
      const back = safetensorsFormat.read(encodeSafetensors(sd.tensors), { structure }) as Graph;
      expectClose((await run(back)).logits, out[`${model}:logits`], 1e-5);
    }
  });
});
