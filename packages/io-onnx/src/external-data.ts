import { InvalidArgumentError } from '@zipit/core';
import type { StringStringEntryMsg } from './schema/types.js';

/**
 * Where tensor bytes that an ONNX file keeps in side files (TensorProto.external_data) come from.
 * The codec is pure: it only parses the entries' meaning through this interface. On Node,
 * `@zipit/io-onnx/node` supplies a reader over the model's folder; in a browser a caller can
 * supply one over files the user picked.
 */
export interface ExternalDataSource {
  /** Exactly `byteLength` bytes for the tensor described by `where` (a name used in messages). */
  read(where: string, entries: StringStringEntryMsg[], byteLength: number): Uint8Array;
  /** Releases what `read` opened; called once when reading the model ends. */
  close(): void;
}

/** The source used when none is given: any externally stored tensor is an error saying what to do. */
export function noExternalData(file: string | undefined): ExternalDataSource {
  return {
    read(where, entries) {
      const location = entries.find((e) => e.key === 'location')?.value ?? '?';
      throw new InvalidArgumentError(`${where} keeps its data in the external file "${location}", and no folder was given to find it in`, {
        file,
        hint: 'read the model with readOnnxFile(path) from @zipit/io-onnx/node, or pass an external data source to readOnnx',
      });
    },
    close() {},
  };
}
