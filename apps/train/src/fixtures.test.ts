import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDataset } from '@zipit/data';
import { argmaxRows, evaluateModel } from '@zipit/pipeline';
import { ortExecutor as executor } from '@zipit/runtime-ort';
import { readOnnxFile } from '@zipit/io-onnx/node';
import { FIXTURES } from './fixtures.js';
import type { Manifest } from './provenance.js';

/** The committed fixture models (fixtures/models) against what `pnpm train` recorded; nothing is retrained. */
const DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/models');
const manifest = JSON.parse(await readFile(join(DIR, 'manifest.json'), 'utf8')) as Manifest;

describe('fixture models', () => {
  it('every configured fixture is in the manifest, together under 20 MB', () => {
    expect(manifest.models.map((m) => m.name)).toEqual(FIXTURES.map((f) => f.name));
    expect(manifest.models.reduce((n, m) => n + m.bytes, 0)).toBeLessThan(20 * 2 ** 20);
  });

  it('pairs share architecture and width, use different seeds and disjoint classes', () => {
    for (const arch of ['resnet20', 'vgg11'] as const) {
      const pair = manifest.models.filter((m) => m.arch === arch);
      expect(pair).toHaveLength(2);
      expect(pair[0].width).toBe(pair[1].width);
      expect(pair[0].seed).not.toBe(pair[1].seed);
      expect(pair[0].classes.filter((c) => pair[1].classes.includes(c))).toEqual([]);
    }
  });

  it.each(manifest.models.map((m) => [m.name, m] as const))(
    '%s: the file is the one recorded, BatchNorm kept, and reaches the recorded test accuracy in onnxruntime',
    async (_, entry) => {
      const bytes = await readFile(join(DIR, entry.file));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.sha256);
      const graph = await readOnnxFile(join(DIR, entry.file));
      expect(graph.opsetImports.find((o) => o.domain === '')?.version).toBe(13);
      const convs = graph.nodes.filter((n) => n.opType === 'Conv').length;
      expect(graph.nodes.filter((n) => n.opType === 'BatchNormalization').length).toBe(convs);
      expect(graph.metadata).toContainEqual(['zipit.task', entry.data]);
      const test = await openDataset(`${entry.data}:test`, { defaultSplit: 'test', input: graph.inputs[0] });
      let correct = 0;
      const evaluation = await evaluateModel(graph, test.batches({ batchSize: 512 }), {
        executor,
        keepLogits: false,
        onBatch: ({ logits, labels }) => {
          argmaxRows(logits[0]).forEach((p, i) => {
            if (BigInt(p) === labels![i]) correct++;
          });
        },
      });
      expect(evaluation.samples).toBe(entry.testSamples);
      expect(Math.abs(correct / evaluation.samples - entry.testAccuracy)).toBeLessThanOrEqual(0.002);
    },
  );
});
