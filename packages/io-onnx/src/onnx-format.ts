import type { ModelFormat, ReadOptions } from '@zipit/core';
import type { ExternalDataSource } from './external-data.js';
import { readOnnx } from './read.js';
import { writeOnnx } from './write.js';

/** Wire types of ModelProto's fields (1 ir_version … 25 functions), for sniffing the first tag. */
const MODEL_FIELDS = new Map<number, number>([
  [1, 0],
  [2, 2],
  [3, 2],
  [4, 2],
  [5, 0],
  [6, 2],
  [7, 2],
  [8, 2],
  [14, 2],
  [20, 2],
  [25, 2],
]);

/**
 * How much the bytes look like an ONNX ModelProto, from the first protobuf tag: `ir_version`
 * first (what every exporter and our writer produce) is 0.9, another ModelProto field with its
 * wire type 0.4, anything else 0.
 */
export function sniffOnnx(bytes: Uint8Array): number {
  if (bytes.length < 2) return 0;
  let tag = 0;
  let shift = 0;
  let at = 0;
  for (; at < Math.min(bytes.length, 3); at++) {
    tag |= (bytes[at] & 0x7f) << shift;
    shift += 7;
    if ((bytes[at] & 0x80) === 0) break;
  }
  const field = tag >>> 3;
  const wire = tag & 7;
  if (MODEL_FIELDS.get(field) !== wire) return 0;
  if (field === 1) {
    const version = bytes[at + 1];
    return version !== undefined && version >= 1 && version <= 20 ? 0.9 : 0;
  }
  return 0.4;
}

/**
 * The ONNX format plugin (pure: bytes in, bytes out; bundles for browsers). `read` takes
 * `{ file, external }` where `external` is an {@link ExternalDataSource} for tensors stored
 * beside the model; on Node, `onnxFileFormat` from `@zipit/io-onnx/node` supplies one over the
 * model's folder.
 */
export const onnxFormat: ModelFormat = {
  name: 'onnx',
  description: 'ONNX ModelProto (IR 6–10, opsets 11–21), graph and weights',
  extensions: ['.onnx'],
  capabilities: { graph: true, write: true },
  sniff: sniffOnnx,
  read(bytes: Uint8Array, opts: ReadOptions = {}) {
    return readOnnx(bytes, { file: opts.file, external: opts.external as ExternalDataSource | undefined });
  },
  write(graph, opts) {
    return writeOnnx(graph, { file: opts?.file });
  },
};
