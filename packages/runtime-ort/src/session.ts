import { availableParallelism } from 'node:os';
import {
  InvalidArgumentError,
  ShapeError,
  UnsupportedError,
  ZipitError,
  type ExecutorSession,
  type Graph,
  type SessionOptions,
  type Tensor,
} from '@zipit/core';
import type { InferenceSession } from 'onnxruntime-node';
import { writeOnnx } from '@zipit/io-onnx';
import { fromOrt, loadOrt, toOrt, type Ort } from './tensors.js';

export type { SessionOptions };

/** The default thread count: every core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

/**
 * An onnxruntime-node inference session on a core Graph (the session of {@link ortExecutor}).
 * The graph is encoded to ONNX bytes in memory (no file); runs take and return core tensors.
 * Release it when done: native memory is not reclaimed by the JS garbage collector in time for
 * long jobs.
 */
export class ModelSession implements ExecutorSession {
  private released = false;

  private constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    /** Graph input names, in order. */
    readonly inputNames: readonly string[],
    /** Graph output names, in order. */
    readonly outputNames: readonly string[],
    private readonly file: string | undefined,
    private readonly profiling: boolean,
  ) {}

  static async create(graph: Graph, opts: SessionOptions = {}): Promise<ModelSession> {
    const threads = opts.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new InvalidArgumentError(`threads must be a positive integer, got ${threads}`);
    const bytes = writeOnnx(graph);
    const ort = await loadOrt();
    let session: InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        ...(opts.interleaved ? { extra: { session: { intra_op: { allow_spinning: '0' } } } } : {}),
        graphOptimizationLevel: opts.optimization ?? 'all',
        logSeverityLevel: 4,
        ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
      });
    } catch (e) {
      throw ortError(e, 'onnxruntime cannot load the model', opts.file);
    }
    return new ModelSession(ort, session, session.inputNames, session.outputNames, opts.file, Boolean(opts.profilePrefix));
  }

  /**
   * Runs the model. `fetch` names the outputs to compute (default: all); onnxruntime skips nodes
   * that none of them needs.
   */
  async run(feeds: Record<string, Tensor>, fetch: readonly string[] = this.outputNames): Promise<Record<string, Tensor>> {
    if (this.released) throw new InvalidArgumentError('the session was released');
    const ortFeeds: Record<string, ReturnType<typeof toOrt>> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(this.ort, t, name);
    let result: InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, [...fetch], { logSeverityLevel: 4 });
    } catch (e) {
      throw ortError(e, 'onnxruntime failed to run the model', this.file);
    }
    const out: Record<string, Tensor> = {};
    for (const name of fetch) out[name] = fromOrt(result[name], name);
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.profiling) this.session.endProfiling();
    await this.session.release();
  }
}

/** Turns an onnxruntime exception into a typed error: shape problems are ShapeErrors, the rest UnsupportedErrors. */
export function ortError(e: unknown, what: string, file: string | undefined): ZipitError {
  if (e instanceof ZipitError) return e;
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  const shapeLike = /shape|dimension|rank|dims|broadcast/i.test(detail);
  const message = `${what}: ${detail}`;
  return shapeLike ? new ShapeError(message, { file, cause: e }) : new UnsupportedError(message, { file, cause: e });
}
