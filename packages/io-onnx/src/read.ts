import { UnsupportedError, type Graph } from '@zipit/core';

export interface ReadOnnxOptions {
  /** File name used in error messages. */
  file?: string;
  /** Folder that external tensor data files are resolved against (normally the model's folder). */
  baseDir?: string;
}

/** Decodes ONNX ModelProto bytes into the graph IR. */
export function readOnnx(bytes: Uint8Array, opts: ReadOnnxOptions = {}): Graph {
  void bytes;
  throw new UnsupportedError('ONNX reading is being implemented (issue 3)', { file: opts.file });
}

/** Reads an ONNX file; external data is resolved relative to the file's folder. */
export async function readOnnxFile(path: string): Promise<Graph> {
  throw new UnsupportedError('ONNX reading is being implemented (issue 3)', { file: path });
}
