import type { MatcherParams, StopAt } from '@zipit/core';
import type { PresetName } from '../../../packages/data/src/image-preprocess.js';
import { npySource, subsetSource } from './datasets.js';
import { imagesSource, type PickedImage } from './images.js';
import type { BrowserMergeResult, TaskData } from './merge.js';

/**
 * One model's task as the page hands it to the worker: a built-in subset task, an .npy of merge
 * data, or picked image files (File objects: the worker decodes them) with a preprocessing preset.
 */
export type JobTask =
  | { kind: 'subset'; spec: string; mean: number; std: number; train: { bytes: Uint8Array; count: number }; test: { bytes: Uint8Array; count: number } }
  | { kind: 'npy'; file: string; bytes: Uint8Array }
  | { kind: 'images'; name: string; images: PickedImage[]; preset: PresetName };

/** Everything a merge needs, as structured-cloneable data (posted to the worker). */
export interface MergeJob {
  models: { file: string; bytes: Uint8Array }[];
  tasks: JobTask[];
  method: string;
  params: MatcherParams;
  stopAt: StopAt;
  samples: number;
  resetBatchNorm: boolean;
  refit: boolean;
}

/** What the worker posts back. */
export type WorkerMessage =
  | { type: 'status'; text: string; fraction?: number }
  | { type: 'done'; result: Omit<BrowserMergeResult, 'report'> & { report: BrowserMergeResult['report'] } }
  | { type: 'error'; message: string };

/** The merge's view of a job task: batch sources in the model's input layout. */
export function taskData(t: JobTask): TaskData {
  if (t.kind === 'npy') return { spec: t.file, train: (input) => npySource(t.bytes, t.file, input) };
  if (t.kind === 'images') return { spec: t.name, train: (input) => imagesSource(t.images, t.name, { preset: t.preset }, input) };
  const split = (s: { bytes: Uint8Array; count: number }) => (input: Parameters<typeof subsetSource>[1]) =>
    subsetSource({ spec: t.spec, bytes: s.bytes, count: s.count, mean: t.mean, std: t.std }, input);
  return { spec: t.spec, train: split(t.train), test: split(t.test) };
}
