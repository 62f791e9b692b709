import { FormatError } from '../errors.js';
import { crc32 } from '../io/crc32.js';
import { FeatureStats, type StatsSpace } from './feature-stats.js';

/**
 * The statistics file (`.zstats`), version 2. Little-endian throughout:
 *
 *   offset 0   8 bytes  magic "ZIPSTATS"
 *   offset 8   u32      format version (2)
 *   offset 12  u32      header length H in bytes
 *   offset 16  H bytes  UTF-8 JSON header:
 *                       { "models": [names], "spaces": [{ "name", "channels", "count" }], "meta": {…} }
 *   then zero padding to a multiple of 8 bytes, then for each space in header order:
 *              float64[n·n] Σxxᵀ (row-major), float64[n] Σx, with n = models × channels;
 *   last       u32      CRC-32 (IEEE) of every byte before it.
 *
 * The checksum makes a damaged file (flipped bits, a bad copy) an error instead of silently
 * another merge. Version 1 files (no checksum) are refused with a hint to recompute them:
 * statistics are cheap to recompute, and a merge from unverifiable ones is not reproducible.
 *
 * `meta` is free-form provenance (e.g. fingerprints of the models the statistics came from),
 * which callers use to refuse statistics computed for other models.
 */
export const STATS_MAGIC = 'ZIPSTATS';
export const STATS_VERSION = 2;

export interface StatsFileHeader {
  models: string[];
  spaces: (StatsSpace & { count: number })[];
  meta: Record<string, unknown>;
}

export function encodeStats(stats: FeatureStats, meta: Record<string, unknown> = {}): Uint8Array {
  const header: StatsFileHeader = {
    models: [...stats.models],
    spaces: stats.spaces.map((s, i) => ({ name: s.name, channels: s.channels, count: stats.count(i) })),
    meta,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align8(16 + json.length);
  let total = dataStart + 4;
  for (let i = 0; i < stats.spaces.length; i++) {
    const n = stats.size(i);
    total += 8 * (n * n + n);
  }
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(STATS_MAGIC), 0);
  view.setUint32(8, STATS_VERSION, true);
  view.setUint32(12, json.length, true);
  bytes.set(json, 16);
  let off = dataStart;
  for (let i = 0; i < stats.spaces.length; i++) {
    const { gram, sum } = stats.raw(i);
    for (const arr of [gram, sum]) {
      for (let k = 0; k < arr.length; k++, off += 8) view.setFloat64(off, arr[k], true);
    }
  }
  view.setUint32(off, crc32(bytes.subarray(0, off)), true);
  return bytes;
}

/** Reads only the header (cheap; for compatibility checks before loading megabytes). */
export function decodeStatsHeader(bytes: Uint8Array, file?: string): StatsFileHeader & { dataStart: number } {
  const fail = (msg: string): never => {
    throw new FormatError(msg, { file, hint: 'recompute it with `zipit stats`' });
  };
  checkPrefix(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = view.getUint32(12, true);
  if (16 + len > bytes.length) fail('truncated statistics file (header)');
  let header: StatsFileHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(16, 16 + len))) as StatsFileHeader;
  } catch {
    return fail('corrupt statistics header');
  }
  const ok =
    header &&
    Array.isArray(header.models) &&
    header.models.every((m) => typeof m === 'string') &&
    Array.isArray(header.spaces) &&
    header.spaces.every((s) => s && typeof s.name === 'string' && Number.isInteger(s.channels) && s.channels > 0 && Number.isInteger(s.count) && s.count >= 0);
  if (!ok) fail('corrupt statistics header');
  return { models: header.models, spaces: header.spaces, meta: header.meta ?? {}, dataStart: align8(16 + len) };
}

/** Decodes a whole statistics file; the checksum is verified before anything else is trusted. */
export function decodeStats(bytes: Uint8Array, file?: string): { stats: FeatureStats; meta: Record<string, unknown> } {
  checkPrefix(bytes, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 20 || view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) {
    throw new FormatError('statistics file is corrupt (checksum mismatch)', { file, hint: 'it was damaged or truncated; recompute it with `zipit stats`' });
  }
  const header = decodeStatsHeader(bytes, file);
  const m = header.models.length;
  let off = header.dataStart;
  const need = header.spaces.reduce((t, s) => t + 8 * ((m * s.channels) ** 2 + m * s.channels), off) + 4;
  if (need !== bytes.length) {
    throw new FormatError(`statistics file has ${bytes.length} bytes, its header describes ${need}`, {
      file,
      hint: 'the file is truncated or corrupt; recompute it with `zipit stats`',
    });
  }
  const raw = header.spaces.map((s) => {
    const n = m * s.channels;
    const gram = new Float64Array(n * n);
    const sum = new Float64Array(n);
    for (const arr of [gram, sum]) {
      for (let k = 0; k < arr.length; k++, off += 8) arr[k] = view.getFloat64(off, true);
    }
    return { gram, sum, count: s.count };
  });
  const spaces = header.spaces.map((s) => ({ name: s.name, channels: s.channels }));
  return { stats: FeatureStats.fromRaw(header.models, spaces, raw), meta: header.meta };
}

/** Magic and version: what kind of file this is, before anything else is read. */
function checkPrefix(bytes: Uint8Array, file: string | undefined): void {
  const fail = (msg: string): never => {
    throw new FormatError(msg, { file, hint: 'recompute it with `zipit stats`' });
  };
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== STATS_MAGIC) {
    fail('not a zipit statistics file (bad magic)');
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (version === 1) fail('statistics file version 1 has no checksum and is no longer read');
  if (version !== STATS_VERSION) fail(`statistics file version ${version} is not supported (this zipit reads version ${STATS_VERSION})`);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
