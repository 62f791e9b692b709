import type { Command } from '../command.js';

/**
 * A subcommand as `zipit --help` lists it. Its module — and what that imports: onnxruntime,
 * sharp, the pipeline — loads only when the command runs or prints its own help, so the
 * command list costs no more than starting Node. `summary` repeats the module's own (a test
 * keeps the two equal).
 */
export interface CommandEntry {
  name: string;
  /** One line for the command list. */
  summary: string;
  load(): Promise<Command>;
}

/** Every subcommand, in the order `zipit --help` lists them. */
export const commands: readonly CommandEntry[] = [
  {
    name: 'merge',
    summary: 'merge models trained on different tasks into one ONNX model (the main job)',
    load: async () => (await import('./merge.js')).mergeCommand,
  },
  {
    name: 'demo',
    summary: 'merge the shipped fixture models with every method and print the comparison table',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  {
    name: 'eval',
    summary: 'per-task, joint and average accuracy of a model with one output per task',
    load: async () => (await import('./eval.js')).evalCommand,
  },
  {
    name: 'stats',
    summary: 'compute and save feature statistics of models (for merge --stats-in and sweep)',
    load: async () => (await import('./stats.js')).statsCommand,
  },
  {
    name: 'sweep',
    summary: 'grid over methods, alpha, beta and stop points from saved statistics, one table',
    load: async () => (await import('./sweep.js')).sweepCommand,
  },
  {
    name: 'inspect',
    summary: "show a model's architecture, merge points (in depth order, with stop points) and task heads",
    load: async () => (await import('./inspect.js')).inspectCommand,
  },
  {
    name: 'match',
    summary: 'match features from a covariance matrix (.npy) and write merge/unmerge matrices',
    load: async () => (await import('./match.js')).matchCommand,
  },
  {
    name: 'convert',
    summary: 'read a model and write it in another (or the same) format: ONNX, safetensors',
    load: async () => (await import('./convert.js')).convertCommand,
  },
  {
    name: 'export-images',
    summary: 'write images of a built-in dataset as an image folder (one subfolder per class)',
    load: async () => (await import('./export-images.js')).exportImagesCommand,
  },
];
