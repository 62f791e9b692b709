import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { encodeNpy } from '@zipit/core';
import { runZipit } from '@zipit/cli';

/**
 * Shared pieces of the generated bad-input suite: a work folder with tiny inputs (two copies of
 * a 1,587-parameter CNN, 16 images, a 64×64 covariance, statistics), an in-process runner of
 * `zipit`, and the README's promises as one assertion (`expectContract`).
 */

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps what is written, or fails every write with `failWith` (EPIPE, ENOSPC). */
export function sink(failWith?: string): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      if (failWith) {
        const e = Object.assign(new Error(`write ${failWith}`), { code: failWith });
        done(e);
        return;
      }
      chunks.push(String(chunk));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs `zipit <args>` in this process (same code path as the executable, minus process start-up). */
export async function zipit(args: string[], opts: { signal?: AbortSignal; stdoutFails?: string } = {}): Promise<Result> {
  const out = sink(opts.stdoutFails);
  const err = sink();
  const code = await runZipit(args, { stdout: out.stream, stderr: err.stream, stderrIsTTY: false, signal: opts.signal });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** The tiny inputs every case starts from, in a fresh folder. */
export interface Work {
  dir: string;
  a: string;
  b: string;
  x: string;
  y: string;
  cov: string;
  stats: string;
}

export function makeWork(statsBytes?: Uint8Array): Work {
  const dir = mkdtempSync(join(tmpdir(), 'zipit-rel-'));
  const model = join(REPO, 'packages', 'io-onnx', 'fixtures', 'cnn_bn_opset17.onnx'); // input [batch, 3, 8, 8], 5 classes
  const w: Work = {
    dir,
    a: join(dir, 'a.onnx'),
    b: join(dir, 'b.onnx'),
    x: join(dir, 'x.npy'),
    y: join(dir, 'y.npy'),
    cov: join(dir, 'cov.npy'),
    stats: join(dir, 's.zstats'),
  };
  copyFileSync(model, w.a);
  copyFileSync(model, w.b);
  const n = 16;
  writeFileSync(w.x, encodeNpy({ dtype: 'float32', shape: [n, 3, 8, 8], data: Float32Array.from({ length: n * 192 }, (_, i) => Math.sin(i * 0.37)) }));
  writeFileSync(w.y, encodeNpy({ dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 5)) }));
  copyFileSync(join(REPO, 'fixtures', 'examples', 'cov_resnet20_m2_c32.npy'), w.cov);
  if (statsBytes) writeFileSync(w.stats, statsBytes);
  mkdirSync(join(dir, 'sub'));
  return w;
}

/** Every file under `dir` (recursively, hidden temporaries included) with its bytes. */
export function snapshot(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.set(relative(dir, p), readFileSync(p));
      else if (e.isSymbolicLink()) files.set(relative(dir, p), Buffer.from(`-> link`));
    }
  };
  walk(dir);
  return files;
}

/** `p` spelled relative to the current folder, starting with `./` (the in-process runner resolves against it). */
export function dotSlash(p: string): string {
  return './' + relative(process.cwd(), p);
}

/**
 * The README's promises for one run: an exit code from the contract (never 3, the internal
 * error), on failure exactly one stderr line and no stack trace, inputs byte-identical, and on
 * failure no file created or changed at all (no partial output, no temporary left behind); on
 * success only `outputs` may be new or changed.
 */
export function expectContract(r: Result, before: Map<string, Buffer>, dir: string, opts: { outputs?: string[]; codes?: number[]; label: string }): void {
  const { label } = opts;
  const codes = opts.codes ?? [0, 1, 2, 130];
  expect(codes, `${label}: exit ${r.code}, stderr: ${r.stderr}`).toContain(r.code);
  expect(r.stderr, `${label}: stack trace`).not.toMatch(/\n\s+at |\bat .*\.ts:\d+/);
  if (r.code !== 0) {
    const lines = r.stderr.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    expect(lines, `${label}: stderr must be one line, got ${JSON.stringify(r.stderr)}`).toHaveLength(1);
  }
  const after = snapshot(dir);
  const allowed = new Set((opts.outputs ?? []).map((p) => relative(dir, resolve(p))));
  for (const [name, bytes] of before) {
    if (r.code === 0 && allowed.has(name)) continue;
    const now = after.get(name);
    expect(now !== undefined, `${label}: ${name} disappeared`).toBe(true);
    expect(Buffer.compare(now!, bytes) === 0, `${label}: ${name} changed`).toBe(true);
  }
  for (const name of after.keys()) {
    if (before.has(name)) continue;
    expect(r.code === 0 && allowed.has(name), `${label}: unexpected file ${name} after exit ${r.code}`).toBe(true);
  }
}

/** Size of a file, for messages. */
export function size(p: string): number {
  return statSync(p).size;
}
