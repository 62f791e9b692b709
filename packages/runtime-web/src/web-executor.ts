import {
  InvalidArgumentError,
  ONNXRUNTIME_DTYPES,
  ShapeError,
  UnsupportedError,
  ZipitError,
  type Availability,
  type DType,
  type Executor,
  type ExecutorSession,
  type Graph,
  type SessionOptions,
  type Tensor,
} from '@zipit/core';
import { writeOnnx } from '@zipit/io-onnx';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-web';

/** The onnxruntime-web module (WebAssembly backend only), loaded on first use. */
type OrtWeb = typeof import('onnxruntime-web');

let ortModule: Promise<OrtWeb> | undefined;
let availability: Promise<Availability> | undefined;
/** Threads the WebAssembly backend was started with (fixed after the first session). */
let startedThreads: number | undefined;

function loadOrtWeb(): Promise<OrtWeb> {
  ortModule ??= import('onnxruntime-web/wasm') as Promise<OrtWeb>;
  return ortModule;
}

/**
 * Threads the WebAssembly backend can use here: several only where the page is cross-origin
 * isolated (SharedArrayBuffer needs COOP/COEP headers), else 1. Node has no such limit.
 */
export function webThreads(requested?: number): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number }; process?: unknown; window?: unknown };
  const inBrowser = typeof g.window !== 'undefined';
  if (inBrowser && !g.crossOriginIsolated) return 1;
  const cores = g.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(requested ?? cores, cores, 16));
}

/** Turns an onnxruntime-web exception into a typed error (shape problems are ShapeErrors). */
function ortWebError(e: unknown, what: string, file: string | undefined): ZipitError {
  if (e instanceof ZipitError) return e;
  const detail = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  const message = `${what}: ${detail}`;
  return /shape|dimension|rank|dims|broadcast/i.test(detail) ? new ShapeError(message, { file, cause: e }) : new UnsupportedError(message, { file, cause: e });
}

/** A core Graph loaded into onnxruntime-web (WebAssembly, CPU). */
class WebSession implements ExecutorSession {
  private released = false;

  constructor(
    private readonly ort: OrtWeb,
    private readonly session: InferenceSession,
    private readonly file: string | undefined,
  ) {}

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, Tensor>, fetch: readonly string[] = this.outputNames): Promise<Record<string, Tensor>> {
    if (this.released) throw new InvalidArgumentError('the session was released');
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      if (!ONNXRUNTIME_DTYPES.has(t.dtype)) throw new UnsupportedError(`onnxruntime-web cannot take a ${t.dtype} tensor`, { node: name });
      ortFeeds[name] = new this.ort.Tensor(t.dtype as OrtTensor.Type, t.data as OrtTensor.DataType, [...t.shape]);
    }
    let result: InferenceSession.ReturnType;
    try {
      result = await this.session.run(ortFeeds, [...fetch]);
    } catch (e) {
      throw ortWebError(e, 'onnxruntime-web failed to run the model', this.file);
    }
    const out: Record<string, Tensor> = {};
    for (const name of fetch) {
      const t = result[name];
      if (!ONNXRUNTIME_DTYPES.has(t.type as DType))
        throw new UnsupportedError(`onnxruntime-web returned a ${t.type} tensor, which has no core dtype`, { node: name });
      out[name] = { dtype: t.type as DType, shape: [...t.dims], data: t.data as Tensor['data'] };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/**
 * The onnxruntime-web executor (WebAssembly CPU backend): the passes of `@zipit/pipeline` run
 * on it in a browser exactly as they run on onnxruntime-node in the CLI. The thread count is
 * decided by the first session (the WebAssembly runtime starts once per page); the graph is
 * encoded with the same ONNX codec as everywhere else.
 */
export const webExecutor: Executor = {
  name: 'onnxruntime-web',
  description: 'onnxruntime-web (WebAssembly CPU backend; multi-threaded where the page is cross-origin isolated)',
  priority: 5,
  availability() {
    availability ??= (
      typeof (globalThis as { WebAssembly?: unknown }).WebAssembly === 'undefined'
        ? Promise.reject(new Error('this JavaScript engine has no WebAssembly'))
        : loadOrtWeb()
    ).then(
      (): Availability => ({ available: true }),
      (e: unknown): Availability => ({
        available: false,
        reason: `onnxruntime-web does not load (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`,
      }),
    );
    return availability;
  },
  async createSession(graph: Graph, opts: SessionOptions = {}): Promise<ExecutorSession> {
    if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
      throw new InvalidArgumentError(`threads must be a positive integer, got ${opts.threads}`);
    }
    const ort = await loadOrtWeb();
    if (startedThreads === undefined) {
      startedThreads = webThreads(opts.threads);
      ort.env.wasm.numThreads = startedThreads;
      ort.env.logLevel = 'error';
    }
    const bytes = writeOnnx(graph);
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['wasm'],
        graphOptimizationLevel: opts.optimization ?? 'all',
        executionMode: 'sequential',
        logSeverityLevel: 4,
      });
      return new WebSession(ort, session, opts.file);
    } catch (e) {
      throw ortWebError(e, 'onnxruntime-web cannot load the model', opts.file);
    }
  },
};

/** Registers {@link webExecutor} into an executor registry. */
export function registerWeb(registry: { register(e: Executor): void }): void {
  registry.register(webExecutor);
}
