import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVgg } from '@zipit/arch-vgg';
import { GraphBuilder, type Graph } from '@zipit/core';
import { buildSmallCnn } from '@zipit/core/testing';
import { writeOnnxFile } from '@zipit/io-onnx/node';
import { runCliInProcess } from '../testing/run-cli.js';
import type { Inspection } from './inspect.js';

/** The CIFAR ResNet-20 of the reference, exported by torch.onnx.export (see packages/arch-resnet/fixtures/README.md). */
const RESNET20 = 'packages/arch-resnet/fixtures/resnet20_w0.25_bn_opset13.onnx';

async function save(graph: Graph, name: string): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'zipit-inspect-')), name);
  await writeOnnxFile(graph, file);
  return file;
}

/** The point rows of the text report: [index, name, channels, stop]. */
function pointRows(stdout: string): [number, string, number, string][] {
  return [...stdout.matchAll(/^ +(\d+) {2}(\S+) +(\d+) {2}(yes|no)$/gm)].map((m) => [Number(m[1]), m[2], Number(m[3]), m[4]]);
}

describe('zipit inspect', () => {
  it('lists the 12 merge points of a PyTorch-exported CIFAR ResNet-20: 9 inside blocks, 3 residual streams', async () => {
    const r = await runCliInProcess(['inspect', RESNET20]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^architecture: resnet \(resnet20\): ResNet-20/m);
    expect(r.stdout).toContain('merge graph: declared by the resnet plugin; the automatic derivation agrees');
    const rows = pointRows(r.stdout);
    expect(rows.map(([i]) => i)).toEqual([...Array(12).keys()]);
    expect(rows.filter(([, name]) => /^layer\d\.\d\.conv2:in$/.test(name))).toHaveLength(9);
    expect(rows.filter(([, name]) => /^layer\d:stream$/.test(name)).map(([, n, c, stop]) => [n, c, stop])).toEqual([
      ['layer1:stream', 4, 'yes'],
      ['layer2:stream', 8, 'yes'],
      ['layer3:stream', 16, 'yes'],
    ]);
    expect(r.stdout).toContain(
      '      producers: /layer1/layer1.0/conv1/Conv, /layer1/layer1.0/bn1/BatchNormalization\n      consumers: /layer1/layer1.0/conv2/Conv\n',
    );
    expect(r.stdout).toContain('residual stream joined by: /layer1/layer1.0/Add, /layer1/layer1.1/Add, /layer1/layer1.2/Add');
    expect(r.stdout).toContain('  linear: node /linear/Gemm, 10 classes, reads point 11 (layer3:stream), output logits');
  });

  it('lists one merge point per conv layer of a VGG-11, as text and as JSON', async () => {
    const file = await save(buildVgg({ variant: 'vgg11', width: 0.125, seed: 1 }), 'vgg11.onnx');
    const r = await runCliInProcess(['inspect', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^architecture: vgg \(vgg11-bn\): VGG-11 \(CIFAR layout\): 8 conv layers/m);
    expect(pointRows(r.stdout)).toEqual(
      [4, 8, 11, 15, 18, 22, 25]
        .map((i) => `features.${i}:in`)
        .concat('classifier:in')
        .map((n, i) => [i, n, [8, 16, 32, 32, 64, 64, 64, 64][i], 'yes']),
    );
    const j = await runCliInProcess(['inspect', file, '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as Inspection;
    expect(parsed.architecture).toMatchObject({ name: 'vgg', variant: 'vgg11-bn' });
    expect(parsed.declined.map((d) => d.architecture)).toEqual(['resnet']);
    expect(parsed.source).toBe('declared');
    expect(parsed.prepared).toBe(false);
    expect(parsed.differences).toEqual([]);
    expect(parsed.mergeGraph.points).toHaveLength(8);
    expect(parsed.mergeGraph.points[0].producers.map((p) => p.param)).toContain('features.1.running_var');
  });

  it('derives the merge graph of an unknown architecture, with each plugin’s reason, and explains barriers', async () => {
    const b = new GraphBuilder({ seed: 3 });
    let x = b.input('input', ['batch', 3, 8, 8]);
    x = b.relu(b.conv(x, 4, { name: 'conv1', pad: 1 }));
    x = b.node('LRN', [x], { name: 'lrn', attributes: { size: { type: 'int', value: 3 } }, shapes: [b.shape(x)] })[0];
    x = b.relu(b.conv(x, 4, { name: 'conv2', pad: 1 }));
    b.output(b.gemm(b.flatten(b.globalAveragePool(x)), 3, { name: 'fc' }), 'logits');
    const odd = await save(b.build(), 'lrn.onnx');
    const small = await save(buildSmallCnn({ seed: 1, width: 4, imageSize: 8 }), 'small.onnx');

    const r = await runCliInProcess(['inspect', small]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('architecture: unknown: derived automatically\n  resnet: ');
    expect(r.stdout).toMatch(/^ {2}vgg: a skip connection leaves MaxPool \/maxpool\/MaxPool/m);
    expect(pointRows(r.stdout).length).toBeGreaterThan(0);

    const u = await runCliInProcess(['inspect', odd]);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain('barriers (1; merging cannot pass these nodes');
    expect(u.stdout).toContain('node /lrn/LRN (LRN): no propagation rule for operator LRN; to merge through it: ');
    expect(pointRows(u.stdout).map(([, name]) => name)).toEqual(['fc:in']);
  });

  it('rejects a bad command line (exit 2) and a missing file (exit 1)', async () => {
    expect((await runCliInProcess(['inspect'])).code).toBe(2);
    const r = await runCliInProcess(['inspect', 'does-not-exist.onnx']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does-not-exist\.onnx/);
    expect(readFileSync(RESNET20).length).toBeGreaterThan(0);
  });
});
