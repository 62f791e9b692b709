import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { describe, expect, it } from 'vitest';
import { checkPaths } from './files.js';
import { onnxSideFiles } from './onnx-side-files.js';

// A hand-encoded ONNX model (protobuf wire format, field numbers of onnx.proto) whose one
// initializer lives in a side file: y = x + w, w = [1.5, -2] stored in weights.bin.
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};
const field = (no: number, bytes: number[] | string): number[] => {
  const b = typeof bytes === 'string' ? [...Buffer.from(bytes, 'utf8')] : bytes;
  return [...varint((no << 3) | 2), ...varint(b.length), ...b];
};
const int = (no: number, v: number): number[] => [...varint(no << 3), ...varint(v)];
const entry = (key: string, value: string) => [...field(1, key), ...field(2, value)];
const tensorType = field(2, field(1, [...int(1, 1), ...field(2, field(1, int(1, 2)))])); // float [2]
const model = (location: string): Uint8Array =>
  Uint8Array.from([
    ...int(1, 8), // ir_version
    ...field(
      7, // graph
      [
        ...field(1, [...field(1, 'x'), ...field(1, 'w'), ...field(2, 'y'), ...field(3, 'add'), ...field(4, 'Add')]),
        ...field(2, 'g'),
        ...field(5, [
          ...int(1, 2),
          ...int(2, 1),
          ...field(8, 'w'),
          ...field(13, entry('location', location)),
          ...field(13, entry('length', '8')),
          ...int(14, 1),
        ]),
        ...field(11, [...field(1, 'x'), ...tensorType]),
        ...field(12, [...field(1, 'y'), ...tensorType]),
      ],
    ),
    ...field(8, [...field(1, ''), ...int(2, 13)]), // opset_import
  ]);

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zipit-side-'));
  writeFileSync(join(dir, 'model.onnx'), model('weights.bin'));
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(Float32Array.of(1.5, -2).buffer));
  return dir;
}

describe('ONNX external-data side files in the path check', () => {
  it('finds the side files of a model the reader reads', async () => {
    const dir = folder();
    const graph = await readOnnxFile(join(dir, 'model.onnx'));
    expect(Array.from(graph.initializers.get('w')!.data as Float32Array)).toEqual([1.5, -2]);
    expect(await onnxSideFiles({ label: 'input model', path: join(dir, 'model.onnx') })).toEqual([
      { label: `input model ${join(dir, 'model.onnx')}'s external data`, path: join(dir, 'weights.bin') },
    ]);
  });

  it('refuses an output over an input model’s side file, before anything is written', async () => {
    const dir = folder();
    const before = readFileSync(join(dir, 'weights.bin'));
    await expect(
      checkPaths({ inputs: [{ label: 'input model', path: join(dir, 'model.onnx') }], outputs: [{ label: '--out', path: join(dir, '.', 'weights.bin') }] }),
    ).rejects.toThrow(/--out .*weights\.bin is the same file as input model .*model\.onnx's external data .*weights\.bin: writing it would destroy the input/);
    expect(readFileSync(join(dir, 'weights.bin'))).toEqual(before);
  });

  it('finds none in a model without external data, or in a file it cannot read', async () => {
    const fixture = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models', 'resnet20_mnist_0-4.onnx');
    expect(await onnxSideFiles({ label: 'A', path: fixture })).toEqual([]);
    expect(await onnxSideFiles({ label: 'A', path: '/nonexistent/m.onnx' })).toEqual([]);
  });
});
