#!/usr/bin/env node
import { ZipitError } from '@zipit/core';
import { EXIT, UsageError, type Command, type CommandIO } from './command.js';
import { commands } from './commands/index.js';

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
    `exit codes: ${EXIT.ok} ok, ${EXIT.input} bad input, ${EXIT.usage} bad command line, ${EXIT.internal} internal error`,
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const quiet = argv.includes('--quiet');
  const abort = new AbortController();
  const onSigint = () => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const io: CommandIO = {
    signal: abort.signal,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    interactive: !quiet && Boolean(process.stderr.isTTY),
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const command: Command | undefined = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`zipit: unknown command "${name}" (commands: ${commands.map((c) => c.name).join(', ')})`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (abort.signal.aborted) {
      io.err(`zipit ${name}: interrupted; nothing was written`);
      return EXIT.interrupted;
    }
    if (e instanceof UsageError) {
      io.err(`zipit ${name}: ${e.message} (see zipit ${name} --help)`);
      return EXIT.usage;
    }
    if (e instanceof ZipitError) {
      io.err(`zipit ${name}: ${e.message}`);
      return EXIT.input;
    }
    io.err(`zipit ${name}: internal error: ${(e as Error)?.stack ?? String(e)}`);
    return EXIT.internal;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`zipit: internal error: ${String(e)}\n`); process.exitCode = EXIT.internal; },
);
