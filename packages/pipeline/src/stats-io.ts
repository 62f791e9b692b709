import { decodeStats, encodeStats, FeatureStats, MismatchError, type MergeGraph } from '@zipit/core';
import { modelFingerprints, type ModelInput } from './merge-models.js';

/** Statistics file bytes, recording the fingerprints of the models they belong to. */
export function encodeModelStats(stats: FeatureStats, models: readonly ModelInput[]): Uint8Array {
  return encodeStats(stats, { fingerprints: modelFingerprints(models), files: models.map((m) => m.file) });
}

/**
 * Reads statistics saved by `encodeModelStats` and checks they were computed for exactly these
 * models (same parameters, same order) and merge points; a MismatchError naming the file
 * otherwise.
 */
export function decodeModelStats(bytes: Uint8Array, file: string, models: readonly ModelInput[], mergeGraph: MergeGraph): FeatureStats {
  const { stats, meta } = decodeStats(bytes, file);
  const want = modelFingerprints(models);
  const got = Array.isArray(meta.fingerprints) ? (meta.fingerprints as string[]) : [];
  const k = want.findIndex((f, i) => got[i] !== f);
  if (got.length !== want.length || k >= 0) {
    const which = k >= 0 ? `model ${models[k].file} differs` : `they were computed for ${got.length} models`;
    throw new MismatchError(`statistics were computed for other models (${which})`, { file, hint: 'recompute them with `zipit stats` for these models' });
  }
  const spaces = mergeGraph.points.map((p) => ({ name: p.name, channels: p.channels }));
  try {
    stats.assertCompatible(stats.models, spaces, 'the statistics');
  } catch (e) {
    throw new MismatchError((e as Error).message, { file, hint: 'recompute them with `zipit stats` for these models' });
  }
  // Same parameters, maybe other file names: label the statistics with the current model names.
  return FeatureStats.fromRaw(
    models.map((m) => m.name),
    spaces,
    spaces.map((_, i) => stats.raw(i)),
  );
}
