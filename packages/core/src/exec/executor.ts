import { NotFoundError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { Registry } from '../registry.js';
import type { Tensor } from '../tensor/tensor.js';

/** Options of a session; an executor ignores the ones it has no use for. */
export interface SessionOptions {
  /** Intra-op threads (default: the executor's choice, usually every core). */
  threads?: number;
  /** Graph optimisation level (default `all`). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Model file named in error messages. */
  file?: string;
  /** Record a per-node profile into `<prefix>_<timestamp>.json` (executors that can; for benchmarks). */
  profilePrefix?: string;
  /**
   * The session takes turns with others, run after run (a refit steps several models through the
   * same batches): worker threads should sleep between runs rather than spin, which would steal
   * the cores the next session's run needs. Default false.
   */
  interleaved?: boolean;
}

/**
 * A graph loaded into a runtime, ready to run batches. Release it when done: runtimes hold
 * native or GPU memory that the garbage collector does not reclaim in time.
 */
export interface ExecutorSession {
  /** Graph input names, in order. */
  readonly inputNames: readonly string[];
  /** Graph output names, in order. */
  readonly outputNames: readonly string[];
  /**
   * Runs the graph on `feeds` (by input name) and returns the named outputs (default: all);
   * the runtime may skip nodes that none of them needs. Errors are ZipitErrors naming the file.
   */
  run(feeds: Record<string, Tensor>, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** Whether an executor can run here, and if not why (one line). */
export type Availability = { available: true } | { available: false; reason: string };

/**
 * An executor plugin (onnxruntime-node, onnxruntime-web, …): runs a core Graph. Every pass over
 * data (statistics, BatchNorm reset, evaluation) is written against this interface and runs the
 * pure graph rewrites of `@zipit/core` inside one session, so the heavy arithmetic stays in the
 * runtime.
 */
export interface Executor {
  /** Registry key, e.g. `onnxruntime-node`. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** Higher wins when no executor is named (a GPU provider above a CPU one). */
  readonly priority: number;
  /** Whether the runtime loads here (checked lazily; cheap after the first call). */
  availability(): Promise<Availability>;
  createSession(graph: Graph, opts?: SessionOptions): Promise<ExecutorSession>;
}

export type ExecutorRegistry = Registry<Executor>;

/** A registry holding the given executors (core registers nothing by itself). */
export function createExecutorRegistry(list: readonly Executor[] = []): ExecutorRegistry {
  const reg = new Registry<Executor>('executor');
  for (const e of list) reg.register(e);
  return reg;
}

/**
 * The executor to run with: the one named, or else the available one of highest priority
 * (registration order breaks ties). When none can run, a NotFoundError lists why each declined.
 */
export async function pickExecutor(registry: ExecutorRegistry, name?: string): Promise<Executor> {
  const candidates = name === undefined ? [...registry.list()].sort((a, b) => b.priority - a.priority) : [registry.get(name)];
  const reasons: string[] = [];
  for (const executor of candidates) {
    const a = await executor.availability();
    if (a.available) return executor;
    reasons.push(`${executor.name}: ${a.reason}`);
  }
  throw new NotFoundError(name === undefined ? 'no registered executor can run here' : `executor "${name}" cannot run here`, {
    hint: reasons.length ? reasons.join('; ') : 'register an executor plugin (e.g. ortExecutor from @zipit/runtime-ort)',
  });
}

/**
 * An executor that stands for the best one of a registry ({@link pickExecutor}), resolved on the
 * first session: programs can hand it to the pipeline without loading any runtime up front
 * (a CLI's `--help` stays fast).
 */
export function deferredExecutor(registry: ExecutorRegistry, name?: string): Executor {
  let picked: Promise<Executor> | undefined;
  const pick = () => (picked ??= pickExecutor(registry, name));
  return {
    name: name ?? 'auto',
    description: name ? `the registered executor "${name}"` : 'the available registered executor of highest priority',
    priority: 0,
    async availability() {
      try {
        return await (await pick()).availability();
      } catch (e) {
        return { available: false, reason: e instanceof Error ? e.message : String(e) };
      }
    },
    async createSession(graph, opts) {
      return (await pick()).createSession(graph, opts);
    },
  };
}
