import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { demoCommand } from './demo.js';
import { matchCommand } from './match.js';
import { mergeCommand } from './merge.js';
import { evalCommand } from './eval.js';
import { exportImagesCommand } from './export-images.js';
import { inspectCommand } from './inspect.js';
import { statsCommand } from './stats.js';
import { sweepCommand } from './sweep.js';

/** Every subcommand, in the order `zipit --help` lists them. */
export const commands: Command[] = [mergeCommand, demoCommand, evalCommand, statsCommand, sweepCommand, inspectCommand, matchCommand, convertCommand, exportImagesCommand];
