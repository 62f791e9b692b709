#!/usr/bin/env node
import { EXIT } from './exit-codes.js';
import { runZipit } from './cli.js';

/**
 * The `zipit` executable: runs the command with the process streams, Ctrl-C as the abort
 * signal, and sets the exit code (README "Exit codes"). Failures of stdout/stderr themselves
 * (EPIPE, ENOSPC) are handled by `runZipit`, never as an unhandled 'error' event.
 */
const abort = new AbortController();
const onSigint = () => abort.abort(new Error('interrupted'));
process.once('SIGINT', onSigint);
runZipit(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stderrIsTTY: Boolean(process.stderr.isTTY), signal: abort.signal }).then(
  (code) => {
    process.off('SIGINT', onSigint);
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`zipit: internal error: ${String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ')}\n`, () => undefined);
    process.exitCode = EXIT.internal;
  },
);
