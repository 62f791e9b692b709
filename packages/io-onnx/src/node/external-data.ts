import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import { FormatError, NotFoundError } from '@zipit/core';
import type { ExternalDataSource } from '../external-data.js';
import type { StringStringEntryMsg } from '../schema/types.js';

/**
 * Reads tensor bytes that an ONNX file keeps in side files (TensorProto.external_data): `location`
 * is a path relative to the model's folder, `offset`/`length` a byte range in it. Bytes are read
 * straight into a fresh, aligned buffer (one copy, from the page cache). Files stay open until
 * `close()`, so a model whose tensors share one data file opens it once.
 */
export class ExternalDataReader implements ExternalDataSource {
  private readonly fds = new Map<string, { fd: number; size: number }>();

  constructor(
    private readonly baseDir: string,
    private readonly file: string | undefined,
  ) {}

  /** Reads exactly `byteLength` bytes for the tensor described by `where` (used in messages). */
  read(where: string, entries: StringStringEntryMsg[], byteLength: number): Uint8Array {
    const info = new Map<string, string>();
    for (const e of entries) info.set(e.key ?? '', e.value ?? '');
    const location = info.get('location');
    if (!location) throw new FormatError(`${where} is stored externally but names no location`, { file: this.file });
    const path = this.resolve(where, location);
    const offset = this.parseInteger(where, info, 'offset', 0);
    const length = this.parseInteger(where, info, 'length', byteLength);
    if (length !== byteLength) {
      throw new FormatError(`${where}: external data length ${length} does not match its shape and type (${byteLength} bytes)`, { file: this.file });
    }
    const handle = this.open(where, location, path);
    if (offset + length > handle.size) {
      throw new FormatError(`${where}: bytes [${offset}, ${offset + length}) lie beyond the end of external data file "${location}" (${handle.size} bytes)`, {
        file: this.file,
        hint: 'the data file is truncated or belongs to another model',
      });
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(handle.fd, out, done, length - done, offset + done);
      if (n === 0) throw new FormatError(`${where}: external data file "${location}" ended early`, { file: this.file });
      done += n;
    }
    return out;
  }

  close(): void {
    for (const { fd } of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private resolve(where: string, location: string): string {
    const base = this.baseDir;
    const path = normalize(join(base, location));
    const rel = relative(base, path);
    if (isAbsolute(location) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new FormatError(`${where}: external data location "${location}" must be a path inside the model's folder`, { file: this.file });
    }
    return path;
  }

  private parseInteger(where: string, info: Map<string, string>, key: string, fallback: number): number {
    const text = info.get(key);
    if (text === undefined || text === '') return fallback;
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n)) throw new FormatError(`${where}: external data ${key} "${text}" is not a byte count`, { file: this.file });
    return n;
  }

  private open(where: string, location: string, path: string): { fd: number; size: number } {
    let handle = this.fds.get(path);
    if (handle) return handle;
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new NotFoundError(`external data file "${location}" of ${where} not found (looked for ${path})`, {
          file: this.file,
          hint: 'keep the data file next to the model, under the name the model records',
          cause: e,
        });
      }
      throw new FormatError(`cannot open external data file "${location}" of ${where}: ${(e as Error).message}`, { file: this.file, cause: e });
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new FormatError(`external data location "${location}" of ${where} is not a file`, { file: this.file });
    }
    handle = { fd, size: stat.size };
    this.fds.set(path, handle);
    return handle;
  }
}
