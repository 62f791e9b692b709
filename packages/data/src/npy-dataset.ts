import { open, readFile, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FormatError, NotFoundError, ShapeError, UnsupportedError, decodeNpy, sizeOf, tensor } from '@zipit/core';
import { assertFiniteBatch, sampleLimit, type BatchOptions, type DataBatch, type Dataset, type DatasetInfo } from './dataset.js';
import { formatDatasetSpec, type NpySpec } from './spec.js';

/**
 * `.npy` datasets: images X float32 [N, …sample] already in the model's input layout (e.g.
 * [N, 3, 32, 32]), and optionally labels Y int64 (int32 accepted) [N]. X is streamed from disk
 * one batch at a time; Y is read whole (8 bytes per sample). Relative paths resolve against
 * `baseDir` (default: the working directory).
 */
export async function openNpyDataset(spec: NpySpec, opts: { baseDir?: string } = {}): Promise<Dataset> {
  const imagesPath = resolve(opts.baseDir ?? '.', spec.images);
  const header = await readImagesHeader(imagesPath, spec.images);
  const [count, ...sample] = header.shape;
  let labels: BigInt64Array | null = null;
  let classes: number[] | null = null;
  if (spec.labels !== undefined) {
    labels = await readLabels(resolve(opts.baseDir ?? '.', spec.labels), spec.labels);
    if (labels.length !== count) {
      throw new ShapeError(`${spec.images} holds ${count} images but ${spec.labels} holds ${labels.length} labels`, { file: spec.labels });
    }
    let max = -1n;
    labels.forEach((l, i) => {
      if (l < 0n) throw new FormatError(`label ${i} is ${l}; labels must be ≥ 0`, { file: spec.labels });
      if (l >= MAX_CLASSES)
        throw new FormatError(`label ${i} is ${l}; labels are class indices below ${MAX_CLASSES}`, {
          file: spec.labels,
          hint: 'labels must be 0 … classes − 1',
        });
      if (l > max) max = l;
    });
    classes = Array.from({ length: Number(max) + 1 }, (_, i) => i);
  }
  const text = formatDatasetSpec(spec);
  const info: DatasetInfo = {
    spec: text,
    kind: 'npy',
    classes,
    classNames: null,
    numClasses: classes && classes.length,
    split: null,
    samples: count,
    sampleShape: sample,
    preprocessing: null,
  };
  const per = sizeOf(sample);
  return {
    info,
    async *batches(batchOpts: BatchOptions): AsyncGenerator<DataBatch> {
      const limit = Math.min(sampleLimit(batchOpts), count);
      let handle: FileHandle;
      try {
        handle = await open(imagesPath, 'r');
      } catch (e) {
        throw new NotFoundError('cannot open the images file', { file: spec.images, cause: e });
      }
      try {
        for (let start = 0; start < limit; start += batchOpts.batchSize) {
          batchOpts.signal?.throwIfAborted();
          const b = Math.min(batchOpts.batchSize, limit - start);
          const bytes = new Uint8Array(b * per * 4);
          const { bytesRead } = await handle.read(bytes, 0, bytes.length, header.dataOffset + start * per * 4);
          if (bytesRead !== bytes.length) throw new FormatError(`truncated .npy data at sample ${start}`, { file: spec.images });
          const x = tensor('float32', [b, ...sample], new Float32Array(bytes.buffer));
          assertFiniteBatch(x, text, start, spec.images);
          yield labels ? { x, y: labels.slice(start, start + b) } : { x };
        }
      } finally {
        await handle.close();
      }
    },
  };
}

interface ImagesHeader {
  shape: number[];
  dataOffset: number;
}

/**
 * Reads and validates the header of the images file without reading its data: core's
 * `decodeNpy` checks a copy of the header whose sample count is set to 0 (so it needs no data),
 * which gives the same errors as reading the whole file would (bad magic, version, dtype, order).
 */
async function readImagesHeader(path: string, name: string): Promise<ImagesHeader> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw openError(e, 'images', name);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new FormatError('is a folder, expected an images .npy file', { file: name });
    const { size } = st;
    const prefix = new Uint8Array(12);
    await handle.read(prefix, 0, 12, 0);
    const version = prefix[6];
    const lenBytes = version === 1 ? 2 : 4;
    const view = new DataView(prefix.buffer);
    const headerLen = version === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    const dataOffset = 8 + lenBytes + headerLen;
    const head = new Uint8Array(Math.min(dataOffset, size, 1 << 20));
    await handle.read(head, 0, head.length, 0);
    const text = new TextDecoder('latin1').decode(head.subarray(8 + lenBytes));
    const match = /('shape'\s*:\s*\()\s*(\d+)/.exec(text);
    if (!match) {
      // Not an array with a sample axis (or not a .npy file): decodeNpy names the problem.
      decodeNpy(head, name);
      throw new ShapeError('the images array needs a sample axis first ([N, …])', { file: name });
    }
    const count = Number(match[2]);
    const emptied = text.slice(0, match.index) + match[1] + '0' + text.slice(match.index + match[0].length);
    const probe = new Uint8Array(8 + lenBytes + emptied.length);
    probe.set(head.subarray(0, 8));
    const probeView = new DataView(probe.buffer);
    if (version === 1) probeView.setUint16(8, emptied.length, true);
    else probeView.setUint32(8, emptied.length, true);
    for (let i = 0; i < emptied.length; i++) probe[8 + lenBytes + i] = emptied.charCodeAt(i);
    const empty = decodeNpy(probe, name);
    if (empty.dtype !== 'float32') {
      throw new UnsupportedError(`images must be float32, got ${empty.dtype}`, { file: name, hint: 'save them with X.astype(np.float32)' });
    }
    const shape = [count, ...empty.shape.slice(1)];
    if (shape.length < 2) throw new ShapeError(`images have shape [${shape.join(', ')}]; expected [N, …sample], e.g. [N, 3, 32, 32]`, { file: name });
    const needed = dataOffset + sizeOf(shape) * 4;
    if (size < needed) {
      throw new FormatError(`truncated .npy data: shape [${shape.join(', ')}] needs ${needed - dataOffset} bytes, file has ${size - dataOffset}`, {
        file: name,
      });
    }
    return { shape, dataOffset };
  } finally {
    await handle.close();
  }
}

/** Labels are class indices; more classes than this is a corrupt file, not a classifier (ImageNet-21k has 21,841). */
const MAX_CLASSES = 1_000_000n;

async function readLabels(path: string, name: string): Promise<BigInt64Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw openError(e, 'labels', name);
  }
  const t = decodeNpy(bytes, name);
  if (t.shape.length !== 1) throw new ShapeError(`labels have shape [${t.shape.join(', ')}]; expected [N]`, { file: name });
  if (t.dtype === 'int64') return t.data as BigInt64Array;
  if (t.dtype === 'int32') return BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v));
  throw new UnsupportedError(`labels must be int64 (or int32), got ${t.dtype}`, { file: name, hint: 'save them with Y.astype(np.int64)' });
}

/** Why a .npy file could not be opened, in the user's words: missing, a folder, or unreadable. */
function openError(e: unknown, what: 'images' | 'labels', name: string): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return new FormatError(`is a folder, expected a ${what} .npy file`, { file: name, cause: e });
  if (code === 'ENOENT' || code === 'ENOTDIR') return new NotFoundError(`cannot open the ${what} file`, { file: name, cause: e });
  return new FormatError(`cannot read the ${what} file (${code ?? String(e)})`, { file: name, cause: e });
}
