import type { Availability, Executor, Graph, SessionOptions } from '@zipit/core';
import { ModelSession } from './session.js';
import { loadOrt } from './tensors.js';

let availability: Promise<Availability> | undefined;

/**
 * The onnxruntime-node executor (CPU): every pass of `@zipit/pipeline` runs on it in Node.
 * It loads the native module on first use; `availability` reports why it cannot when the
 * platform has no prebuilt binary.
 */
export const ortExecutor: Executor = {
  name: 'onnxruntime-node',
  description: 'onnxruntime-node (native CPU runtime, multi-threaded)',
  priority: 10,
  availability() {
    availability ??= loadOrt().then(
      (): Availability => ({ available: true }),
      (e: unknown): Availability => ({
        available: false,
        reason: `onnxruntime-node does not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`,
      }),
    );
    return availability;
  },
  createSession(graph: Graph, opts?: SessionOptions) {
    return ModelSession.create(graph, opts);
  },
};

/** Registers {@link ortExecutor} into an executor registry. */
export function registerOrt(registry: { register(e: Executor): void }): void {
  registry.register(ortExecutor);
}
