import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCliInProcess } from '../testing/run-cli.js';

/**
 * `zipit merge --stop-at auto` on the fixture ResNet-20 pair (MNIST 0–4 / 5–9, BatchNorm folded,
 * so every candidate gets REPAIR): the report carries the curve — one row per stop point with
 * its score and FLOPs — and the choice follows the rule (deepest within --max-drop).
 */
const dir = mkdtempSync(join(tmpdir(), 'zipit-auto-stop-'));
const models = ['resnet20_mnist_0-4.onnx', 'resnet20_mnist_5-9.onnx'].map((f) => join(REPO_ROOT, 'fixtures/models', f));

describe('zipit merge --stop-at auto', () => {
  it('scores every stop point on held-out labelled merge images and zips as deep as --max-drop allows', async () => {
    const out = join(dir, 'auto.onnx');
    const report = join(dir, 'auto.json');
    const r = await runCliInProcess([
      'merge',
      ...models,
      '--data',
      'mnist:0-4',
      '--data',
      'mnist:5-9',
      '--samples',
      '64',
      '--stop-at',
      'auto',
      '--max-drop',
      '25',
      '--holdout',
      '64',
      '--no-eval',
      '--out',
      out,
      '--report',
      report,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    const auto = rep.autoStop;
    expect(auto.metric).toBe('joint accuracy');
    expect(auto.maxDrop).toBe(0.25);
    expect(auto.curve[0]).toMatchObject({ index: -1, name: 'none', score: auto.reference, within: true });
    expect(auto.curve.length).toBeGreaterThan(2);
    for (const c of auto.curve) expect(c.within).toBe(c.score >= auto.reference - 0.25 - 1e-12);
    expect(auto.chosen).toBe([...auto.curve].reverse().find((c: { within: boolean }) => c.within).name);
    // FLOPs fall as more is shared.
    for (let i = 1; i < auto.curve.length; i++) expect(auto.curve[i].flops).toBeLessThan(auto.curve[i - 1].flops + 1);
    expect(rep.settings.stopIndex).toBe(auto.curve.find((c: { name: string }) => c.name === auto.chosen).index);
    expect(r.stdout).toContain(`→ stop at ${auto.chosen}`);
  }, 120_000);

  it('refuses --max-drop without --stop-at auto', async () => {
    const r = await runCliInProcess(['merge', ...models, '--data', 'mnist', '--max-drop', '5', '--out', join(dir, 'x.onnx')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--stop-at auto');
  });
});
