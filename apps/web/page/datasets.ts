import { decodeNpy, InvalidArgumentError, ShapeError, tensor, type ValueInfo } from '@zipit/core';
import type { Batch, BatchSource } from '@zipit/pipeline';
// The preprocessing of the built-in datasets, from @zipit/data's own modules (its package entry
// also exports Node-only readers: npm package files, sharp image decoding).
import { preprocessingForInput } from '../../../packages/data/src/input-shape.js';
import { preprocessInto, resolvePreprocessing, sampleShape } from '../../../packages/data/src/preprocess.js';

const PIXELS = 28 * 28;

/** A split of a built-in subset task: `count` 28×28 images (bytes) followed by `count` labels. */
export interface SubsetSplit {
  spec: string;
  bytes: Uint8Array;
  count: number;
  mean: number;
  std: number;
}

/** A built-in subset split as NCHW float32 batches in the model's input layout (padding, channels, normalisation as the CLI does). */
export function subsetSource(split: SubsetSplit, input: ValueInfo): BatchSource & { samples: number } {
  const p = resolvePreprocessing(preprocessingForInput(input, split.spec), { mean: split.mean, std: split.std });
  const shape = sampleShape(p);
  const per = shape[0] * shape[1] * shape[2];
  if (split.bytes.length !== split.count * (PIXELS + 1))
    throw new ShapeError(`${split.spec}: ${split.bytes.length} bytes do not hold ${split.count} images and labels`);
  return {
    samples: split.count,
    async *batches({ batchSize, limit }): AsyncGenerator<Batch> {
      const end = Math.min(split.count, limit ?? Infinity);
      for (let start = 0; start < end; start += batchSize) {
        const n = Math.min(batchSize, end - start);
        const x = new Float32Array(n * per);
        const y = new BigInt64Array(n);
        for (let i = 0; i < n; i++) {
          const k = start + i;
          preprocessInto(x, i * per, split.bytes.subarray(k * PIXELS, (k + 1) * PIXELS), p);
          y[i] = BigInt(split.bytes[split.count * PIXELS + k]);
        }
        yield { x: tensor('float32', [n, ...shape], x), y };
      }
    },
  };
}

/** Merge data from an `.npy` file of float32 samples already in the model's input layout [N, …]. */
export function npySource(bytes: Uint8Array, file: string, input: ValueInfo): BatchSource & { samples: number } {
  const t = decodeNpy(bytes, file);
  if (t.dtype !== 'float32')
    throw new InvalidArgumentError(`${file} holds ${t.dtype}; the merge data must be float32`, { file, hint: 'save it with np.asarray(x, dtype=np.float32)' });
  const sample = t.shape.slice(1);
  const want = input.shape?.slice(1) ?? sample;
  if (sample.length !== want.length || sample.some((d, i) => typeof want[i] === 'number' && want[i] !== d)) {
    throw new ShapeError(`${file} holds samples of shape [${sample.join(', ')}], the model takes [${want.join(', ')}]`, { file });
  }
  const per = sample.reduce((a, b) => a * b, 1);
  const data = t.data as Float32Array;
  return {
    samples: t.shape[0],
    async *batches({ batchSize, limit }): AsyncGenerator<Batch> {
      const end = Math.min(t.shape[0], limit ?? Infinity);
      for (let start = 0; start < end; start += batchSize) {
        const n = Math.min(batchSize, end - start);
        yield { x: tensor('float32', [n, ...sample], data.slice(start * per, (start + n) * per)) };
      }
    },
  };
}
