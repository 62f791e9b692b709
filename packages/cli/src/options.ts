import { availableParallelism } from 'node:os';
import { parseArgs as nodeParseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgumentError } from '@zipit/core';

/**
 * Command-line parsing shared by every `zipit` command: `parseArgs` (util.parseArgs with
 * negative numbers taken as values and one-line errors) and `parseNumberOption` (the one number
 * parser: strict syntax, no empty values, a checked range that refusals name, safe integers).
 */

/** A flag mistake (unknown flag, missing value): exit code 2. Thrown by `parseArgs`. */
export class UsageError extends InvalidArgumentError {}

/** Looks like a negative number (or a list starting with one): `-1`, `-0.5`, `-.5e3`, `-1,2`. */
const NEGATIVE = /^-(\d|\.\d)/;

/**
 * `util.parseArgs` for zipit commands. Differences: a string option followed by a negative
 * number takes it as its value (`--alpha -1` = `--alpha=-1`; util.parseArgs would call it
 * ambiguous), and every parse error is a one-line UsageError (exit 2).
 */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof nodeParseArgs<T>> {
  const args = [...(config.args ?? process.argv.slice(2))];
  const options = config.options ?? {};
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && i + 1 < args.length && NEGATIVE.test(args[i + 1])) {
      out.push(`${a}=${args[++i]}`);
    } else {
      out.push(a);
    }
  }
  try {
    return nodeParseArgs({ ...config, args: out } as T);
  } catch (e) {
    throw new UsageError(oneLine((e as Error).message));
  }
}

/** A message on one line (util.parseArgs writes some over three). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The values a number option accepts. Bounds are inclusive unless marked exclusive. */
export interface NumberRange {
  min?: number;
  max?: number;
  /** The value must be greater than `min` (e.g. a positive scale). */
  minExclusive?: boolean;
  /** Whole numbers only (then also at most Number.MAX_SAFE_INTEGER in magnitude). */
  integer?: boolean;
}

/** Plain decimal notation: `1`, `-2.5`, `.5`, `1e9`, `+3`. No hex, no `Infinity`, no blanks. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `[min, max]` in words for refusals: "between 1 and 256", "at least 0", "any finite number". */
export function describeRange(r: NumberRange): string {
  const kind = r.integer ? 'an integer' : 'a number';
  const lo = r.min === undefined ? undefined : r.minExclusive ? `greater than ${r.min}` : `at least ${r.min}`;
  if (r.min !== undefined && r.max !== undefined && !r.minExclusive) return `${kind} between ${r.min} and ${r.max}`;
  if (lo && r.max !== undefined) return `${kind} ${lo} and at most ${r.max}`;
  if (lo) return `${kind} ${lo}`;
  if (r.max !== undefined) return `${kind} at most ${r.max}`;
  return r.integer ? 'an integer' : 'a number';
}

/**
 * The one number parser of the command line. `text` undefined (option not given) returns
 * `fallback`; anything else must be a plain decimal number inside `range`, else an
 * InvalidArgumentError (exit 1) that names the flag, the value and the valid range. Empty and
 * blank values are refused (Number('') would be 0).
 */
export function parseNumberOption(text: string | undefined, flag: string, range: NumberRange = {}, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`missing required option ${flag}`);
    return fallback;
  }
  const want = describeRange(range);
  if (text.trim() === '') throw new InvalidArgumentError(`${flag} needs a value (${want}), got an empty string`);
  const n = DECIMAL.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${flag} expects ${want}, got "${text}"`);
  if (range.integer && !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} expects ${want}, got "${text}"`);
  const low = range.min !== undefined && (range.minExclusive ? n <= range.min : n < range.min);
  const high = range.max !== undefined && n > range.max;
  if (low || high) throw new InvalidArgumentError(`${flag} must be ${want}, got ${text}`);
  return n === 0 ? 0 : n; // no -0
}

/** A comma-separated list of numbers (`--alpha 0.1,0.3`), each checked like `parseNumberOption`. */
export function parseNumberList(text: string | undefined, flag: string, range: NumberRange, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.every((s) => s === ''))
    throw new InvalidArgumentError(`${flag} needs a comma-separated list of numbers, got an empty string`);
  return items.map((s) => {
    if (s === '') throw new InvalidArgumentError(`${flag} has an empty item in "${text}"`);
    return parseNumberOption(s, flag, range);
  });
}

/**
 * Most onnxruntime threads `--threads` accepts: 4× the cores, at most 256. More only adds
 * contention, and each thread reserves memory (100,000 threads exhaust it).
 */
export function maxThreads(): number {
  return Math.max(1, Math.min(256, 4 * availableParallelism()));
}

/** `--threads N` (onnxruntime threads, 1 … maxThreads()), or undefined for the default (every core). */
export function parseThreadsOption(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseNumberOption(text, '--threads', { integer: true, min: 1, max: maxThreads() });
}

/** Common ranges, so every command refuses the same values with the same words. */
export const RANGES = {
  /** ZipIt's α: any finite number (α ≤ 0 forbids re-merging a merged feature with its origin models). */
  alpha: {} as NumberRange,
  /** ZipIt's β: the share of merges a model may spend within itself; 0 or more (large values are clamped inside the matcher). */
  beta: { min: 0 } as NumberRange,
  /** Image counts (`--samples`). */
  samples: { integer: true, min: 1, max: 1_000_000_000 } as NumberRange,
  /** Images per onnxruntime batch. */
  batchSize: { integer: true, min: 1, max: 65_536 } as NumberRange,
  /** Models stacked in a covariance matrix. */
  models: { integer: true, min: 1, max: 1024 } as NumberRange,
} as const;
