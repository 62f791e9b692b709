import { dirname, resolve } from 'node:path';
import type { ModelFormat, ReadOptions } from '@zipit/core';
import { onnxFormat } from '../onnx-format.js';
import { ExternalDataReader } from './external-data.js';

/**
 * {@link onnxFormat} for files on disk: when `read` is given the model's path as `file` (and no
 * `external` source), externally stored tensors are read from the model's folder. Register this
 * one instead of `onnxFormat` in Node programs.
 */
export const onnxFileFormat: ModelFormat = {
  ...onnxFormat,
  read(bytes: Uint8Array, opts: ReadOptions = {}) {
    const external = opts.external ?? (opts.file ? new ExternalDataReader(dirname(resolve(opts.file)), opts.file) : undefined);
    return onnxFormat.read(bytes, { ...opts, external });
  },
};
