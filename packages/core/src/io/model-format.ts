import { FormatError, UnsupportedError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { Registry } from '../registry.js';

/**
 * How sure a format is that some bytes are its own: `false` (or 0) declines, `true` is 1,
 * a number in (0, 1] ranks candidates (a magic number is near 1; "parses as protobuf" is lower).
 */
export type SniffResult = boolean | number;

/** Options every `read` accepts; formats document their own extras. */
export interface ReadOptions {
  /** File named in error messages. */
  file?: string;
  /**
   * The graph the checkpoint's weights belong to, for formats that store weights only
   * (safetensors, a PyTorch state_dict): its nodes and values are kept and its initializers
   * replaced by the checkpoint's tensors.
   */
  structure?: Graph;
  /** Format-specific settings (e.g. an external-data source for ONNX). */
  [option: string]: unknown;
}

/** Options every `write` accepts; formats document their own extras. */
export interface WriteOptions {
  /** File named in error messages. */
  file?: string;
  /**
   * For weights-only formats and a merged graph with per-model layers (task heads): the model
   * whose view to write, under the original parameter names.
   */
  model?: string;
  /** Format-specific settings. */
  [option: string]: unknown;
}

/** What a format can hold; callers check before asking for more than that. */
export interface FormatCapabilities {
  /** The format stores the computation (nodes), not only weights. Default true. */
  graph?: boolean;
  /** `write` exists. Default true when `write` is defined. */
  write?: boolean;
}

/**
 * A checkpoint format plugin (ONNX, safetensors, …): a plain object that turns bytes into a core
 * Graph and back. Codecs are pure (bytes in, bytes out) so they bundle for browsers; file access
 * lives in the plugin's Node entry or in the caller.
 */
export interface ModelFormat {
  /** Registry key, e.g. `onnx`. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** File name endings it reads and writes, lower case with the dot (`.onnx`). The first is the default. */
  readonly extensions: readonly string[];
  readonly capabilities?: FormatCapabilities;
  /** Whether the bytes look like this format (only the first bytes are needed; never throws). */
  sniff(bytes: Uint8Array): SniffResult;
  /** Decodes a checkpoint; FormatError (naming `opts.file`) when the bytes are corrupt. */
  read(bytes: Uint8Array, opts?: ReadOptions): Graph | Promise<Graph>;
  /** Encodes a graph; absent for read-only formats. */
  write?(graph: Graph, opts?: WriteOptions): Uint8Array;
}

export type FormatRegistry = Registry<ModelFormat>;

/** A registry holding the given formats (core registers nothing by itself). */
export function createFormatRegistry(list: readonly ModelFormat[] = []): FormatRegistry {
  const reg = new Registry<ModelFormat>('format');
  for (const f of list) reg.register(f);
  return reg;
}

function extensionOf(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot).toLowerCase() : '';
}

function sniffScore(format: ModelFormat, bytes: Uint8Array): number {
  let r: SniffResult;
  try {
    r = format.sniff(bytes);
  } catch {
    return 0;
  }
  return r === true ? 1 : r === false ? 0 : Number.isFinite(r) ? Math.max(0, Math.min(1, r)) : 0;
}

/**
 * The format of a file to read, from its content first and its extension second: the format
 * whose `sniff` is most confident wins (ties go to the one the extension names, then to
 * registration order). When no format recognises the bytes, the format the extension names
 * reads them anyway, so that its own error says what is wrong (a truncated ONNX file); without
 * one, a FormatError naming the file lists why each candidate declined.
 */
export function detectFormat(registry: FormatRegistry, file: string, bytes: Uint8Array): ModelFormat {
  const ext = extensionOf(file);
  let best: { format: ModelFormat; score: number } | undefined;
  const reasons: string[] = [];
  for (const format of registry.list()) {
    const score = sniffScore(format, bytes);
    const byExt = format.extensions.includes(ext);
    if (score <= 0) {
      reasons.push(`${format.name}: the content is not ${format.name}`);
      continue;
    }
    const rank = score + (byExt ? 0.5 : 0);
    if (!best || rank > best.score) best = { format, score: rank };
  }
  if (best) return best.format;
  const named = registry.list().find((f) => f.extensions.includes(ext));
  if (named) return named;
  throw new FormatError(registry.list().length ? 'no registered format recognises the file' : 'no model format is registered', {
    file,
    hint: reasons.length ? reasons.join('; ') : 'register a format plugin (e.g. onnxFormat from @zipit/io-onnx)',
  });
}

/**
 * The format to write a file in, from its extension; an UnsupportedError naming the file lists
 * the extensions that can be written.
 */
export function formatForWrite(registry: FormatRegistry, file: string): ModelFormat & { write(graph: Graph, opts?: WriteOptions): Uint8Array } {
  const ext = extensionOf(file);
  const writable = registry.list().filter((f) => f.write && f.capabilities?.write !== false);
  const format = writable.find((f) => f.extensions.includes(ext));
  if (format) return format as ModelFormat & { write(graph: Graph, opts?: WriteOptions): Uint8Array };
  const readOnly = registry.list().find((f) => f.extensions.includes(ext));
  if (readOnly) throw new UnsupportedError(`the ${readOnly.name} format cannot be written`, { file });
  const known = writable.flatMap((f) => f.extensions.map((e) => `${e} (${f.name})`)).join(', ') || 'none';
  throw new UnsupportedError(`unknown model format "${ext || '(no extension)'}"`, { file, hint: `writable: ${known}` });
}

/**
 * Reads a checkpoint in whichever registered format recognises it ({@link detectFormat}): the
 * graph, and the format it was read with (to write results back in kind).
 */
export async function readModel(
  registry: FormatRegistry,
  file: string,
  bytes: Uint8Array,
  opts: ReadOptions = {},
): Promise<{ graph: Graph; format: ModelFormat }> {
  const format = detectFormat(registry, file, bytes);
  return { graph: await format.read(bytes, { ...opts, file }), format };
}
