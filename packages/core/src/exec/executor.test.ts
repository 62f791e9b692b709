import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../errors.js';
import { createExecutorRegistry, deferredExecutor, pickExecutor, type Executor } from './executor.js';

function executor(name: string, priority: number, reason?: string): Executor {
  return {
    name,
    description: name,
    priority,
    availability: async () => (reason === undefined ? { available: true } : { available: false, reason }),
    createSession: async () => {
      throw new Error('not used');
    },
  };
}

describe('pickExecutor', () => {
  it('takes the available executor of highest priority, or the one named', async () => {
    const reg = createExecutorRegistry([executor('cpu', 1), executor('gpu', 5, 'no device'), executor('fast-cpu', 3)]);
    expect((await pickExecutor(reg)).name).toBe('fast-cpu');
    expect((await pickExecutor(reg, 'cpu')).name).toBe('cpu');
  });

  it('says why each executor declined', async () => {
    const reg = createExecutorRegistry([executor('gpu', 5, 'no device'), executor('wasm', 1, 'no WebAssembly')]);
    await expect(pickExecutor(reg)).rejects.toThrow(NotFoundError);
    await expect(pickExecutor(reg)).rejects.toThrow(/gpu: no device; wasm: no WebAssembly/);
    await expect(pickExecutor(reg, 'gpu')).rejects.toThrow(/executor "gpu" cannot run here/);
    await expect(pickExecutor(reg, 'tpu')).rejects.toThrow(/unknown executor "tpu".*registered: gpu, wasm/);
  });

  it('refuses duplicate names', () => {
    expect(() => createExecutorRegistry([executor('cpu', 1), executor('cpu', 2)])).toThrow(/executor "cpu" is already registered/);
  });

  it('defers the choice to the first session', async () => {
    const reg = createExecutorRegistry([executor('gpu', 5, 'no device')]);
    const auto = deferredExecutor(reg);
    expect(await auto.availability()).toEqual({ available: false, reason: expect.stringMatching(/gpu: no device/) });
    reg.register(executor('cpu', 1));
    const late = deferredExecutor(reg);
    await expect(late.createSession({} as never)).rejects.toThrow('not used');
  });
});
