import { oneLine, parseNumberOption, parseThreadsOption, UsageError, type NumberRange } from './options.js';

export { UsageError, parseArgs, parseNumberOption, parseNumberList, parseThreadsOption, maxThreads, RANGES, type NumberRange } from './options.js';

/** A `zipit` subcommand: parses its own flags, returns the process exit code. */
export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Full help text: usage, options, an example. */
  help: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** True when progress bars may be drawn (stderr is a TTY and --quiet was not given). */
  interactive: boolean;
  /** Aborted on Ctrl-C: long passes stop between batches and nothing is written. */
  signal: AbortSignal;
}

export { EXIT } from './exit-codes.js';

/**
 * Runs a parse (util.parseArgs, or anything that throws on bad flags) and turns its errors into
 * a one-line UsageError, so a wrong flag exits 2. Prefer `parseArgs` from `./options.js`, which
 * also takes negative numbers as values.
 */
export function usageErrors<R>(parse: () => R): R {
  try {
    return parse();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(oneLine((e as Error).message));
  }
}

export function requireFlag<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing required option ${flag}`);
  return value;
}

/** A number option (see `parseNumberOption`: strict syntax, no empty values, range named on refusal). */
export function parseNumberFlag(value: string | undefined, flag: string, fallback: number, range: NumberRange = {}): number {
  return parseNumberOption(value, flag, range, fallback);
}

/** An integer option (safe integers only); `range` adds bounds. */
export function parseIntFlag(value: string | undefined, flag: string, fallback: number, range: NumberRange = {}): number {
  return parseNumberOption(value, flag, { ...range, integer: true }, fallback);
}

/** `--threads N` (onnxruntime threads, 1 … 4× cores, at most 256), or undefined for the default (every core). */
export function parseThreadsFlag(value: string | undefined): number | undefined {
  return parseThreadsOption(value);
}
