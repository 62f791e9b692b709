import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFormatRegistry, detectFormat, FormatError, formatForWrite, type ModelFormat, UnsupportedError } from '@zipit/core';
import { describe, expect, it } from 'vitest';
import { onnxFileFormat } from './node/index.js';
import { onnxFormat, sniffOnnx } from './onnx-format.js';
import { readOnnx } from './read.js';
import { writeOnnx } from './write.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/resnet_block_opset17.onnx');

/** A stand-in second format, recognised by a magic number, to check how candidates are ranked. */
const magic: ModelFormat = {
  name: 'magic',
  description: 'test format',
  extensions: ['.magic'],
  sniff: (b) => b[0] === 0x4d && b[1] === 0x47,
  read: () => {
    throw new Error('not used');
  },
};

describe('onnxFormat', () => {
  const bytes = new Uint8Array(readFileSync(FIXTURE));

  it('recognises exported and re-written ONNX files by content, and declines other bytes', () => {
    expect(sniffOnnx(bytes)).toBeGreaterThan(0.5);
    expect(sniffOnnx(writeOnnx(readOnnx(bytes)))).toBeGreaterThan(0.5);
    expect(sniffOnnx(new TextEncoder().encode('{"a": 1}'))).toBe(0);
    expect(sniffOnnx(Uint8Array.of(0x4d, 0x47, 0, 0))).toBe(0);
    expect(sniffOnnx(new Uint8Array(0))).toBe(0);
  });

  it('reads and writes through the registry: the same graph as readOnnx, the same bytes as writeOnnx', async () => {
    const registry = createFormatRegistry([onnxFormat, magic]);
    const format = detectFormat(registry, 'model.bin', bytes);
    expect(format.name).toBe('onnx');
    const graph = await format.read(bytes, { file: 'model.bin' });
    expect(graph.nodes.map((n) => n.name)).toEqual(readOnnx(bytes).nodes.map((n) => n.name));
    expect(formatForWrite(registry, 'out.ONNX').write(graph)).toEqual(writeOnnx(graph));
  });

  it('says why each format declined, naming the file; a named extension reads anyway, for its precise error', async () => {
    const registry = createFormatRegistry([onnxFormat, magic]);
    const text = new TextEncoder().encode('hello');
    expect(() => detectFormat(registry, 'notes.txt', text)).toThrow(FormatError);
    expect(() => detectFormat(registry, 'notes.txt', text)).toThrow(
      /notes\.txt: no registered format recognises the file \(onnx: the content is not onnx; magic: the content is not magic\)/,
    );
    const named = detectFormat(registry, 'notes.onnx', text);
    expect(named.name).toBe('onnx');
    await expect(async () => named.read(text, { file: 'notes.onnx' })).rejects.toThrow(/notes\.onnx: not a valid ONNX model/);
    expect(detectFormat(registry, 'x.onnx', Uint8Array.of(0x4d, 0x47)).name).toBe('magic');
    expect(() => formatForWrite(registry, 'out.magic')).toThrow(UnsupportedError);
    expect(() => formatForWrite(registry, 'out.pt')).toThrow(/writable: \.onnx \(onnx\)/);
  });

  it('onnxFileFormat reads the same graph from a path', async () => {
    const graph = await onnxFileFormat.read(bytes, { file: FIXTURE });
    expect(graph.initializers.size).toBe(readOnnx(bytes).initializers.size);
  });

  it('refuses a duplicate registration', () => {
    expect(() => createFormatRegistry([onnxFormat, onnxFileFormat])).toThrow(/format "onnx" is already registered/);
  });
});
