import { InvalidArgumentError, tensor, type Tensor } from '@zipit/core';
import type { Batch, Batches } from './passes/index.js';

/** Anything that yields batches of a given size, up to a sample limit (a `@zipit/data` Dataset). */
export interface BatchSource {
  batches(opts: { batchSize: number; limit?: number }): AsyncIterable<Batch>;
  /** What the source is (`spec`) and whether it has labels (`numClasses` null: none), when known. */
  info?: { spec: string; numClasses: number | null };
}

/**
 * Mixes several datasets sample-wise: every batch holds about batchSize/N samples of each of
 * the N datasets (fewer once one runs out), taking up to `limit` samples from each (undefined:
 * all); labels are dropped. Mixed batches matter for BatchNorm re-estimation, which normalises
 * each batch by its own statistics: a batch from one task alone would miss the spread between
 * tasks. Returns a factory: each call starts a fresh pass.
 */
export function interleave(sources: readonly BatchSource[], batchSize: number, limit?: number): () => Batches {
  const per = Math.max(1, Math.ceil(batchSize / sources.length));
  return () => ({
    async *[Symbol.asyncIterator]() {
      const its = sources.map((d) => d.batches({ batchSize: per, limit })[Symbol.asyncIterator]());
      const live = new Set(its.keys());
      try {
        while (live.size) {
          const parts: Tensor<'float32'>[] = [];
          for (const k of [...live]) {
            const r = await its[k].next();
            if (r.done) live.delete(k);
            else parts.push(r.value.x);
          }
          if (parts.length) yield { x: concatBatches(parts) };
        }
      } finally {
        await Promise.all(its.map((it) => it.return?.()));
      }
    },
  });
}

/**
 * One labelled dataset as a batch factory (each call a fresh pass). A source that says it has
 * no labels (a flat image folder, images-only .npy) is refused here, naming it, before any pass.
 */
export function labelled(source: BatchSource, batchSize: number, limit?: number): () => Batches {
  if (source.info && source.info.numClasses === null) {
    throw new InvalidArgumentError(`${source.info.spec} has no labels, so it cannot be a task's test data`, {
      hint: 'give a folder of class subfolders (ImageFolder layout), a built-in split, or X.npy:Y.npy with labels',
    });
  }
  return () => source.batches({ batchSize, limit });
}

/** Concatenates [B, …] float32 batches along the batch axis. */
export function concatBatches(parts: readonly Tensor<'float32'>[]): Tensor<'float32'> {
  if (parts.length === 1) return parts[0];
  const rows = parts.reduce((n, t) => n + t.shape[0], 0);
  const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
  let at = 0;
  for (const t of parts) {
    data.set(t.data, at);
    at += t.data.length;
  }
  return tensor('float32', [rows, ...parts[0].shape.slice(1)], data);
}
