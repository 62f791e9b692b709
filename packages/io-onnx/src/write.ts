import { UnsupportedError, type Graph } from '@zipit/core';

/** Encodes the graph IR as ONNX ModelProto bytes; deterministic: the same graph gives the same bytes. */
export function writeOnnx(graph: Graph): Uint8Array {
  void graph;
  throw new UnsupportedError('ONNX writing is being implemented (issue 3)');
}

/** Writes an ONNX file via a temp file in the same folder and a rename, so no partial file is left. */
export async function writeOnnxFile(graph: Graph, path: string): Promise<void> {
  void graph;
  throw new UnsupportedError('ONNX writing is being implemented (issue 3)', { file: path });
}
