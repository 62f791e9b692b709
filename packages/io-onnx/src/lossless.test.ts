import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readOnnx } from './read.js';
import { onnxTypes } from './schema/onnx-root.js';
import type { ModelMsg } from './schema/types.js';
import { encodeModel } from './write-encode.js';
import { writeOnnx } from './write.js';

const f32 = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);

const tensorType = (elem: number, dims: object[]) => ({ tensor_type: { elem_type: elem, shape: { dim: dims } } });

/**
 * A model that uses every part of the ONNX schema the graph IR does not model: model-local
 * functions (with ref_attr_name and typed attribute defaults), training info, device
 * configurations, metadata at every level, sparse initializers, quantization annotations, doc
 * strings, node overloads, non-tensor value types, denotations, tensors of data types core has no
 * dtype for, sparse-tensor and type-proto attributes, tensor names and metadata inside attributes.
 */
function everythingModel(): Uint8Array {
  const types = onnxTypes();
  const scale = { dims: [1], data_type: 1, name: 'scale', raw_data: f32(2), doc_string: 'a scale', metadata_props: [{ key: 'unit', value: 'none' }] };
  const model = {
    ir_version: 10,
    producer_name: 'lossless-test',
    producer_version: '1',
    domain: 'org.zipit.test',
    model_version: 3,
    doc_string: 'model doc',
    graph: {
      node: [
        {
          input: ['x', 'scale'],
          output: ['y'],
          name: 'scaled',
          op_type: 'ScaleBy',
          domain: 'org.zipit.fn',
          overload: 'v1',
          attribute: [{ name: 'bias', f: 0.5, type: 1, doc_string: 'attribute doc' }],
          doc_string: 'node doc',
          metadata_props: [{ key: 'k', value: 'v' }],
          device_configurations: [
            {
              configuration_id: 'cfg',
              sharding_spec: [
                {
                  tensor_name: 'x',
                  device: [0, 1],
                  index_to_device_group_map: [{ key: 0, value: [0, 1] }],
                  sharded_dim: [{ axis: 0, simple_sharding: [{ dim_param: 'batch', num_shards: 2 }] }],
                },
              ],
              pipeline_stage: 0,
            },
          ],
        },
        {
          output: ['c'],
          name: 'const',
          op_type: 'Constant',
          attribute: [{ name: 'value', t: { dims: [2], data_type: 1, name: 'inner', float_data: [1, 2], doc_string: 'typed floats' }, type: 4 }],
        },
        {
          output: ['sp'],
          name: 'sparse_const',
          op_type: 'Constant',
          attribute: [
            {
              name: 'sparse_value',
              sparse_tensor: { values: { dims: [1], data_type: 1, raw_data: f32(5) }, indices: { dims: [1], data_type: 7, int64_data: [3] }, dims: [4] },
              type: 11,
            },
          ],
        },
        {
          input: ['y'],
          output: ['seq'],
          name: 'to_seq',
          op_type: 'SequenceConstruct',
          attribute: [
            { name: 'tp', tp: { sequence_type: { elem_type: tensorType(1, []) } }, type: 13 },
            { name: 'binary', s: Uint8Array.of(0xff, 0xfe, 0x00), type: 3 },
            { name: 'f8', t: { dims: [1], data_type: 17, raw_data: Uint8Array.of(0x38) }, type: 4 },
          ],
        },
      ],
      name: 'everything',
      initializer: [scale, { dims: [2], data_type: 19, name: 'f8w', raw_data: Uint8Array.of(1, 2) }],
      sparse_initializer: [
        { values: { dims: [2], data_type: 1, name: 'sparse_w', raw_data: f32(1, 2) }, indices: { dims: [2], data_type: 7, int64_data: [0, 5] }, dims: [2, 3] },
      ],
      doc_string: 'graph doc',
      input: [
        {
          name: 'x',
          type: {
            ...tensorType(1, [
              { dim_param: 'batch', denotation: 'DATA_BATCH' },
              { dim_value: 4, denotation: 'DATA_CHANNEL' },
            ]),
            denotation: 'TENSOR',
          },
          doc_string: 'input doc',
          metadata_props: [{ key: 'role', value: 'input' }],
        },
      ],
      output: [
        { name: 'seq', type: { sequence_type: { elem_type: tensorType(1, [{ dim_param: 'batch' }, {}]) } } },
        { name: 'y', type: tensorType(1, [{ dim_param: 'batch' }, { dim_value: 4 }]) },
        { name: 'opt', type: { optional_type: { elem_type: tensorType(7, []) } } },
        { name: 'm', type: { map_type: { key_type: 8, value_type: tensorType(1, []) } } },
        { name: 'sp', type: { sparse_tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: 4 }] } } } },
        { name: 'q', type: tensorType(17, [{ dim_value: 2 }]) },
        { name: 'untyped' },
        { name: 'empty_type', type: { tensor_type: {} } },
      ],
      value_info: [{ name: 'c', type: tensorType(1, [{ dim_value: 2 }]) }],
      quantization_annotation: [{ tensor_name: 'y', quant_parameter_tensor_names: [{ key: 'SCALE_TENSOR', value: 'scale' }] }],
      metadata_props: [{ key: 'graph', value: 'meta' }],
    },
    opset_import: [{ version: 21 }, { domain: 'org.zipit.fn', version: 1 }],
    metadata_props: [
      { key: 'author', value: 'zipit' },
      { key: 'license', value: 'MIT' },
    ],
    training_info: [
      {
        initialization: { name: 'init', node: [{ output: ['s0'], op_type: 'Constant', attribute: [{ name: 'value_float', f: 1, type: 1 }] }] },
        algorithm: { name: 'algo' },
        initialization_binding: [{ key: 'scale', value: 's0' }],
        update_binding: [{ key: 'scale', value: 's0' }],
      },
    ],
    functions: [
      {
        name: 'ScaleBy',
        input: ['X', 'S'],
        output: ['Y'],
        attribute: ['unused'],
        attribute_proto: [{ name: 'bias', f: 0, type: 1 }],
        node: [
          { input: ['X', 'S'], output: ['T'], op_type: 'Mul' },
          { output: ['B'], op_type: 'Constant', attribute: [{ name: 'value_float', ref_attr_name: 'bias', type: 1 }] },
          { input: ['T', 'B'], output: ['Y'], op_type: 'Add' },
        ],
        doc_string: 'function doc',
        opset_import: [{ version: 21 }],
        domain: 'org.zipit.fn',
        overload: 'v1',
        value_info: [{ name: 'T', type: tensorType(1, []) }],
        metadata_props: [{ key: 'fn', value: 'meta' }],
      },
    ],
    configuration: [{ name: 'cfg', num_devices: 2, device: ['cpu0', 'cpu1'] }],
  };
  const bytes = types.ModelProto.encode(types.ModelProto.fromObject(model)).finish();
  // Guard the fixture itself: protobufjs must have kept every field we set.
  expect(types.ModelProto.toObject(types.ModelProto.decode(bytes), { longs: Number, bytes: Array, arrays: true })).toMatchObject(
    JSON.parse(JSON.stringify(model, (_, v) => (v instanceof Uint8Array ? [...v] : v))),
  );
  return bytes;
}

describe('lossless round trip', () => {
  it("the one-copy encoder gives exactly the bytes of protobufjs' own encoder", () => {
    const types = onnxTypes();
    const dir = join(import.meta.dirname, '..', 'fixtures');
    const files = readdirSync(dir).filter((f) => f.endsWith('.onnx'));
    const models = [...files.map((f) => readFileSync(join(dir, f))), everythingModel()];
    for (const bytes of models) {
      const msg = types.ModelProto.decode(bytes);
      expect(Buffer.from(encodeModel(msg as unknown as ModelMsg)).equals(Buffer.from(types.ModelProto.encode(msg).finish()))).toBe(true);
    }
  });

  it('reproduces, byte for byte, a model in which the reference onnx package set every IR 8 field', () => {
    // schema_ir8.onnx is written by onnx 1.12's C++ protobuf (fixtures/make_fixtures.py): an
    // identical re-encoding means our field numbers, wire types and packing agree with it.
    const original = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'schema_ir8.onnx'));
    const graph = readOnnx(original, { file: 'schema_ir8.onnx', validate: false });
    expect(Buffer.from(writeOnnx(graph)).equals(original)).toBe(true);
    const init = graph.initializers;
    expect(init.get('i64')?.data).toEqual(BigInt64Array.of(-9223372036854775808n, -1n, 9223372036854775807n));
    expect(init.get('u64')?.data).toEqual(BigUint64Array.of(18446744073709551615n));
    expect(init.get('f16')?.data).toEqual(Uint16Array.of(0x3c00, 0xc000));
    expect(init.get('s')?.data).toEqual(['zipit', 'ünïcødé']);
    expect(init.get('raw_f32')).toEqual({ dtype: 'float32', shape: [2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) });
    expect(init.has('c64')).toBe(false);
    expect(graph.inputs[1]).toEqual({ name: 'unknown_rank', dtype: 'float32', shape: null });
    const every = graph.nodes[0];
    expect(Object.fromEntries(every.attributes.map((a) => [a.name, a.value.type]))).toEqual({
      f: 'float',
      i: 'int',
      s: 'string',
      t: 'tensor',
      g: 'graph',
      floats: 'floats',
      ints: 'ints',
      strings: 'strings',
      tensors: 'tensors',
      graphs: 'graphs',
      sparse_tensor: 'opaque',
      sparse_tensors: 'opaque',
      tp: 'opaque',
      type_protos: 'opaque',
    });
    expect(every.attributes.find((a) => a.name === 'ints')?.value).toEqual({ type: 'ints', value: [1, -1, 2 ** 63] });
  });

  it('writes back every field of the schema byte for byte', () => {
    const original = everythingModel();
    const graph = readOnnx(original, { file: 'everything.onnx', validate: false });
    expect(Buffer.from(writeOnnx(graph)).equals(Buffer.from(original))).toBe(true);
  });

  it('models what it can and keeps the rest in extras', () => {
    const g = readOnnx(everythingModel(), { validate: false });
    expect(g.modelDomain).toBe('org.zipit.test');
    expect(g.modelVersion).toBe(3);
    expect(g.metadata).toEqual([
      ['author', 'zipit'],
      ['license', 'MIT'],
    ]);
    expect(g.inputs[0]).toMatchObject({ name: 'x', dtype: 'float32', shape: ['batch', 4], docString: 'input doc' });
    expect(g.outputs.find((o) => o.name === 'seq')).toMatchObject({ dtype: null, shape: null });
    expect(g.outputs.find((o) => o.name === 'untyped')).toEqual({ name: 'untyped', dtype: null, shape: null });
    expect([...g.initializers.keys()]).toEqual(['scale']);
    expect(g.nodes[1].attributes[0].value).toEqual({ type: 'tensor', value: { dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) } });
    expect(g.nodes[3].attributes.map((a) => a.value.type)).toEqual(['opaque', 'opaque', 'opaque']);
    const modelExtras = g.modelExtras?.onnx as Record<string, unknown[]>;
    expect(Object.keys(modelExtras).sort()).toEqual(['configuration', 'functions', 'trainingInfo']);
  });

  it('round-trips a model with a local function that onnxruntime runs identically', async () => {
    const types = onnxTypes();
    const model = types.ModelProto.fromObject({
      ir_version: 10,
      opset_import: [{ version: 21 }, { domain: 'local', version: 1 }],
      graph: {
        name: 'g',
        node: [{ input: ['x'], output: ['y'], op_type: 'Twice', domain: 'local', attribute: [{ name: 'k', f: 3, type: 1 }] }],
        input: [{ name: 'x', type: tensorType(1, [{ dim_value: 3 }]) }],
        output: [{ name: 'y', type: tensorType(1, [{ dim_value: 3 }]) }],
      },
      functions: [
        {
          name: 'Twice',
          domain: 'local',
          input: ['X'],
          output: ['Y'],
          attribute: ['k'],
          opset_import: [{ version: 21 }],
          node: [
            { output: ['K'], op_type: 'Constant', attribute: [{ name: 'value_float', ref_attr_name: 'k', type: 1 }] },
            { input: ['X', 'K'], output: ['Y'], op_type: 'Mul' },
          ],
        },
      ],
    });
    const bytes = types.ModelProto.encode(model).finish();
    const written = writeOnnx(readOnnx(bytes, { validate: false }));
    expect(Buffer.from(written).equals(Buffer.from(bytes))).toBe(true);
    const x = new ort.Tensor('float32', Float32Array.of(1, -2, 0.5), [3]);
    const outputs = [];
    for (const b of [bytes, written]) {
      const s = await ort.InferenceSession.create(b, { logSeverityLevel: 3 });
      outputs.push((await s.run({ x })).y.data);
      await s.release();
    }
    expect(outputs[0]).toEqual(Float32Array.of(3, -6, 1.5));
    expect(outputs[1]).toEqual(outputs[0]);
  });
});
