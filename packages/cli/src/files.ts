import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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
 * Writes several files all-or-nothing: targets are checked first (the folder exists, the target
 * is not a folder), every payload goes to a temporary file beside its target, and only when all
 * are written are they renamed into place. Files already at a target are set aside and put back
 * if a later step fails, so a failure leaves every target as it was.
 */
export async function writeOutputs(files: { path: string; bytes: Uint8Array }[]): Promise<void> {
  for (const f of files) await checkTarget(f.path);
  const temps: string[] = [];
  const done: { path: string; backup: string | null }[] = [];
  const unique = (path: string, kind: string) => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.${kind}`);
  try {
    for (const f of files) {
      const tmp = unique(f.path, 'tmp');
      temps.push(tmp);
      await writeFile(tmp, f.bytes);
    }
    for (let i = 0; i < files.length; i++) {
      const path = files[i].path;
      let backup: string | null = null;
      if (await exists(path)) {
        backup = unique(path, 'bak');
        await rename(path, backup);
      }
      done.push({ path, backup });
      await rename(temps[i], path);
    }
  } catch (e) {
    for (const d of done.reverse()) {
      await rm(d.path, { force: true }).catch(() => undefined);
      if (d.backup) await rename(d.backup, d.path).catch(() => undefined);
    }
    await Promise.all(temps.map((t) => rm(t, { force: true })));
    if (e instanceof ZipitError) throw e;
    const err = e as NodeJS.ErrnoException;
    const target = files[Math.min(temps.length, files.length) - 1]?.path ?? files[0]?.path;
    throw new FormatError(`cannot write output (${err.code ?? err.message})`, { file: target, hint: 'check that the directory exists and is writable' });
  }
  await Promise.all(done.filter((d) => d.backup).map((d) => rm(d.backup!, { force: true })));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Refuses a target whose folder is missing or which is itself a folder, before anything is written. */
async function checkTarget(path: string): Promise<void> {
  const dir = dirname(path);
  const d = await stat(dir).catch(() => null);
  if (!d || !d.isDirectory()) {
    throw new FormatError(`cannot write output: folder ${dir} does not exist`, { file: path, hint: 'create the folder first' });
  }
  const t = await stat(path).catch(() => null);
  if (t?.isDirectory()) throw new FormatError('cannot write output: a folder of that name exists', { file: path });
}
