import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError, InvalidArgumentError, NotFoundError, ShapeError, UnsupportedError, type ZipitError, type Graph } from '@zipit/core';
import { readOnnx } from './read.js';
import { ExternalDataReader, readOnnxFile, writeOnnxFile } from './node/index.js';
import { onnxTypes } from './schema/onnx-root.js';
import { writeOnnx } from './write.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'cnn_folded_opset13.onnx');
const dir = mkdtempSync(join(tmpdir(), 'zipit-onnx-err-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tensorType = (dims: number[]) => ({ tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } });

/** A one-node model (y = x + w) with overridable model fields and initializer. */
function model(overrides: Record<string, unknown> = {}, initializer: Record<string, unknown> = {}): Uint8Array {
  const types = onnxTypes();
  const w = { name: 'w', dims: [2], data_type: 1, raw_data: new Uint8Array(Float32Array.of(1, 2).buffer), ...initializer };
  return types.ModelProto.encode(
    types.ModelProto.fromObject({
      ir_version: 8,
      opset_import: [{ version: 17 }],
      graph: {
        name: 'g',
        node: [{ input: ['x', 'w'], output: ['y'], op_type: 'Add', name: 'add' }],
        initializer: [w],
        input: [{ name: 'x', type: tensorType([2]) }],
        output: [{ name: 'y', type: tensorType([2]) }],
      },
      ...overrides,
    }),
  ).finish();
}

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs `f`, expects a ZipitError of class `type` whose message names `file`, returns the message. */
async function failure(f: () => unknown, type: abstract new (...args: never[]) => ZipitError, file: string): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    expect((e as ZipitError).file).toBe(file);
    expect((e as Error).message).toContain(file);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('reading bad input', () => {
  it('random bytes: FormatError naming the file', async () => {
    let s = 12345;
    const bytes = Uint8Array.from({ length: 4096 }, () => (s = (s * 1103515245 + 12345) >>> 0) >>> 24);
    const path = write('random.onnx', bytes);
    expect(await failure(() => readOnnxFile(path), FormatError, path)).toMatch(/not (a valid|an) ONNX model/);
  });

  it('a truncated file: FormatError suggesting truncation', async () => {
    const path = write('truncated.onnx', readFileSync(FIXTURE).subarray(0, 5000));
    expect(await failure(() => readOnnxFile(path), FormatError, path)).toMatch(/truncated/);
  });

  it('a text file: FormatError saying it is text', async () => {
    const path = write('notes.onnx', 'These are not the weights you are looking for.\n'.repeat(20));
    expect(await failure(() => readOnnxFile(path), FormatError, path)).toMatch(/text file/);
  });

  it('an empty file and a zip archive get their own hints', async () => {
    expect(await failure(() => readOnnxFile(write('empty.onnx', '')), FormatError, join(dir, 'empty.onnx'))).toMatch(/empty/);
    const zip = write('model.pt', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 1)]));
    expect(await failure(() => readOnnxFile(zip), FormatError, zip)).toMatch(/zip archive.*PyTorch/);
  });

  it('a missing file or a folder', async () => {
    await failure(() => readOnnxFile(join(dir, 'nope.onnx')), NotFoundError, join(dir, 'nope.onnx'));
    await failure(() => readOnnxFile(dir), FormatError, dir);
  });

  it('an unknown opset domain: UnsupportedError listing what is supported', async () => {
    const bytes = model({ opset_import: [{ version: 17 }, { domain: 'com.example.custom', version: 2 }] });
    const msg = await failure(() => readOnnx(bytes, { file: 'custom.onnx' }), UnsupportedError, 'custom.onnx');
    expect(msg).toContain('"com.example.custom"');
    expect(msg).toContain('IR versions 6–10, ai.onnx opsets 11–21');
  });

  it('ai.onnx.ml, com.microsoft and the explicit "ai.onnx" name are accepted', () => {
    const g = readOnnx(
      model({
        opset_import: [
          { domain: 'ai.onnx', version: 17 },
          { domain: 'ai.onnx.ml', version: 3 },
          { domain: 'com.microsoft', version: 1 },
        ],
      }),
    );
    expect(g.opsetImports.map((o) => o.domain)).toEqual(['ai.onnx', 'ai.onnx.ml', 'com.microsoft']);
  });

  it.each([5, 11, 0])('IR version %i: UnsupportedError', async (ir) => {
    const msg = await failure(() => readOnnx(model({ ir_version: ir }), { file: 'ir.onnx' }), UnsupportedError, 'ir.onnx');
    expect(msg).toContain(`IR version ${ir} is not supported`);
    expect(msg).toContain('IR versions 6–10');
  });

  it.each([10, 22])('opset %i: UnsupportedError naming the supported range', async (opset) => {
    const msg = await failure(() => readOnnx(model({ opset_import: [{ version: opset }] }), { file: 'opset.onnx' }), UnsupportedError, 'opset.onnx');
    expect(msg).toContain(`ai.onnx opset ${opset} is not supported`);
    expect(msg).toMatch(/opset_version between 11 and 21/);
  });

  it.each([6, 10])('IR version %i and opsets 11 and 21 are accepted', (ir) => {
    expect(readOnnx(model({ ir_version: ir, opset_import: [{ version: 11 }] })).irVersion).toBe(ir);
    expect(readOnnx(model({ ir_version: ir, opset_import: [{ version: 21 }] })).opsetImports[0].version).toBe(21);
  });

  it('a node in a domain the model does not import', async () => {
    const types = onnxTypes();
    const m = types.ModelProto.decode(model()) as unknown as { graph: { node: { domain: string }[] } };
    m.graph.node[0].domain = 'com.microsoft';
    const msg = await failure(() => readOnnx(types.ModelProto.encode(m as never).finish(), { file: 'dom.onnx' }), FormatError, 'dom.onnx');
    expect(msg).toContain('does not import');
  });

  it('no graph, no opset import, no IR version', async () => {
    const types = onnxTypes();
    const noGraph = types.ModelProto.encode({ ir_version: 8, opset_import: [{ version: 17 }] }).finish();
    expect(await failure(() => readOnnx(noGraph, { file: 'a.onnx' }), FormatError, 'a.onnx')).toContain('no graph');
    expect(await failure(() => readOnnx(model({ opset_import: [] }), { file: 'b.onnx' }), FormatError, 'b.onnx')).toContain('imports no operator set');
    const noIr = types.ModelProto.encode({ opset_import: [{ version: 17 }], graph: { name: 'g' } }).finish();
    expect(await failure(() => readOnnx(noIr, { file: 'c.onnx' }), FormatError, 'c.onnx')).toContain('no IR version');
  });

  it('raw_data of the wrong size names the initializer', async () => {
    const bytes = model({}, { raw_data: new Uint8Array(7) });
    expect(await failure(() => readOnnx(bytes, { file: 'w.onnx' }), FormatError, 'w.onnx')).toContain('initializer "w": raw_data holds 7 bytes');
  });

  describe('external data', () => {
    const external = (location: string, length = 8) =>
      model(
        {},
        {
          raw_data: undefined,
          data_location: 1,
          external_data: [
            { key: 'location', value: location },
            { key: 'length', value: String(length) },
          ],
        },
      );

    it('a missing data file: NotFoundError naming the data file and the model', async () => {
      const sub = mkdtempSync(join(dir, 'ext-'));
      const path = join(sub, 'model.onnx');
      writeFileSync(path, external('weights.bin'));
      const msg = await failure(() => readOnnxFile(path), NotFoundError, path);
      expect(msg).toContain('external data file "weights.bin"');
      expect(msg).toContain(join(sub, 'weights.bin'));
    });

    it('a data file too short for the tensor', async () => {
      const sub = mkdtempSync(join(dir, 'ext-'));
      writeFileSync(join(sub, 'weights.bin'), Buffer.alloc(4));
      const path = join(sub, 'model.onnx');
      writeFileSync(path, external('weights.bin'));
      expect(await failure(() => readOnnxFile(path), FormatError, path)).toContain('beyond the end');
    });

    it('a location outside the model folder is refused', async () => {
      expect(
        await failure(() => readOnnx(external('../../etc/passwd'), { file: 'm.onnx', external: new ExternalDataReader(dir, 'm.onnx') }), FormatError, 'm.onnx'),
      ).toContain("inside the model's folder");
      expect(
        await failure(() => readOnnx(external('/etc/passwd'), { file: 'm.onnx', external: new ExternalDataReader(dir, 'm.onnx') }), FormatError, 'm.onnx'),
      ).toContain("inside the model's folder");
    });

    it('bytes without a folder to look in', async () => {
      expect(await failure(() => readOnnx(external('weights.bin'), { file: 'm.onnx' }), InvalidArgumentError, 'm.onnx')).toContain('readOnnxFile');
    });

    it('a length that disagrees with the shape', async () => {
      expect(
        await failure(() => readOnnx(external('weights.bin', 12), { file: 'm.onnx', external: new ExternalDataReader(dir, 'm.onnx') }), FormatError, 'm.onnx'),
      ).toContain('does not match');
    });
  });
});

describe('writing', () => {
  const graph = (): Graph => readOnnx(model());

  it('a tensor whose data does not fit its shape: ShapeError naming it and the file, old file kept', async () => {
    const path = join(dir, 'keep.onnx');
    writeFileSync(path, 'old contents');
    const g = graph();
    g.initializers.set('w', { dtype: 'float32', shape: [3], data: new Float32Array(2) });
    expect(() => writeOnnx(g)).toThrow(ShapeError);
    const msg = await failure(() => writeOnnxFile(g, path), ShapeError, path);
    expect(msg).toContain('initializer "w"');
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    expect(readdirSync(dir).filter((f) => f.includes('keep.onnx'))).toEqual(['keep.onnx']);
  });

  it('a folder that does not exist: NotFoundError, nothing left behind', async () => {
    const path = join(dir, 'missing', 'out.onnx');
    await failure(() => writeOnnxFile(graph(), path), NotFoundError, path);
  });

  it('a non-integer int attribute is refused', () => {
    const g = graph();
    g.nodes[0].attributes.push({ name: 'axis', value: { type: 'int', value: 1.5 } });
    expect(() => writeOnnx(g)).toThrow(InvalidArgumentError);
  });

  it('int64 attributes beyond 2^53 saturate to the int64 range', () => {
    const g = graph();
    g.nodes[0].attributes.push({ name: 'ends', value: { type: 'ints', value: [2 ** 63, -(2 ** 63), 2 ** 60] } });
    const back = readOnnx(writeOnnx(g));
    expect(back.nodes[0].attributes[0].value).toEqual({ type: 'ints', value: [2 ** 63, -(2 ** 63), 2 ** 60] });
    const raw = onnxTypes().ModelProto.decode(writeOnnx(g)) as unknown as { graph: { node: { attribute: { ints: { toString(): string }[] }[] }[] } };
    expect(raw.graph.node[0].attribute[0].ints.map(String)).toEqual(['9223372036854775807', '-9223372036854775808', '1152921504606846976']);
  });
});
