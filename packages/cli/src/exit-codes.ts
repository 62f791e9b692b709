/**
 * Exit codes, documented in the README. A module of its own (no imports) so that `zipit --help`
 * and the executable's error path load nothing else.
 */
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
