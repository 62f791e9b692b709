import { InvalidArgumentError, tensor } from '@zipit/core';
import { describe, expect, it } from 'vitest';
import { interleave, labelled, type BatchSource } from './interleave.js';
import type { Batch } from './passes/index.js';

/** `count` one-pixel samples whose value is `base + i`, served in batches. */
function source(base: number, count: number): BatchSource {
  return {
    async *batches({ batchSize, limit }) {
      const n = Math.min(count, limit ?? count);
      for (let at = 0; at < n; at += batchSize) {
        const b = Math.min(batchSize, n - at);
        yield {
          x: tensor(
            'float32',
            [b, 1],
            Float32Array.from({ length: b }, (_, i) => base + at + i),
          ),
          y: new BigInt64Array(b),
        } as Batch;
      }
    },
  };
}

async function collect(make: () => AsyncIterable<Batch> | Iterable<Batch>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of make()) out.push(Array.from(b.x.data));
  return out;
}

describe('interleave', () => {
  it('mixes the sources in every batch, up to the limit per source, and restarts on each call', async () => {
    const make = interleave([source(0, 5), source(100, 3)], 4, 4);
    const batches = await collect(make);
    expect(batches).toEqual([
      [0, 1, 100, 101],
      [2, 3, 102],
    ]);
    expect(await collect(make)).toEqual(batches);
  });
});

describe('labelled', () => {
  it('refuses a source without labels, naming it, before any pass', () => {
    const flat = { ...source(0, 3), info: { spec: 'photos/', numClasses: null } };
    expect(() => labelled(flat, 2)).toThrow(InvalidArgumentError);
    expect(() => labelled(flat, 2)).toThrow(/photos\/ has no labels/);
    expect(labelled({ ...source(0, 3), info: { spec: 'mnist:0-4', numClasses: 5 } }, 2)).toBeTypeOf('function');
  });
});
