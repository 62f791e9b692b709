import { UnsupportedError, type Graph, type GraphBody } from '@zipit/core';
import { onnxExtras, type OnnxModelExtras } from './extras.js';
import { numberToInt64 } from './int64.js';
import { decodeMessage, onnxTypes } from './schema/onnx-root.js';
import type { ModelMsg } from './schema/types.js';
import { encodeModel } from './write-encode.js';
import { writeGraphBody } from './write-graph.js';
import { keyValueMsgs } from './write-tensor.js';

/** Protobuf messages, and so ONNX files without external data, are limited to 2 GiB. */
const MAX_MODEL_BYTES = 2 ** 31 - 1;

/**
 * Encodes the graph IR as ONNX ModelProto bytes. Deterministic: fields in field-number order,
 * nodes/values/initializers in the IR's order, so the same graph always gives the same bytes.
 * All tensor data is written inline; models over 2 GiB are refused (external data is not written).
 */
export function writeOnnx(graph: Graph, opts: { file?: string } = {}): Uint8Array {
  const file = opts.file;
  const tensorBytes = countTensorBytes(graph);
  if (tensorBytes > MAX_MODEL_BYTES) {
    throw new UnsupportedError(
      `the model holds ${(tensorBytes / 2 ** 30).toFixed(2)} GiB of tensors; ONNX files over 2 GiB need external data, which this writer does not produce`,
      { file },
    );
  }
  const types = onnxTypes();
  const extras = onnxExtras<OnnxModelExtras>(graph.modelExtras);
  const model: ModelMsg = {
    ir_version: numberToInt64(graph.irVersion),
    opset_import: graph.opsetImports.map((o) =>
      o.domain || extras?.explicitDefaultDomain ? { domain: o.domain, version: numberToInt64(o.version) } : { version: numberToInt64(o.version) },
    ),
    graph: writeGraphBody(graph, '', file),
  };
  if (graph.producerName !== undefined) model.producer_name = graph.producerName;
  if (graph.producerVersion !== undefined) model.producer_version = graph.producerVersion;
  if (graph.modelDomain !== undefined) model.domain = graph.modelDomain;
  if (graph.modelVersion !== undefined) model.model_version = numberToInt64(graph.modelVersion);
  if (graph.modelDocString !== undefined) model.doc_string = graph.modelDocString;
  const meta = keyValueMsgs(graph.metadata);
  if (meta) model.metadata_props = meta;
  if (extras?.trainingInfo?.length) model.training_info = extras.trainingInfo.map((b) => decodeMessage<object>(types.TrainingInfoProto, b));
  if (extras?.functions?.length) model.functions = extras.functions.map((b) => decodeMessage(types.FunctionProto, b));
  if (extras?.configuration?.length) model.configuration = extras.configuration.map((b) => decodeMessage<object>(types.DeviceConfigurationProto, b));
  return encodeModel(model);
}

function countTensorBytes(graph: GraphBody): number {
  let n = 0;
  const visit = (body: GraphBody) => {
    for (const t of body.initializers.values()) n += t.dtype === 'string' ? 0 : (t.data as ArrayBufferView).byteLength;
    for (const node of body.nodes) {
      for (const a of node.attributes) {
        if (a.value.type === 'tensor' && a.value.value.dtype !== 'string') n += (a.value.value.data as ArrayBufferView).byteLength;
        else if (a.value.type === 'graph') visit(a.value.value);
        else if (a.value.type === 'graphs') a.value.value.forEach(visit);
      }
    }
  };
  visit(graph);
  return n;
}
