import { extname } from 'node:path';
import { InvalidArgumentError, modelCost, type MergeGraph } from '@zipit/core';
import type { Dataset } from '@zipit/data';
import {
  accuracyRow,
  costRow,
  ensembleGraph,
  evaluateTasks,
  modelFingerprints,
  networkView,
  renderSweepHtml,
  renderSweepMarkdown,
  type MergeModelsResult,
  type MergeReport,
  type ModelInput,
  type SweepReport,
  type SweepRow,
} from '@zipit/pipeline';
import { loadReportAssets } from '@zipit/pipeline/node';
import { executor } from '../plugins.js';
import { labelled, taskOutputs } from '../load.js';

/** The report format of `--report FILE` (its extension), checked before any work. */
export function sweepReportFormat(path: string | undefined): '.json' | '.md' | '.html' | null {
  if (path === undefined) return null;
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.md' && ext !== '.html') throw new InvalidArgumentError(`--report must end in .json, .md or .html, got ${path}`);
  return ext;
}

/**
 * Collects a sweep's merges for its report: every row with the merged model's cost, and the
 * merge points of the best configuration by joint accuracy among those that zip something (the
 * first one on ties; `none` reproduces the ensemble and has no merge points to show).
 */
export class SweepReportBuilder {
  readonly rows: SweepRow[] = [];
  private best = -1;
  private bestPoints: MergeReport['mergePoints'] = [];

  add(row: Omit<SweepRow, 'parameters' | 'flops'>, result: MergeModelsResult): void {
    const cost = modelCost(result.graph);
    this.rows.push({ ...row, parameters: cost.parameters, flops: cost.flops });
    const current = this.best >= 0 ? this.rows[this.best] : undefined;
    const zips = row.stopIndex >= 0;
    if (current && !(zips && (current.stopIndex < 0 || row.joint > current.joint))) return;
    this.best = this.rows.length - 1;
    this.bestPoints = result.mergeGraph.points.map((p) => {
      const done = result.points.find((r) => r.index === p.index);
      return done
        ? { ...done, zipped: true }
        : { index: p.index, name: p.name, channels: p.channels, zipped: false, summary: { onlyFrom: [], acrossModels: 0, withinModel: [], groupSizes: [] } };
    });
  }

  /**
   * The report, after evaluating the ensemble as the baseline (each input's own-task accuracy is
   * its ensemble head's: no zipping reproduces the inputs exactly).
   */
  async build(args: {
    models: readonly ModelInput[];
    mergeGraph: MergeGraph;
    specs: readonly string[];
    mergeSets: readonly Dataset[];
    testSets: readonly Dataset[];
    samples: number;
    resetBatchNorm: boolean;
    refit?: { ridge: number; heads: boolean };
    statsFile: string;
    threads?: number;
    signal: AbortSignal;
  }): Promise<SweepReport> {
    const { models, mergeGraph } = args;
    const tasks = models.map((m) => m.name);
    const ensemble = ensembleGraph(models, mergeGraph);
    const ens = await evaluateTasks(
      ensemble.graph,
      taskOutputs(ensemble.outputs, models).map((output, k) => ({ name: tasks[k], output, data: labelled(args.testSets[k], 64) })),
      { executor, threads: args.threads, signal: args.signal },
    );
    const fingerprints = modelFingerprints(models);
    return {
      tool: 'zipit sweep',
      inputs: models.map((m, k) => ({ name: m.name, file: m.file, fingerprint: fingerprints[k], task: args.specs[k] })),
      tasks,
      rows: this.rows,
      baselines: [
        ...models.map((m, k) => ({ model: `${m.name} (input)`, perTask: tasks.map((_, t) => (t === k ? ens.perTask[k] : null)), joint: null, average: null })),
        accuracyRow('ensemble', ens),
      ],
      cost: [...models.map((m) => costRow(m.name, modelCost(m.graph))), costRow('ensemble', modelCost(ensemble.graph))],
      best: this.best,
      mergePoints: this.bestPoints,
      network: networkView(
        mergeGraph,
        models[0].graph.nodes.map((n) => n.name),
      ),
      settings: {
        data: args.mergeSets.map((d) => d.info.spec),
        samples: args.mergeSets.reduce((t, d) => t + Math.min(d.info.samples, Math.ceil(args.samples / args.mergeSets.length)), 0),
        resetBatchNorm: args.resetBatchNorm,
        stats: args.statsFile,
        ...(args.refit ? { refit: args.refit } : {}),
      },
    };
  }
}

/** The report's bytes in the format its extension names. */
export async function encodeSweepReport(report: SweepReport, format: '.json' | '.md' | '.html'): Promise<Uint8Array> {
  const text =
    format === '.json'
      ? JSON.stringify(report, null, 2) + '\n'
      : format === '.md'
        ? renderSweepMarkdown(report)
        : renderSweepHtml(report, await loadReportAssets());
  return new TextEncoder().encode(text);
}
