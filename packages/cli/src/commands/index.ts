import type { Command } from '../command.js';

/** Every subcommand, in the order `zipit --help` lists them. */
export const commands: Command[] = [];
