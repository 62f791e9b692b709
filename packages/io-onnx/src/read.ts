import protobuf from 'protobufjs';
import { FormatError, UnsupportedError, type Graph, type GraphBody, type OpsetImport } from '@zipit/core';
import { noExternalData, type ExternalDataSource } from './external-data.js';
import { withOnnxExtras, type OnnxModelExtras } from './extras.js';
import { int64ToNumber } from './int64.js';
import { readGraphBody } from './read-graph.js';
import { validateGraph } from './validate-graph.js';
import { has, keyValues } from './read-tensor.js';
import { encodeMessage, onnxTypes } from './schema/onnx-root.js';
import type { ModelMsg } from './schema/types.js';
import { ACCEPTED_EXTRA_DOMAINS, SUPPORTED_IR_VERSIONS, SUPPORTED_OPSETS, describeSupport } from './support.js';

export interface ReadOnnxOptions {
  /** File name used in error messages. */
  file?: string;
  /** Where externally stored tensors are read from (on Node: `@zipit/io-onnx/node`'s reader over the model's folder); closed when reading ends. */
  external?: ExternalDataSource;
  /**
   * Check the graph's structure (default true): outputs exist, names are unique, every value is
   * defined, no cycles (see `validateGraph`). Only codec tests of deliberately non-runnable
   * schema files turn it off.
   */
  validate?: boolean;
}

/**
 * Decodes ONNX ModelProto bytes into the graph IR. Accepts IR versions 6–10 and ai.onnx opsets
 * 11–21 (ai.onnx.ml and com.microsoft may be imported too); anything else is an UnsupportedError
 * that says what is supported. Corrupt input is a FormatError naming the file.
 *
 * Tensors read from `raw_data` may be views into `bytes` (no copy when aligned): do not modify
 * `bytes` while the graph is in use.
 */
export function readOnnx(bytes: Uint8Array, opts: ReadOnnxOptions = {}): Graph {
  const file = opts.file;
  const model = decodeModel(bytes, file);
  const irVersion = checkIrVersion(model, file);
  const opsetImports = readOpsetImports(model, file);
  const external = opts.external ?? noExternalData(file);
  try {
    const graph = toGraph(model, irVersion, opsetImports, { file, external });
    if (opts.validate !== false) validateGraph(graph, file);
    return graph;
  } finally {
    external.close();
  }
}

function decodeModel(bytes: Uint8Array, file: string | undefined): ModelMsg {
  const hint = sniffHint(bytes);
  if (bytes.byteLength === 0) throw new FormatError('empty file, not an ONNX model', { file, hint });
  let model: ModelMsg;
  try {
    model = onnxTypes().ModelProto.decode(protobuf.Reader.create(bytes)) as unknown as ModelMsg;
  } catch (e) {
    throw new FormatError(`not a valid ONNX model (protobuf decoding failed: ${(e as Error).message})`, {
      file,
      hint: hint ?? 'the file may be truncated or corrupt',
      cause: e,
    });
  }
  if (!has(model, 'graph') || !model.graph) {
    throw new FormatError('not an ONNX model: it has no graph', { file, hint: hint ?? 'the file may be truncated or not an ONNX model' });
  }
  if (!has(model, 'ir_version')) throw new FormatError('not an ONNX model: it has no IR version', { file, hint });
  return model;
}

/** Recognises common wrong inputs so the error can say what the file looks like instead. */
function sniffHint(bytes: Uint8Array): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 8));
  if (head.startsWith('PK\x03\x04')) return 'this is a zip archive — a PyTorch .pt/.pth checkpoint? Export it with torch.onnx.export first';
  if (head.startsWith('\x89HDF')) return 'this is an HDF5 file (Keras?), not ONNX';
  if (bytes.byteLength >= 8 && bytes[0] === 0x80 && bytes[1] <= 5) return 'this looks like a Python pickle, not ONNX';
  let printable = 0;
  const n = Math.min(bytes.byteLength, 512);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)) printable++;
  }
  if (n > 0 && printable === n) return 'this looks like a text file, not a binary ONNX model';
  return undefined;
}

function checkIrVersion(model: ModelMsg, file: string | undefined): number {
  const v = int64ToNumber(model.ir_version);
  if (!(v >= SUPPORTED_IR_VERSIONS.min && v <= SUPPORTED_IR_VERSIONS.max)) {
    throw new UnsupportedError(`ONNX IR version ${v} is not supported; supported: ${describeSupport()}`, {
      file,
      hint:
        v > SUPPORTED_IR_VERSIONS.max
          ? `re-save the model with IR version ${SUPPORTED_IR_VERSIONS.max} (onnx.save after setting model.ir_version) if it uses no newer features`
          : 'convert it with onnx.version_converter to a newer opset',
    });
  }
  return v;
}

function canonicalDomain(domain: string): string {
  return domain === 'ai.onnx' ? '' : domain;
}

function readOpsetImports(model: ModelMsg, file: string | undefined): OpsetImport[] {
  const imports = (model.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: int64ToNumber(o.version) }));
  if (imports.length === 0) throw new FormatError('the model imports no operator set', { file });
  const functionDomains = new Set((model.functions ?? []).map((f) => f.domain ?? ''));
  const seen = new Set<string>();
  for (const { domain, version } of imports) {
    const d = canonicalDomain(domain);
    if (seen.has(d)) throw new FormatError(`operator set domain "${domain || 'ai.onnx'}" is imported twice`, { file });
    seen.add(d);
    if (d === '') {
      if (!(version >= SUPPORTED_OPSETS.min && version <= SUPPORTED_OPSETS.max)) {
        throw new UnsupportedError(`ai.onnx opset ${version} is not supported; supported: ${describeSupport()}`, {
          file,
          hint: `re-export with opset_version between ${SUPPORTED_OPSETS.min} and ${SUPPORTED_OPSETS.max}, or convert with onnx.version_converter`,
        });
      }
    } else if (!ACCEPTED_EXTRA_DOMAINS.includes(d) && !functionDomains.has(domain)) {
      throw new UnsupportedError(`unknown operator set domain "${domain}" (version ${version}); supported: ${describeSupport()}`, {
        file,
        hint: 'custom operators need a runtime that implements them; zipit handles standard ONNX operators',
      });
    }
  }
  return imports;
}

function toGraph(model: ModelMsg, irVersion: number, opsetImports: OpsetImport[], ctx: { file?: string; external: ExternalDataSource }): Graph {
  const body = readGraphBody(model.graph ?? {}, '', ctx);
  checkNodeDomains(body, new Set(opsetImports.map((o) => canonicalDomain(o.domain))), ctx.file);
  const graph: Graph = { ...body, irVersion, opsetImports, metadata: keyValues(model.metadata_props) ?? [] };
  if (has(model, 'producer_name')) graph.producerName = model.producer_name;
  if (has(model, 'producer_version')) graph.producerVersion = model.producer_version;
  if (has(model, 'domain')) graph.modelDomain = model.domain;
  if (has(model, 'model_version')) graph.modelVersion = int64ToNumber(model.model_version);
  if (has(model, 'doc_string')) graph.modelDocString = model.doc_string;
  const types = onnxTypes();
  const extras: OnnxModelExtras = {};
  if ((model.opset_import ?? []).some((o) => has(o, 'domain') && o.domain === '')) extras.explicitDefaultDomain = true;
  if (model.functions?.length) extras.functions = model.functions.map((f) => encodeMessage(types.FunctionProto, f));
  if (model.training_info?.length) extras.trainingInfo = model.training_info.map((t) => encodeMessage(types.TrainingInfoProto, t as object));
  if (model.configuration?.length) extras.configuration = model.configuration.map((c) => encodeMessage(types.DeviceConfigurationProto, c as object));
  const bag = withOnnxExtras(extras);
  if (bag) graph.modelExtras = bag;
  return graph;
}

/** Every node (subgraphs included) must use an imported domain. */
function checkNodeDomains(body: GraphBody, domains: Set<string>, file: string | undefined): void {
  for (const node of body.nodes) {
    const d = canonicalDomain(node.domain);
    if (!domains.has(d)) {
      throw new FormatError(`node ${node.name || node.opType} uses operator domain "${node.domain || 'ai.onnx'}", which the model does not import`, {
        file,
        node: node.name || undefined,
      });
    }
    for (const a of node.attributes) {
      if (a.value.type === 'graph') checkNodeDomains(a.value.value, domains, file);
      else if (a.value.type === 'graphs') for (const g of a.value.value) checkNodeDomains(g, domains, file);
    }
  }
}
