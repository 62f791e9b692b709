import { describe, expect, it } from 'vitest';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { zipitMatcher, type MergeGraph } from '@zipit/core';
import { loadReportAssets } from '../node/report-assets.js';
import { correlationView, networkView } from '../report-data.js';
import type { MergeReport } from '../report.js';
import type { SweepReport } from '../sweep-report.js';
import { mergeChartData } from './chart-data.js';
import { reportCharts } from './charts.js';
import { renderSweepHtml, renderVisualHtml } from './render.js';

/** Covariance of two models whose model 1 is model 0 with its channels permuted by `perm` (exact copies). */
function permutedPairCovariance(c: number, perm: readonly number[]): Float64Array {
  const base = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) base[i * c + j] = i === j ? 1 + i / c : 0.3 * Math.cos(i + 2 * j) * Math.cos(2 * i + j) * 0.2;
  for (let i = 0; i < c; i++) for (let j = 0; j < i; j++) base[i * c + j] = base[j * c + i];
  const n = 2 * c;
  const cov = new Float64Array(n * n);
  const src = (r: number) => (r < c ? r : perm[r - c]);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cov[i * n + j] = base[src(i) * c + src(j)];
  return cov;
}

const mergeGraph: MergeGraph = {
  points: [
    {
      index: 0,
      name: 'layer1.0.conv2:in',
      channels: 4,
      observe: { value: 'a', axis: 1 },
      values: [],
      producers: [],
      consumers: [],
      ties: [],
      stopPoint: true,
      producerNodes: ['conv1'],
      consumerNodes: ['conv2'],
    },
    {
      index: 1,
      name: 'layer1:stream',
      channels: 4,
      observe: { value: 'b', axis: 1 },
      values: [],
      producers: [],
      consumers: [],
      ties: [{ node: 'add', values: [] }],
      stopPoint: true,
      producerNodes: ['conv0', 'conv2'],
      consumerNodes: ['conv1', 'fc'],
    },
  ],
  heads: [{ name: 'fc', node: 'fc', outputs: ['logits'], classes: 5, input: 1 }],
  barriers: [{ node: 'weird', opType: 'TopK', reason: 'no rule', hint: '' }],
};

function sampleReport(): MergeReport {
  const perm = [2, 0, 3, 1];
  const match = zipitMatcher.match(permutedPairCovariance(4, perm), 2, { alpha: 0.5, beta: 1 });
  const correlation = correlationView(permutedPairCovariance(4, perm), match.unmerge, 4, 2);
  const summary = { onlyFrom: [0, 0], acrossModels: 4, withinModel: [0, 0], groupSizes: [0, 0, 4] };
  return {
    tool: 'zipit merge',
    inputs: [
      { name: 'a', file: 'a.onnx', fingerprint: 'f0', task: 'mnist:0-4' },
      { name: 'b', file: 'b.onnx', fingerprint: 'f1', task: 'mnist:5-9' },
    ],
    settings: { method: 'zipit', params: { alpha: 0.5, beta: 1 }, stopAt: 'all', stopIndex: 1, resetBatchNorm: true, data: ['mnist:0-4:train'], samples: 512 },
    output: 'm.onnx',
    mergePoints: [
      { index: 0, name: 'layer1.0.conv2:in', channels: 4, zipped: true, summary, correlation },
      { index: 1, name: 'layer1:stream', channels: 4, zipped: true, summary, correlation },
    ],
    network: networkView(mergeGraph, ['conv0', 'conv1', 'weird', 'conv2', 'add', 'fc']),
    batchNorm: { reset: ['bn1'] },
    accuracy: [
      { model: 'a (input)', perTask: [0.98, null], joint: null, average: null },
      { model: 'b (input)', perTask: [null, 0.99], joint: null, average: null },
      { model: 'ensemble', perTask: [0.98, 0.99], joint: 0.94, average: 0.985 },
      { model: 'merged (zipit)', perTask: [0.9, 0.6], joint: 0.57, average: 0.75 },
    ],
    tasks: ['a', 'b'],
    cost: [
      { model: 'a', parameters: 1000, flops: 2e6 },
      { model: 'b', parameters: 1000, flops: 2e6 },
      { model: 'ensemble', parameters: 2000, flops: 4e6 },
      { model: 'merged', parameters: 1100, flops: 2.1e6 },
    ],
    seconds: { statistics: 1 },
  };
}

/** Renders a Vega-Lite spec to SVG in Node (vega's headless renderer): what the page draws, without a browser. */
async function toSvg(spec: TopLevelSpec): Promise<{ svg: string; warnings: string[] }> {
  const warnings: string[] = [];
  const logger = {
    ...vega.logger(vega.Warn),
    warn: (...m: unknown[]) => {
      warnings.push(m.join(' '));
      return logger;
    },
    error: (...m: unknown[]) => {
      warnings.push(m.join(' '));
      return logger;
    },
  };
  const compiled = compile(spec, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: logger as never });
  const svg = await view.toSVG();
  view.finalize();
  return { svg, warnings };
}

describe('correlation views', () => {
  it('put the matched copies of a permuted model side by side: every merged pair is perfectly correlated after matching', () => {
    const perm = [2, 0, 3, 1];
    const cov = permutedPairCovariance(4, perm);
    const match = zipitMatcher.match(cov, 2, { alpha: 0.5, beta: 1 });
    const v = correlationView(cov, match.unmerge, 4, 2);
    expect(v.side).toBe(8);
    expect(v.groupStarts).toEqual([0, 2, 4, 6]);
    for (let g = 0; g < 4; g++)
      for (const [i, j] of [
        [0, 1],
        [1, 0],
      ])
        expect(v.after[(2 * g + i) * 8 + 2 * g + j]).toBe(100);
    // Before matching, model 0's channel i meets its copy at model 1's position perm⁻¹(i).
    for (let i = 0; i < 4; i++) expect(v.before[i * 8 + 4 + perm.indexOf(i)]).toBe(100);
    for (let i = 0; i < 8; i++) expect(v.before[i * 9]).toBe(100);
  });

  it('bin large matrices into block means of at most maxSide per side', () => {
    const n = 12;
    const cov = new Float64Array(n * n);
    for (let i = 0; i < n; i++) cov[i * n + i] = 1;
    const unmerge = new Float32Array(n * 6);
    for (let r = 0; r < n; r++) unmerge[r * 6 + (r % 6)] = 1;
    const v = correlationView(cov, unmerge, 6, 2, 4);
    expect(v.side).toBe(4);
    expect(v.before).toHaveLength(16);
    expect(v.before[0]).toBe(Math.round(100 / 3));
    expect(v.before[1]).toBe(0);
  });
});

describe('network views', () => {
  it('join points through the layers between them and place barriers in graph order', () => {
    const net = networkView(mergeGraph, ['conv0', 'conv1', 'weird', 'conv2', 'add', 'fc']);
    expect(net.edges).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(net.points.map((p) => p.residual)).toEqual([false, true]);
    expect(net.barriers).toEqual([{ node: 'weird', opType: 'TopK', reason: 'no rule', after: 1 }]);
  });
});

describe('visual HTML reports', () => {
  it('compile and render every chart headlessly without warnings', async () => {
    const charts = reportCharts(mergeChartData(sampleReport()), ['a', 'b']);
    expect(charts.map((c) => c.id)).toEqual(['accuracy', 'cost', 'composition', 'network', 'correlation']);
    for (const c of charts) {
      const { svg, warnings } = await toSvg(c.spec).catch((e: Error) => Promise.reject(new Error(`${c.id}: ${e.message}`)));
      expect(warnings, `${c.id}: ${warnings.join(' | ')}`).toEqual([]);
      expect(svg.startsWith('<svg'), c.id).toBe(true);
    }
    const heat = await toSvg(charts.find((c) => c.id === 'correlation')!.spec);
    // Two 8 × 8 heatmaps of the selected point, one cell per correlation.
    expect(heat.svg.match(/aria-roledescription="rect mark"/g)).toHaveLength(128);
  });

  it('are one self-contained page: the report JSON, the chart specs and the chart libraries inline, nothing fetched', async () => {
    const report = sampleReport();
    const html = renderVisualHtml(report, await loadReportAssets());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    const json = (id: string) => JSON.parse(html.match(new RegExp(`<script type="application/json" id="${id}">([^<]*)</script>`))![1]);
    expect(json('zipit-report')).toEqual(report);
    expect(json('zipit-charts').map((c: { id: string }) => c.id)).toEqual(['accuracy', 'cost', 'composition', 'network', 'correlation']);
    expect(html).toContain('<td>merged (zipit)</td><td>90.00</td>');
    expect(html).toMatch(/vegaEmbed\('#chart-'/);
    // Every inline script closes where it should (none holds a stray `</script`): 3 libraries, boot, 2 JSON blocks.
    expect(html.match(/<\/script>/gi)!.length).toBe(6);
    // Outside the scripts' text nothing loads anything: no script src, stylesheet, font, image or frame.
    const markup = html.replace(/(<script\b[^>]*>)[\s\S]*?<\/script>/gi, '$1</script>');
    expect(markup.match(/<script\b/gi)).toHaveLength(6);
    expect(markup).not.toMatch(/<script[^>]*\bsrc=/i);
    expect(markup).not.toMatch(/<(link|img|iframe|object|embed|audio|video|source)\b/i);
    expect(markup).not.toMatch(/@import|url\(|https?:|\b(src|href)=/i);
  });

  it('of a sweep show every configuration along the stop points', async () => {
    const base = sampleReport();
    const row = (method: string, stop: string, stopIndex: number, joint: number) => ({
      method,
      alpha: method === 'zipit' ? 0.5 : null,
      beta: method === 'zipit' ? 1 : null,
      stop,
      stopIndex,
      perTask: { a: joint, b: joint },
      joint,
      average: joint,
      parameters: 1100,
      flops: 2e6,
    });
    const sweep: SweepReport = {
      tool: 'zipit sweep',
      inputs: base.inputs,
      tasks: base.tasks,
      rows: [row('zipit', 'none', -1, 0.94), row('zipit', 'layer1:stream', 1, 0.6), row('permute', 'layer1:stream', 1, 0.5)],
      baselines: base.accuracy.slice(0, 3),
      cost: base.cost.slice(0, 3),
      best: 1,
      mergePoints: base.mergePoints,
      network: base.network!,
      settings: { data: ['mnist:0-4:train'], samples: 512, resetBatchNorm: true, stats: 'ab.zstats' },
    };
    const html = renderSweepHtml(sweep, await loadReportAssets());
    const charts = JSON.parse(html.match(/<script type="application\/json" id="zipit-charts">([^<]*)<\/script>/)![1]);
    const acc = charts.find((c: { id: string }) => c.id === 'accuracy').spec.data.values as { config: string }[];
    expect(new Set(acc.map((a) => a.config))).toEqual(new Set(['zipit α=0.5 β=1', 'permute', 'input a', 'input b', 'ensemble']));
    expect(html).toContain('<td>permute</td>');
  });
});
