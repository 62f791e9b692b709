import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InvalidArgumentError, NotFoundError, type Graph } from '@zipit/core';
import { writeOnnx } from '../write.js';

/**
 * Writes an ONNX file: the bytes go to a temporary file in the same folder, which is flushed
 * and then renamed over `path`, so `path` is either the old file or the complete new one.
 */
export async function writeOnnxFile(graph: Graph, path: string): Promise<void> {
  const bytes = writeOnnx(graph, { file: path });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('cannot write: its folder does not exist', { file: path, cause: e });
    throw new InvalidArgumentError(`cannot write: ${(e as Error).message}`, { file: path, cause: e });
  }
}
