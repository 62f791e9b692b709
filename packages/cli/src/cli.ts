import type { CommandIO } from './command.js';
import { commands, type CommandEntry } from './commands/index.js';
import { EXIT } from './exit-codes.js';

// Only the command table and the exit codes load up front: `zipit --help` imports neither
// @zipit/core nor any command module (onnxruntime, sharp, the pipeline), see commands/index.ts.

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'zipit — merge models trained on different tasks, without training (ZipIt!, ICLR 2024)',
    '',
    'usage: zipit <command> [options]     (zipit <command> --help for details)',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `exit codes: ${EXIT.ok} ok, ${EXIT.input} bad input, ${EXIT.usage} bad command line, ${EXIT.internal} internal error, ${EXIT.interrupted} interrupted`,
  ].join('\n');
}

/** Where a run of zipit writes and what can stop it; `process` streams for the real command. */
export interface CliStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Progress bars are drawn only when this is true (stderr is a terminal). */
  stderrIsTTY: boolean;
  /** Aborts the command (Ctrl-C). */
  signal?: AbortSignal;
}

/**
 * Lines to one stream, surviving its failure: a closed pipe (EPIPE, `zipit inspect | head -1`)
 * or a full disk (ENOSPC, `> /dev/full`) is recorded instead of crashing the process with an
 * unhandled 'error' event, and later lines are dropped.
 */
class LineSink {
  error: NodeJS.ErrnoException | null = null;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      this.error ??= e;
    });
  }

  write(line: string): void {
    if (this.error) return;
    try {
      this.stream.write(line + '\n');
    } catch (e) {
      this.error ??= e as NodeJS.ErrnoException;
    }
  }

  /** Resolves once everything written so far has reached the stream (or failed). */
  flush(): Promise<void> {
    if (this.error) return Promise.resolve();
    return new Promise((done) => {
      try {
        this.stream.write('', (e?: Error | null) => {
          if (e) this.error ??= e as NodeJS.ErrnoException;
          done();
        });
      } catch (e) {
        this.error ??= e as NodeJS.ErrnoException;
        done();
      }
    });
  }
}

/** Commands whose results are files: their stdout is only a summary, so losing it is not a failure. */
const WRITES_FILES = new Set(['merge', 'stats', 'match', 'convert', 'export-images']);

/**
 * Runs `zipit <argv>` and returns the exit code (README "Exit codes"): every failure is one
 * line on stderr, never a stack trace (set ZIPIT_DEBUG=1 for the stack of an internal error).
 * Standard output is part of the one write path: when it fails, a command whose result is
 * stdout (inspect, eval, sweep, demo) exits 1 with one line, one that already wrote its files
 * exits 0 with one line saying the summary was lost, and a reader that closed the pipe early
 * (`| head`) is not an error at all.
 */
export async function runZipit(argv: readonly string[], streams: CliStreams): Promise<number> {
  const quiet = argv.includes('--quiet');
  const stdout = new LineSink(streams.stdout);
  const stderr = new LineSink(streams.stderr);
  const signal = streams.signal ?? new AbortController().signal;
  const io: CommandIO = {
    signal,
    out: (line) => stdout.write(line),
    err: (line) => stderr.write(line),
    interactive: !quiet && streams.stderrIsTTY,
  };
  const [name, ...rest] = argv;
  let code: number;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    code = name ? EXIT.ok : EXIT.usage;
  } else {
    const entry = commands.find((c) => c.name === name);
    if (!entry) {
      io.err(`zipit: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`);
      code = EXIT.usage;
    } else {
      code = await runCommand(entry, rest, io);
    }
  }
  await stdout.flush();
  const failure = stdout.error;
  if (failure && failure.code !== 'EPIPE' && code === EXIT.ok) {
    const why = failure.code ?? failure.message;
    if (name && WRITES_FILES.has(name)) {
      io.err(`zipit ${name}: the outputs were written, but the summary could not be printed to standard output (${why})`);
    } else {
      io.err(`zipit ${name ?? ''}: cannot write to standard output (${why})`.replace('zipit :', 'zipit:'));
      code = EXIT.input;
    }
  }
  await stderr.flush();
  return code;
}

/** Loads the command's module, then prints its help (`--help`, `-h`) or runs it; every failure is one line and an exit code. */
async function runCommand(entry: CommandEntry, argv: string[], io: CommandIO): Promise<number> {
  const name = entry.name;
  try {
    const command = await entry.load();
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(command.help);
      return EXIT.ok;
    }
    return await command.run(argv, io);
  } catch (e) {
    const [{ ZipitError }, { UsageError, oneLine }] = await Promise.all([import('@zipit/core'), import('./options.js')]);
    if (io.signal.aborted) {
      io.err(`zipit ${name}: interrupted; nothing was written`);
      return EXIT.interrupted;
    }
    if (e instanceof UsageError) {
      io.err(`zipit ${name}: ${oneLine(e.message)} (see zipit ${name} --help)`);
      return EXIT.usage;
    }
    if (e instanceof ZipitError) {
      io.err(`zipit ${name}: ${oneLine(e.message)}`);
      return EXIT.input;
    }
    if (isAllocationFailure(e)) {
      io.err(
        `zipit ${name}: out of memory: ${oneLine((e as Error).message)} (a declared size in the model or data is too large)${process.env.ZIPIT_DEBUG ? `\n${(e as Error).stack}` : ''}`,
      );
      return EXIT.input;
    }
    io.err(`zipit ${name}: internal error: ${describeInternal(e, oneLine)}`);
    return EXIT.internal;
  }
}

/** Node's errors for a buffer or array that cannot be allocated: the input asked for too much. */
function isAllocationFailure(e: unknown): boolean {
  return e instanceof RangeError && /allocation failed|Invalid typed array length|Invalid array length|Array buffer allocation|out of memory/i.test(e.message);
}

/** One line: the message and the first frame of the stack (the whole stack with ZIPIT_DEBUG=1). */
function describeInternal(e: unknown, oneLine: (text: string) => string): string {
  if (!(e instanceof Error)) return oneLine(String(e));
  if (process.env.ZIPIT_DEBUG) return e.stack ?? e.message;
  const frame = /\n\s+at (.+)/.exec(e.stack ?? '')?.[1];
  return oneLine(`${e.name}: ${e.message}${frame ? ` (at ${frame})` : ''}`);
}
