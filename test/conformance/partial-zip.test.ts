import { beforeAll, describe, expect, it } from 'vitest';
import { zipGraphs, type Graph, type MergeGraph, type PointTransform, type StopAt } from '@zipit/core';
import { readOnnx, writeOnnx } from '@zipit/io-onnx';
import { CASES, data, images, IMAGES, match, model, run, statistics } from './harness.js';

/**
 * (d) Stopping before the first merge point reproduces the ensemble of two different models bit
 * for bit; (e) zipping up to every stop point (and `all`) gives one ONNX file that survives
 * writeOnnx → readOnnx and runs in onnxruntime with one output per model of that model's shape.
 * The two models are different random inits with different class counts (10 and 6).
 */
describe.each(CASES)('conformance (d, e): $title', (c) => {
  const feeds = images(c);
  let a: Graph;
  let b: Graph;
  let mg: MergeGraph;
  beforeAll(async () => {
    a = await model(c, 1, 10);
    b = await model(c, 2, 6);
    mg = c.arch.mergeGraph(a);
  });

  it('(d) stop before the first point reproduces the ensemble exactly', async () => {
    const [ra, rb] = [await run(a, feeds), await run(b, feeds)];
    const { graph } = zipGraphs([a, b], { mergeGraph: mg, transforms: [], stopAt: 'none', modelNames: ['A', 'B'] });
    const out = await run(graph, feeds);
    expect(data(out, 'A:logits')).toEqual(data(ra, 'logits'));
    expect(data(out, 'B:logits')).toEqual(data(rb, 'logits'));
  });

  it('(e) every stop point exports one ONNX file that onnxruntime runs, with one output per model', async () => {
    const stats = await statistics([a, b], mg, feeds);
    const transforms: PointTransform[] = match(stats, mg, 2, 'zipit');
    const stops: StopAt[] = [...mg.points.filter((p) => p.stopPoint).map((p) => p.index), 'all'];
    expect(stops.length).toBeGreaterThan(1);
    for (const stopAt of stops) {
      const { graph } = zipGraphs([a, b], { mergeGraph: mg, transforms, stopAt });
      const exported = readOnnx(writeOnnx(graph));
      expect(exported.outputs.map((o) => o.name)).toEqual(['model0:logits', 'model1:logits']);
      const out = await run(exported, feeds);
      expect(Object.keys(out).sort(), String(stopAt)).toEqual(['model0:logits', 'model1:logits']);
      expect(out['model0:logits'].shape, String(stopAt)).toEqual([IMAGES, 10]);
      expect(out['model1:logits'].shape, String(stopAt)).toEqual([IMAGES, 6]);
      for (const k of [0, 1]) expect(data(out, `model${k}:logits`).every(Number.isFinite), String(stopAt)).toBe(true);
    }
  });
});
