import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { matchCommand } from './match.js';

/** Every subcommand, in the order `zipit --help` lists them. */
export const commands: Command[] = [convertCommand, matchCommand];
