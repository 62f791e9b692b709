import { InvalidArgumentError } from '@zipit/core';

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

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** Bad input: a file, model, dataset or option the user supplied is wrong. The message says which. */
  input: 1,
  /** Bad command line: unknown command or flag, missing argument. */
  usage: 2,
  /** A bug in zipit: please report it with the message. */
  internal: 3,
  /** Interrupted (Ctrl-C); nothing was written. */
  interrupted: 130,
} as const;

/**
 * Runs `util.parseArgs` (or anything that throws on bad flags) and turns its errors into a
 * UsageError, so a wrong flag exits 2 with one line. Use: `usageErrors(() => parseArgs({...}))`.
 */
export function usageErrors<R>(parse: () => R): R {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** A command-line mistake (exit code 2). */
export class UsageError extends InvalidArgumentError {}

export function requireFlag<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`missing required option ${flag}`);
  return value;
}

export function parseNumberFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
  return n;
}

export function parseIntFlag(value: string | undefined, flag: string, fallback: number): number {
  const n = parseNumberFlag(value, flag, fallback);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${flag} expects an integer, got "${value}"`);
  return n;
}

/** `--threads N` (onnxruntime threads), or undefined for the default (every core). */
export function parseThreadsFlag(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseIntFlag(value, '--threads', 0);
}
