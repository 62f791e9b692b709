import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { PathUse } from './files.js';

/** `external_data` entry `{ key: "location", value: … }` as it is encoded (StringStringEntryProto: field 1 "location", then field 2). */
const LOCATION = Buffer.from('\x0a\x08location\x12', 'latin1');

/**
 * The side files an ONNX input keeps its tensors in (TensorProto.external_data `location`,
 * relative to the model's folder), so that the path check protects them as inputs too: an
 * output written over `weights.bin` would destroy the model that reads it. Found by scanning
 * the encoded bytes for the `location` entry (no full decode before any work); a file that
 * cannot be read yields none — reading it later reports the error.
 */
export async function onnxSideFiles(use: PathUse): Promise<PathUse[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(use.path);
  } catch {
    return [];
  }
  const found = new Set<string>();
  for (let at = bytes.indexOf(LOCATION); at >= 0; at = bytes.indexOf(LOCATION, at + 1)) {
    let p = at + LOCATION.length;
    let length = 0;
    for (let shift = 0; p < bytes.length && shift < 35; shift += 7) {
      const b = bytes[p++];
      length += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if (length === 0 || length > 4096 || p + length > bytes.length) continue;
    const raw = bytes.subarray(p, p + length);
    if (raw.some((b) => b < 0x20)) continue; // not a path: control bytes
    found.add(raw.toString('utf8'));
  }
  return [...found].map((location) => ({ label: `${use.label} ${use.path}'s external data`, path: join(dirname(use.path), location) }));
}
