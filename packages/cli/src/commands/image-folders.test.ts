import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, tensor } from '@zipit/core';
import { BUILTIN_DATASETS, preprocessBatch, readBuiltinImages, resolvePreprocessing } from '@zipit/data';
import { REPO_ROOT, runCliInProcess } from '../testing/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'zipit-folders-'));
const digits = join(dir, 'digits');
const PER_CLASS = 8;
const A = join(REPO_ROOT, 'fixtures/models/resnet20_mnist_0-4.onnx');
const B = join(REPO_ROOT, 'fixtures/models/resnet20_mnist_5-9.onnx');

/** The README's worked example, on a few images: digits written as PNG class folders, then merged and evaluated from them. */
beforeAll(async () => {
  for (const split of ['train', 'test']) {
    const r = await runCliInProcess(['export-images', `mnist:${split}`, '--out', join(digits, split), '--per-class', String(PER_CLASS), '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }
});

describe('image folders on the command line', () => {
  it('export-images writes one PNG folder per digit', () => {
    expect(readdirSync(join(digits, 'test'))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(readdirSync(join(digits, 'test', '5'))).toHaveLength(PER_CLASS);
  });

  it('eval on the PNG folder gives the accuracy of the same digits from the built-in dataset', async () => {
    // the same 5 × 8 test digits as an .npy pair, preprocessed by the built-in path
    const images: Uint8Array[] = [];
    const labels: number[] = [];
    const seen = [0, 0, 0, 0, 0];
    for await (const { image, label } of readBuiltinImages(BUILTIN_DATASETS.mnist, [0, 1, 2, 3, 4], 'test')) {
      if (seen[label]++ < PER_CLASS) {
        images.push(image);
        labels.push(label);
      }
      if (images.length === 5 * PER_CLASS) break;
    }
    const x = preprocessBatch(images, resolvePreprocessing({ size: 32, channels: 3 }, BUILTIN_DATASETS.mnist));
    writeFileSync(join(dir, 'x.npy'), encodeNpy(x));
    writeFileSync(join(dir, 'y.npy'), encodeNpy(tensor('int64', [labels.length], BigInt64Array.from(labels, BigInt))));
    const fromNpy = await runCliInProcess(['eval', A, '--task', `a=${join(dir, 'x.npy')}:${join(dir, 'y.npy')}`, '--json']);
    const fromPng = await runCliInProcess(['eval', A, '--task', `a=${join(digits, 'test')}:0-4`, '--preprocess', 'mnist', '--batch-size', '7', '--json']);
    expect(fromPng.stderr).toBe('');
    expect(JSON.parse(fromPng.stdout)).toEqual(JSON.parse(fromNpy.stdout));
    expect(JSON.parse(fromPng.stdout).samples.a).toBe(5 * PER_CLASS);
  });

  it('merge reads merge data and evaluation tasks from folders; zipit eval reproduces the report', async () => {
    const out = join(dir, 'merged.onnx');
    const report = join(dir, 'report.json');
    const r = await runCliInProcess([
      'merge',
      A,
      B,
      '--data',
      join(digits, 'train'),
      '--task',
      `a=${join(digits, 'test')}:0-4`,
      '--task',
      `b=${join(digits, 'test')}:5-9`,
      '--preprocess',
      'mnist',
      '--samples',
      '40',
      '--batch-size',
      '16',
      '--seed',
      '3',
      '--out',
      out,
      '--report',
      report,
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(report, 'utf8')));
    expect(rep.settings.samples).toBe(40);
    const merged = rep.accuracy.find((row: { model: string }) => row.model.startsWith('merged'));
    const e = await runCliInProcess([
      'eval',
      out,
      '--task',
      `a=${join(digits, 'test')}:0-4`,
      '--task',
      `b=${join(digits, 'test')}:5-9`,
      '--preprocess',
      'mnist',
      '--json',
    ]);
    expect(JSON.parse(e.stdout).perTask).toEqual({ a: merged.perTask[0], b: merged.perTask[1] });
  });

  it('refuses a folder without preprocessing, and a bad --preprocess, before reading anything', async () => {
    const none = await runCliInProcess(['eval', A, '--task', `a=${join(digits, 'test')}:0-4`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/is an image folder: .*--preprocess imagenet\|cifar\|mnist\|none/);
    const bad = await runCliInProcess(['eval', A, '--task', `a=${join(digits, 'test')}:0-4`, '--preprocess', 'vgg']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--preprocess must be one of imagenet, cifar, mnist, none/);
  });
});
