import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError, InvalidArgumentError, NotFoundError, ZipitError } from '@zipit/core';
import { parseDatasetSpec } from '@zipit/data';
import { onnxSideFiles } from './onnx-side-files.js';

/** Reads a whole file; a missing or unreadable file is a typed error naming it. */
export async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError('file not found', { file: path });
    if (code === 'EISDIR') throw new FormatError('is a folder, expected a file', { file: path });
    throw new FormatError(`cannot read (${code ?? String(e)})`, { file: path });
  }
}

/**
 * Writes several files all-or-nothing: targets are checked first (the folder exists, the target
 * is not a folder), every payload goes to a temporary file beside its target, and only when all
 * are written are they renamed into place. Files already at a target are set aside and put back
 * if a later step fails, so a failure leaves every target as it was. An abort (Ctrl-C) that
 * arrives before the renames leaves every target as it was too.
 */
export async function writeOutputs(files: { path: string; bytes: Uint8Array }[], signal?: AbortSignal): Promise<void> {
  await new Promise((r) => setImmediate(r)); // a Ctrl-C pressed during synchronous work arrives now
  signal?.throwIfAborted();
  await checkPaths({ inputs: [], outputs: files.map((f) => ({ label: 'output', path: f.path })) });
  const temps: string[] = [];
  const done: { path: string; backup: string | null }[] = [];
  const unique = (path: string, kind: string) => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.${kind}`);
  try {
    for (const f of files) {
      const tmp = unique(f.path, 'tmp');
      temps.push(tmp);
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(f.bytes);
        await handle.sync(); // on disk before the rename makes it visible
      } finally {
        await handle.close();
      }
    }
    await new Promise((r) => setImmediate(r));
    signal?.throwIfAborted();
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
    if (e instanceof ZipitError || signal?.aborted) throw e;
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

/** A file a command reads or writes, with how the user named it (`--out`, `input model`, …). */
export interface PathUse {
  label: string;
  path: string;
}

/** Where a path really leads: its canonical path, and dev:ino when it exists. */
interface Identity {
  use: PathUse;
  real: string;
  /** `dev:ino` of an existing file (the same file under any spelling, case-insensitive disks included). */
  key: string | null;
}

async function identify(use: PathUse): Promise<Identity> {
  const abs = resolve(use.path);
  const st = await stat(abs).catch(() => null);
  if (st) return { use, real: await realpath(abs).catch(() => abs), key: `${st.dev}:${st.ino}` };
  const dir = await realpath(dirname(abs)).catch(() => dirname(abs));
  return { use, real: join(dir, basename(abs)), key: null };
}

function sameFile(a: Identity, b: Identity): boolean {
  return (a.key !== null && a.key === b.key) || a.real === b.real;
}

/**
 * The one path-safety check of every command, run before any work: no output may be an input
 * or another output — under any spelling (`./a.onnx`, `dir/../a.onnx`, a symlink, a hard link,
 * other letter case on a case-insensitive disk: existing files are compared by device and
 * inode, new ones by the real path of their folder; two new outputs whose names differ only in
 * case are refused too, as they collide on such disks) — and every output must be writable:
 * its folder exists and accepts a new file (probed), and the output is not a folder.
 * Throws an InvalidArgumentError / FormatError (exit 1) naming both paths.
 */
export async function checkPaths(plan: { inputs: readonly PathUse[]; outputs: readonly PathUse[] }): Promise<void> {
  const outs = await Promise.all(plan.outputs.map(identify));
  // An ONNX input's external-data side files are inputs too.
  const sides = await Promise.all(plan.inputs.filter((i) => /\.onnx$/i.test(i.path)).map(onnxSideFiles));
  const ins = await Promise.all([...plan.inputs, ...sides.flat()].map(identify));
  for (const [k, o] of outs.entries()) {
    for (const i of ins) {
      if (sameFile(o, i)) {
        throw new InvalidArgumentError(`${o.use.label} ${o.use.path} is the same file as ${i.use.label} ${i.use.path}: writing it would destroy the input`, {
          hint: 'choose another output path',
        });
      }
    }
    for (const p of outs.slice(0, k)) {
      const caseOnly = p.real.toLowerCase() === o.real.toLowerCase();
      if (sameFile(o, p) || caseOnly) {
        const how = sameFile(o, p) ? 'is the same file as' : 'differs only in letter case from';
        throw new InvalidArgumentError(`${o.use.label} ${o.use.path} ${how} ${p.use.label} ${p.use.path}: one would overwrite the other`, {
          hint: 'give every output its own path',
        });
      }
    }
  }
  for (const o of outs) await checkTarget(o.use.path);
}

/** Input files a data spec reads (`X.npy:Y.npy`), for the path-safety check; none for built-in datasets. */
export function specFiles(spec: string, label = '--data'): PathUse[] {
  try {
    const p = parseDatasetSpec(spec);
    if (p.kind !== 'npy') return [];
    return [p.images, ...(p.labels === undefined ? [] : [p.labels])].map((path) => ({ label: `${label} file`, path }));
  } catch {
    return []; // a bad spec is reported when the data is opened
  }
}

/**
 * Refuses a target whose folder is missing, not writable, or which is itself a folder, before
 * anything is written: a probe file is created and removed beside it (this catches read-only
 * mounts, which permission bits do not show to root).
 */
async function checkTarget(path: string): Promise<void> {
  const dir = dirname(path);
  const d = await stat(dir).catch(() => null);
  if (!d || !d.isDirectory()) {
    throw new FormatError(`cannot write output: folder ${dir} does not exist`, { file: path, hint: 'create the folder first' });
  }
  const t = await stat(path).catch(() => null);
  if (t?.isDirectory()) throw new FormatError('cannot write output: a folder of that name exists', { file: path });
  const probe = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.probe`);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new FormatError(`cannot write output: folder ${dir} is not writable (${code})`, { file: path, hint: 'choose a writable folder' });
  }
  await unlink(probe).catch(() => undefined);
}
