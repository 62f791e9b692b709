import { detectFormat, pickExecutor } from '@zipit/core';
import { describe, expect, it } from 'vitest';
import { builtinPlugins } from './builtin.js';

describe('builtinPlugins', () => {
  it('registers every built-in plugin of each kind into fresh registries', async () => {
    const p = builtinPlugins();
    expect(p.architectures.list().map((a) => a.name)).toEqual(['resnet', 'vgg', 'vit']);
    expect(p.matchers.list().map((m) => m.name)).toEqual(expect.arrayContaining(['zipit', 'permute', 'average']));
    expect(p.formats.list().map((f) => f.name)).toEqual(['onnx', 'safetensors']);
    expect((await pickExecutor(p.executors)).name).toBe('onnxruntime-node');
    expect(builtinPlugins().formats).not.toBe(p.formats);
    expect(p.operators.of({ domain: '', opType: 'Conv' })?.role).toBe('weight');
    expect(builtinPlugins().operators).not.toBe(p.operators);
    expect(detectFormat(p.formats, 'a.bin', Uint8Array.of(8, 7, 0x12, 0)).name).toBe('onnx');
  });
});
