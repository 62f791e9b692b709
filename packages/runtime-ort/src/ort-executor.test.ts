import { createExecutorRegistry, pickExecutor, SeededRandom, tensor } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { describe, expect, it } from 'vitest';
import { ortExecutor } from './ort-executor.js';

describe('ortExecutor', () => {
  it('is available here and runs a graph: all outputs by default, the named ones on request', async () => {
    expect(await ortExecutor.availability()).toEqual({ available: true });
    expect(await pickExecutor(createExecutorRegistry([ortExecutor]))).toBe(ortExecutor);
    const graph = buildSmallCnn({ seed: 1 });
    const session = await ortExecutor.createSession(graph, { threads: 1 });
    try {
      const rng = new SeededRandom(3);
      const x = tensor(
        'float32',
        [2, 3, 32, 32],
        Float32Array.from({ length: 2 * 3 * 1024 }, () => rng.normal()),
      );
      const all = await session.run({ [session.inputNames[0]]: x });
      expect(Object.keys(all)).toEqual([...session.outputNames]);
      const first = session.outputNames[0];
      const one = await session.run({ [session.inputNames[0]]: x }, [first]);
      expect(Object.keys(one)).toEqual([first]);
      expect(one[first].data).toEqual(all[first].data);
      expect(one[first].shape[0]).toBe(2);
    } finally {
      await session.release();
    }
    await expect(session.run({})).rejects.toThrow(/released/);
  });
});
