import { modelCost } from '@zipit/core';
import { ensembleGraph, modelFingerprints, type MergeModelsResult, type ModelInput } from './merge-models.js';
import { costRow, type MergeReport } from './report.js';
import { networkView } from './report-data.js';

export interface MergeReportInput {
  /** The program that merged (e.g. `zipit merge`). */
  tool: string;
  models: readonly ModelInput[];
  /** Per model, the task (data spec) it was given; '' when none. */
  tasks: readonly string[];
  settings: MergeReport['settings'];
  /** Where the merged model was written. */
  output: string;
  result: MergeModelsResult;
  accuracy: MergeReport['accuracy'];
  seconds: MergeReport['seconds'];
}

/**
 * Assembles the report of a merge: inputs with fingerprints, settings, every merge point (zipped
 * ones with their match summary), BatchNorm, the accuracy rows given, the cost of each input,
 * the ensemble and the merged model, the network view and the seconds per stage.
 */
export function mergeReport(r: MergeReportInput): MergeReport {
  const { models, result } = r;
  const fingerprints = modelFingerprints(models);
  return {
    tool: r.tool,
    inputs: models.map((m, k) => ({ name: m.name, file: m.file, fingerprint: fingerprints[k], task: r.tasks[k] ?? '' })),
    settings: r.settings,
    output: r.output,
    mergePoints: result.mergeGraph.points.map((p) => {
      const done = result.points.find((x) => x.index === p.index);
      return done
        ? { ...done, zipped: true }
        : { index: p.index, name: p.name, channels: p.channels, zipped: false, summary: { onlyFrom: [], acrossModels: 0, withinModel: [], groupSizes: [] } };
    }),
    batchNorm: result.batchNorm,
    ...(result.refit ? { refit: result.refit } : {}),
    accuracy: r.accuracy,
    tasks: models.map((m) => m.name),
    network: networkView(
      result.mergeGraph,
      models[0].graph.nodes.map((n) => n.name),
    ),
    cost: [
      ...models.map((m) => costRow(m.name, modelCost(m.graph))),
      costRow('ensemble', modelCost(ensembleGraph(models, result.mergeGraph).graph)),
      costRow('merged', modelCost(result.graph)),
    ],
    seconds: r.seconds,
  };
}
