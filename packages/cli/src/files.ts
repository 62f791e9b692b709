import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError, NotFoundError, ZipitError } from '@zipit/core';

/** Reads a whole file; a missing or unreadable file is a typed error naming it. */
export async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError('file not found', { file: path });
    if (code === 'EISDIR') throw new FormatError('is a directory, expected a file', { file: path });
    throw new FormatError(`cannot read (${code ?? String(e)})`, { file: path });
  }
}

/**
 * Writes several files all-or-nothing: every payload goes to a temporary file beside its
 * target first; only when all are written are they renamed into place. On failure the
 * temporaries are removed and no target is touched.
 */
export async function writeOutputs(files: { path: string; bytes: Uint8Array }[]): Promise<void> {
  const temps: string[] = [];
  try {
    for (const f of files) {
      const tmp = join(dirname(f.path), `.${basename(f.path)}.${randomBytes(6).toString('hex')}.tmp`);
      temps.push(tmp);
      await writeFile(tmp, f.bytes);
    }
    for (let i = 0; i < files.length; i++) await rename(temps[i], files[i].path);
  } catch (e) {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    if (e instanceof ZipitError) throw e;
    const err = e as NodeJS.ErrnoException;
    const target = files[temps.length - 1]?.path ?? files[0]?.path;
    throw new FormatError(`cannot write output (${err.code ?? err.message})`, { file: target, hint: 'check that the directory exists and is writable' });
  }
}
