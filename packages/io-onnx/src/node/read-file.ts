import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { FormatError, NotFoundError, type Graph } from '@zipit/core';
import { readOnnx } from '../read.js';
import { ExternalDataReader } from './external-data.js';

/** Reads an ONNX file; external data is resolved relative to the file's folder. */
export async function readOnnxFile(path: string): Promise<Graph> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError('file not found', { file: path, cause: e });
    if (code === 'EISDIR') throw new FormatError('is a folder, not an ONNX file', { file: path, cause: e });
    throw new FormatError(`cannot read: ${(e as Error).message}`, { file: path, cause: e });
  }
  return readOnnx(bytes, { file: path, external: new ExternalDataReader(dirname(resolve(path)), path) });
}
