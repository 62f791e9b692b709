import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { sizeOf, type Attribute, type Graph, type Node, type Tensor } from '@zipit/core';
import { readOnnx } from './read.js';
import { readOnnxFile, writeOnnxFile } from './node/index.js';
import { writeOnnx } from './write.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'zipit-onnx-rt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** mulberry32: the same seed gives the same weights and inputs on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(next: () => number, shape: number[], lo = -1, hi = 1): Tensor<'float32'> {
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * next();
  return { dtype: 'float32', shape, data };
}

const ints = (name: string, value: number[]): Attribute => ({ name, value: { type: 'ints', value } });
const int = (name: string, value: number): Attribute => ({ name, value: { type: 'int', value } });
// FLOAT attributes are float32 in ONNX: use float32 values so the IR compares equal after a round trip.
const float = (name: string, value: number): Attribute => ({ name, value: { type: 'float', value: Math.fround(value) } });
const i64 = (values: number[], shape = [values.length]): Tensor<'int64'> => ({ dtype: 'int64', shape, data: BigInt64Array.from(values.map(BigInt)) });

function node(opType: string, name: string, inputs: string[], outputs: string[], attributes: Attribute[] = []): Node {
  return { name, opType, domain: '', inputs, outputs, attributes };
}

/**
 * A CNN the way PyTorch exports one: Conv+BN+Relu, a residual Conv+BN+Add, MaxPool, Pad with
 * pads from a Constant, Identity, GlobalAveragePool+Flatten and ReduceMean heads, Gemm with
 * transB=1, and a second head reshaped by the x.view(x.size(0), -1) chain
 * (Shape→Gather→Unsqueeze→Concat→Reshape) — built by hand as graph IR.
 */
function handBuiltCnn(opset: number): Graph {
  const next = rng(opset);
  const init = new Map<string, Tensor>();
  const param = (name: string, shape: number[], lo = -0.5, hi = 0.5) => {
    init.set(name, randomTensor(next, shape, lo, hi));
    return name;
  };
  const bn = (prefix: string, c: number) => [
    param(`${prefix}.weight`, [c], 0.5, 1.5),
    param(`${prefix}.bias`, [c]),
    param(`${prefix}.running_mean`, [c], -0.1, 0.1),
    param(`${prefix}.running_var`, [c], 0.5, 1.5),
  ];
  const conv = [ints('dilations', [1, 1]), int('group', 1), ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [1, 1])];
  const bnAttrs = [float('epsilon', 1e-5), float('momentum', 0.9)];
  const nodes: Node[] = [
    node('Conv', '/conv1/Conv', ['input', param('conv1.weight', [8, 3, 3, 3]), param('conv1.bias', [8])], ['c1'], conv),
    node('BatchNormalization', '/bn1/BatchNormalization', ['c1', ...bn('bn1', 8)], ['b1'], bnAttrs),
    node('Relu', '/Relu', ['b1'], ['r1']),
    node('Conv', '/conv2/Conv', ['r1', param('conv2.weight', [8, 8, 3, 3]), param('conv2.bias', [8])], ['c2'], conv),
    node('BatchNormalization', '/bn2/BatchNormalization', ['c2', ...bn('bn2', 8)], ['b2'], bnAttrs),
    node('Add', '/Add', ['b2', 'r1'], ['a2']),
    node('Relu', '/Relu_1', ['a2'], ['r2']),
    node('MaxPool', '/MaxPool', ['r2'], ['p'], [int('ceil_mode', 0), ints('kernel_shape', [2, 2]), ints('pads', [0, 0, 0, 0]), ints('strides', [2, 2])]),
    { ...node('Constant', '/Constant', [], ['pads']), attributes: [{ name: 'value', value: { type: 'tensor', value: i64([0, 0, 1, 1, 0, 0, 1, 1]) } }] },
    node('Pad', '/Pad', ['p', 'pads'], ['padded'], [{ name: 'mode', value: { type: 'string', value: 'constant' } }]),
    node(
      'Conv',
      '/conv3/Conv',
      ['padded', param('conv3.weight', [16, 8, 3, 3]), param('conv3.bias', [16])],
      ['c3'],
      [...conv.slice(0, 3), ints('pads', [0, 0, 0, 0]), ints('strides', [1, 1])],
    ),
    node('Relu', '/Relu_2', ['c3'], ['r3']),
    node('Identity', '/Identity', ['r3'], ['features']),
    node('GlobalAveragePool', '/GlobalAveragePool', ['features'], ['gap']),
    node('Flatten', '/Flatten', ['gap'], ['flat'], [int('axis', 1)]),
    node('ReduceMean', '/ReduceMean', ['features'], ['mean'], [ints('axes', [2, 3]), int('keepdims', 0)]),
    node('Add', '/Add_1', ['flat', 'mean'], ['pooled']),
    node(
      'Gemm',
      '/fc/Gemm',
      ['pooled', param('fc.weight', [5, 16]), param('fc.bias', [5])],
      ['logits'],
      [float('alpha', 1), float('beta', 1), int('transB', 1)],
    ),
    node('Shape', '/Shape', ['features'], ['shape']),
    { ...node('Constant', '/Constant_1', [], ['zero']), attributes: [{ name: 'value', value: { type: 'tensor', value: i64([0], []) } }] },
    node('Gather', '/Gather', ['shape', 'zero'], ['batch'], [int('axis', 0)]),
    { ...node('Constant', 'Constant_7', [], ['axes0']), attributes: [{ name: 'value', value: { type: 'tensor', value: i64([0]) } }] },
    node('Unsqueeze', '/Unsqueeze', ['batch', 'axes0'], ['batch1']),
    { ...node('Constant', '/Constant_2', [], ['minus1']), attributes: [{ name: 'value', value: { type: 'tensor', value: i64([-1]) } }] },
    node('Concat', '/Concat', ['batch1', 'minus1'], ['viewShape'], [int('axis', 0)]),
    node('Reshape', '/Reshape', ['features', 'viewShape'], ['viewed']),
    node(
      'Gemm',
      '/head2/Gemm',
      ['viewed', param('head2.weight', [3, 256], -0.1, 0.1), param('head2.bias', [3])],
      ['logits2'],
      [float('alpha', 1), float('beta', 1), int('transB', 1)],
    ),
  ];
  return {
    name: 'main_graph',
    irVersion: opset >= 15 ? 8 : 7,
    opsetImports: [{ domain: '', version: opset }],
    producerName: 'zipit-test',
    metadata: [['purpose', 'round trip']],
    nodes,
    inputs: [{ name: 'input', dtype: 'float32', shape: ['batch', 3, 8, 8] }],
    outputs: [
      { name: 'logits', dtype: 'float32', shape: ['batch', 5] },
      { name: 'logits2', dtype: 'float32', shape: ['batch', 3] },
    ],
    valueInfo: [{ name: 'features', dtype: 'float32', shape: ['batch', 16, 4, 4] }],
    initializers: init,
  };
}

async function run(model: Uint8Array | string, input: Tensor<'float32'>): Promise<Map<string, Float32Array>> {
  const session = await ort.InferenceSession.create(model as Uint8Array, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input.data, [...input.shape]) });
    return new Map(session.outputNames.map((n) => [n, result[n].data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Largest |a - b| over all outputs; NaN where the outputs differ in name or length. */
function maxAbsDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  if ([...a.keys()].join() !== [...b.keys()].join()) return NaN;
  let m = 0;
  for (const [k, x] of a) {
    const y = b.get(k) as Float32Array;
    if (x.length !== y.length) return NaN;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

function bitsEqual(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  for (const [k, x] of a) {
    const y = b.get(k) as Float32Array;
    if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength))) return false;
  }
  return true;
}

/** The PyTorch exports (schema_ir8.onnx is not runnable; lossless.test.ts covers it). */
const fixtures = readdirSync(FIXTURES)
  .filter((f) => /_opset\d+\.onnx$/.test(f))
  .sort();

describe('PyTorch-exported ONNX files', () => {
  it('has fixtures to test', () => expect(fixtures.length).toBeGreaterThanOrEqual(8));

  it.each(fixtures)('%s: read → write gives the same bytes and identical onnxruntime outputs', async (f) => {
    const original = readFileSync(join(FIXTURES, f));
    const graph = readOnnx(original, { file: f });
    const written = writeOnnx(graph);
    expect(Buffer.from(written).equals(original)).toBe(true);
    for (const batch of [1, 3]) {
      const input = randomTensor(rng(batch), [batch, 3, 8, 8]);
      const [a, b] = [await run(original, input), await run(written, input)];
      expect(a.get('logits')?.length).toBe(batch * (f.startsWith('mlp') ? 10 : f.startsWith('resnet') ? 4 : 5));
      expect(maxAbsDiff(a, b)).toBe(0);
      expect(bitsEqual(a, b)).toBe(true);
    }
  });

  it('keeps what the exporter wrote: Constant nodes, Gemm transB, symbolic batch, opset and IR version', () => {
    const g = readOnnx(readFileSync(join(FIXTURES, 'mlp_view_opset13.onnx')));
    expect(g.irVersion).toBe(7);
    expect(g.opsetImports).toEqual([{ domain: '', version: 13 }]);
    expect(g.producerName).toBe('pytorch');
    expect(g.inputs).toEqual([{ name: 'input', dtype: 'float32', shape: ['batch', 3, 8, 8] }]);
    expect(g.nodes.map((n) => n.opType)).toEqual([
      'Shape',
      'Constant',
      'Gather',
      'Constant',
      'Unsqueeze',
      'Constant',
      'Concat',
      'Reshape',
      'Gemm',
      'Relu',
      'Gemm',
    ]);
    const gemm = g.nodes.find((n) => n.opType === 'Gemm') as Node;
    expect(gemm.attributes.find((a) => a.name === 'transB')?.value).toEqual({ type: 'int', value: 1 });
    const minus1 = g.nodes[5].attributes[0].value;
    expect(minus1.type === 'tensor' && [...(minus1.value.data as BigInt64Array)]).toEqual([-1n]);
    const w = g.initializers.get('fc1.weight') as Tensor;
    expect(w.dtype).toBe('float32');
    expect(w.shape).toEqual([32, 192]);
  });
});

describe('hand-built graphs', () => {
  it.each([13, 17])('opset %i: write → read → write is stable and runs identically', async (opset) => {
    const graph = handBuiltCnn(opset);
    const bytes = writeOnnx(graph);
    expect(Buffer.from(writeOnnx(graph)).equals(Buffer.from(bytes))).toBe(true);
    const back = readOnnx(bytes);
    expect(back.nodes).toEqual(graph.nodes);
    expect(back.inputs).toEqual(graph.inputs);
    expect(back.outputs).toEqual(graph.outputs);
    expect(back.valueInfo).toEqual(graph.valueInfo);
    expect(back.metadata).toEqual(graph.metadata);
    expect([...back.initializers.keys()]).toEqual([...graph.initializers.keys()]);
    for (const [name, t] of graph.initializers) expect(back.initializers.get(name)).toEqual(t);
    const again = writeOnnx(back);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);

    const input = randomTensor(rng(7), [2, 3, 8, 8]);
    const [a, b] = [await run(bytes, input), await run(again, input)];
    expect(a.get('logits')?.length).toBe(10);
    expect(a.get('logits2')?.length).toBe(6);
    expect([...a.values()].every((x) => x.every(Number.isFinite) && x.some((v) => v !== 0))).toBe(true);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(bitsEqual(a, b)).toBe(true);
  });

  it('writes files through a temporary file and reads them back', async () => {
    const graph = handBuiltCnn(13);
    const path = join(tmp, 'cnn.onnx');
    await writeOnnxFile(graph, path);
    expect(readdirSync(tmp)).toEqual(['cnn.onnx']);
    const back = await readOnnxFile(path);
    expect(Buffer.from(writeOnnx(back)).equals(readFileSync(path))).toBe(true);
    const input = randomTensor(rng(3), [1, 3, 8, 8]);
    expect(maxAbsDiff(await run(path, input), await run(writeOnnx(graph), input))).toBe(0);
  });
});

describe('tensor storage', () => {
  const cases: Tensor[] = [
    { dtype: 'float32', shape: [2, 2], data: Float32Array.of(1.5, -0, Number.NaN, -3.25e-38) },
    { dtype: 'float64', shape: [3], data: Float64Array.of(Math.PI, -1e300, 5e-324) },
    { dtype: 'float16', shape: [3], data: Uint16Array.of(0x3c00, 0xc000, 0x7bff) },
    { dtype: 'bfloat16', shape: [2], data: Uint16Array.of(0x3f80, 0xff80) },
    { dtype: 'int8', shape: [3], data: Int8Array.of(-128, 0, 127) },
    { dtype: 'uint8', shape: [3], data: Uint8Array.of(0, 128, 255) },
    { dtype: 'int16', shape: [2], data: Int16Array.of(-32768, 32767) },
    { dtype: 'uint16', shape: [2], data: Uint16Array.of(0, 65535) },
    { dtype: 'int32', shape: [3], data: Int32Array.of(-2147483648, 0, 2147483647) },
    { dtype: 'uint32', shape: [2], data: Uint32Array.of(0, 4294967295) },
    { dtype: 'int64', shape: [3], data: BigInt64Array.of(-9223372036854775808n, -1n, 9223372036854775807n) },
    { dtype: 'uint64', shape: [2], data: BigUint64Array.of(0n, 18446744073709551615n) },
    { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) },
    { dtype: 'string', shape: [2], data: ['zipit', 'ünïcødé'] },
    { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
  ];

  function identityModel(tensors: Tensor[], storage?: 'typed'): Graph {
    const initializers = new Map(tensors.map((t, i) => [`t${i}`, t] as const));
    return {
      name: 'g',
      irVersion: 10,
      opsetImports: [{ domain: '', version: 21 }],
      metadata: [],
      nodes: tensors.map((_, i) => node('Identity', `id${i}`, [`t${i}`], [`o${i}`])),
      inputs: [],
      outputs: tensors.map((t, i) => ({ name: `o${i}`, dtype: t.dtype, shape: [...t.shape] })),
      valueInfo: [],
      initializers,
      extras: storage ? { onnx: { initializers: Object.fromEntries(tensors.map((_, i) => [`t${i}`, { storage }])) } } : undefined,
    };
  }

  it.each(['raw', 'typed'] as const)('every core dtype survives %s storage bit for bit', (storage) => {
    const graph = identityModel(cases, storage === 'typed' ? 'typed' : undefined);
    const back = readOnnx(writeOnnx(graph));
    for (const [i, t] of cases.entries()) {
      const r = back.initializers.get(`t${i}`) as Tensor;
      expect(r.dtype).toBe(t.dtype);
      expect(r.shape).toEqual(t.shape);
      if (t.dtype === 'string') expect(r.data).toEqual(t.data);
      else
        expect(
          Buffer.from(new Uint8Array((r.data as Uint8Array).buffer, (r.data as Uint8Array).byteOffset, (r.data as Uint8Array).byteLength)),
          `${i} ${t.dtype}`,
        ).toEqual(Buffer.from(new Uint8Array((t.data as Uint8Array).buffer, (t.data as Uint8Array).byteOffset, (t.data as Uint8Array).byteLength)));
    }
    expect(Buffer.from(writeOnnx(back)).equals(Buffer.from(writeOnnx(graph)))).toBe(true);
  });

  it('onnxruntime returns the same values from typed-field and raw_data initializers', async () => {
    const runnable = cases.filter((t) => !['bfloat16', 'string', 'uint16', 'uint32', 'uint64', 'int16'].includes(t.dtype) && t.shape[0] !== 0);
    const outputs = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
      try {
        const r = await s.run({});
        return s.outputNames.map((n) =>
          Buffer.from((r[n].data as Uint8Array).buffer, (r[n].data as Uint8Array).byteOffset, (r[n].data as Uint8Array).byteLength),
        );
      } finally {
        await s.release();
      }
    };
    const typed = writeOnnx(identityModel(runnable, 'typed'));
    const raw = writeOnnx(identityModel(runnable));
    const roundTripped = writeOnnx(readOnnx(typed));
    expect(Buffer.from(roundTripped).equals(Buffer.from(typed))).toBe(true);
    const [a, b, c] = [await outputs(typed), await outputs(raw), await outputs(roundTripped)];
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('reads external data relative to the model file, and writes it inline', async () => {
    const dir = mkdtempSync(join(tmp, 'ext-'));
    const w = randomTensor(rng(11), [4, 6]);
    const graph: Graph = {
      name: 'g',
      irVersion: 8,
      opsetImports: [{ domain: '', version: 17 }],
      metadata: [],
      nodes: [node('MatMul', 'mm', ['x', 'w'], ['y'])],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 6] }],
      valueInfo: [],
      initializers: new Map([['w', w]]),
    };
    // Move w's bytes to weights.bin at offset 16, the way onnx.save(..., save_as_external_data=True) lays files out.
    const inline = writeOnnx(graph);
    const { onnxTypes } = await import('./schema/onnx-root.js');
    const types = onnxTypes();
    const model = types.ModelProto.toObject(types.ModelProto.decode(inline)) as { graph: { initializer: Record<string, unknown>[] } };
    const t = model.graph.initializer[0];
    const raw = t.raw_data as Uint8Array;
    delete t.raw_data;
    t.data_location = 1;
    t.external_data = [
      { key: 'location', value: 'weights.bin' },
      { key: 'offset', value: '16' },
      { key: 'length', value: String(raw.byteLength) },
    ];
    writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(16, 7), Buffer.from(raw)]));
    writeFileSync(join(dir, 'model.onnx'), types.ModelProto.encode(types.ModelProto.fromObject(model)).finish());

    const read = await readOnnxFile(join(dir, 'model.onnx'));
    expect(read.initializers.get('w')).toEqual(w);
    const written = writeOnnx(read);
    expect(Buffer.from(written).equals(Buffer.from(inline))).toBe(true);
    const x = randomTensor(rng(5), [2, 4]);
    const [a, b] = [await run(join(dir, 'model.onnx'), x), await run(written, x)];
    expect(maxAbsDiff(a, b)).toBe(0);
  });
});
