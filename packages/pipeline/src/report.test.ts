import { describe, expect, it } from 'vitest';
import { accuracyTable, renderHtml, renderMarkdown, type MergeReport } from './report.js';

const report: MergeReport = {
  tool: 'zipit merge',
  inputs: [
    { name: 'a', file: 'a.onnx', fingerprint: 'f0', task: 'mnist:0-4' },
    { name: 'b', file: 'b.onnx', fingerprint: 'f1', task: 'mnist:5-9' },
  ],
  settings: {
    method: 'zipit',
    params: { alpha: 0.5, beta: 1 },
    stopAt: 'all',
    stopIndex: 2,
    resetBatchNorm: true,
    data: ['mnist:0-4:train', 'mnist:5-9:train'],
    samples: 512,
  },
  output: 'm.onnx',
  mergePoints: [
    { index: 0, name: 'layer1:stream', channels: 8, zipped: true, summary: { onlyFrom: [1, 2], acrossModels: 5, withinModel: [1, 0], groupSizes: [0, 3, 5] } },
  ],
  batchNorm: { reset: ['bn1', 'bn2'] },
  accuracy: [
    { model: 'a (input)', perTask: [0.98, null], joint: null, average: null },
    { model: 'merged (zipit)', perTask: [0.9, 0.6], joint: 0.57, average: 0.75 },
  ],
  tasks: ['a', 'b'],
  cost: [{ model: 'merged', parameters: 69405, flops: 2.5e7 }],
  seconds: { statistics: 1.2, matching: 0.02 },
};

describe('merge reports', () => {
  it('render the accuracy table, settings, merge points and costs in Markdown', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| merged (zipit) | 90.00 | 60.00 | 57.00 | 75.00 |');
    expect(md).toContain('| a (input) | 98.00 | — | — | — |');
    expect(md).toContain('| method | zipit (alpha = 0.5, beta = 1) |');
    expect(md).toContain('| BatchNorm reset | yes (2 layers) |');
    expect(md).toContain('| 0 | `layer1:stream` | 8 | yes | 1 | 2 | 5 | 1 / 0 |');
    expect(md).toContain('| merged | 69,405 | 25.00 M |');
    expect(md).not.toContain('## Barriers');
  });

  it('name the barriers that stopped zipping (issue 9 item 4)', () => {
    const network = {
      points: [],
      edges: [],
      heads: [],
      barriers: [{ node: '/custom/TopK', opType: 'TopK', reason: 'no propagation rule for operator TopK', after: 0 }],
    };
    const md = renderMarkdown({ ...report, network });
    expect(md).toContain('## Barriers');
    expect(md).toContain('| `/custom/TopK` | TopK | 0 | no propagation rule for operator TopK |');
  });

  it('render the same content as a standalone HTML page with escaped text', () => {
    const html = renderHtml({ ...report, output: 'a<b>.onnx' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<td>merged (zipit)</td><td>90.00</td>');
    expect(html).toContain('<code>a&lt;b&gt;.onnx</code>');
    expect(html).not.toContain('<b>.onnx');
  });

  it('align the terminal table', () => {
    const lines = accuracyTable(report).split('\n');
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
  });
});
