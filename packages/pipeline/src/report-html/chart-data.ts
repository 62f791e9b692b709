import type { MergeReport } from '../report.js';
import type { CorrelationView, NetworkView } from '../report-data.js';
import { configLabel, type SweepReport } from '../sweep-report.js';

/** One accuracy figure: a configuration merged up to a stop point, on one metric. */
export interface AccuracyPoint {
  config: string;
  stop: string;
  stopIndex: number;
  /** A task name, `joint` or `average`. */
  metric: string;
  accuracy: number;
}

/** A reference level drawn across a chart: an input on its task, or the ensemble. */
export interface Baseline {
  label: string;
  metric: string;
  accuracy: number;
}

/** A model's size and its accuracy (task average; an input's own-task accuracy). */
export interface CostPoint {
  model: string;
  kind: 'input' | 'ensemble' | 'merged';
  parameters: number;
  flops: number;
  accuracy: number | null;
}

/** What the charts of a visual report show, from a merge report or a sweep report alike. */
export interface ChartData {
  title: string;
  tasks: string[];
  /** Stop point names in depth order, `none` first. */
  stops: string[];
  accuracy: AccuracyPoint[];
  baselines: Baseline[];
  cost: CostPoint[];
  /** Whose merge points `points` shows (a configuration label). */
  pointsOf: string;
  points: MergeReport['mergePoints'];
  network: NetworkView | null;
  /** Index of the last zipped point of the configuration shown (-1: none). */
  chosenStop: number;
  correlation: { point: string; index: number; view: CorrelationView }[];
}

const metrics = (tasks: readonly string[]) => [...tasks, 'joint', 'average'];

function stopsOf(network: NetworkView | null, points: MergeReport['mergePoints']): string[] {
  const list = network ? network.points.filter((p) => p.stopPoint).map((p) => p.name) : points.map((p) => p.name);
  return ['none', ...list];
}

function baselinesOf(tasks: readonly string[], rows: MergeReport['accuracy']): Baseline[] {
  const out: Baseline[] = [];
  for (const r of rows) {
    if (r.model.startsWith('merged')) continue;
    const label = r.model === 'ensemble' ? 'ensemble' : `input ${r.model.replace(/ \(input\)$/, '')}`;
    r.perTask.forEach((a, t) => a !== null && out.push({ label, metric: tasks[t], accuracy: a }));
    if (r.joint !== null) out.push({ label, metric: 'joint', accuracy: r.joint });
    if (r.average !== null) out.push({ label, metric: 'average', accuracy: r.average });
  }
  return out;
}

function inputCost(tasks: readonly string[], cost: MergeReport['cost'], accuracy: MergeReport['accuracy']): CostPoint[] {
  return cost
    .filter((c) => c.model !== 'merged')
    .map((c) => {
      const t = tasks.indexOf(c.model);
      const row = c.model === 'ensemble' ? accuracy.find((a) => a.model === 'ensemble') : accuracy.find((a) => a.model === `${c.model} (input)`);
      const acc = !row ? null : c.model === 'ensemble' ? row.average : t >= 0 ? row.perTask[t] : null;
      return { model: c.model, kind: c.model === 'ensemble' ? 'ensemble' : 'input', parameters: c.parameters, flops: c.flops, accuracy: acc };
    });
}

function correlationsOf(points: MergeReport['mergePoints']): ChartData['correlation'] {
  return points.filter((p) => p.correlation).map((p) => ({ point: p.name, index: p.index, view: p.correlation! }));
}

/** Chart data of a merge: its own point, the ensemble at `none` (no zipping reproduces it), the inputs as baselines. */
export function mergeChartData(r: MergeReport): ChartData {
  const config = `${r.settings.method}${
    Object.keys(r.settings.params).length
      ? ' ' +
        Object.entries(r.settings.params)
          .map(([k, v]) => `${k === 'alpha' ? 'α' : k === 'beta' ? 'β' : k}=${v}`)
          .join(' ')
      : ''
  }`;
  const stopName = r.settings.stopIndex < 0 ? 'none' : (r.mergePoints[r.settings.stopIndex]?.name ?? r.settings.stopAt);
  const accuracy: AccuracyPoint[] = [];
  const push = (row: MergeReport['accuracy'][number] | undefined, stop: string, stopIndex: number) => {
    if (!row) return;
    const values = [...row.perTask, row.joint, row.average];
    metrics(r.tasks).forEach((metric, i) => values[i] !== null && accuracy.push({ config, stop, stopIndex, metric, accuracy: values[i]! }));
  };
  push(
    r.accuracy.find((a) => a.model === 'ensemble'),
    'none',
    -1,
  );
  push(
    r.accuracy.find((a) => a.model.startsWith('merged')),
    stopName,
    r.settings.stopIndex,
  );
  const merged = r.cost.find((c) => c.model === 'merged');
  const mergedAcc = r.accuracy.find((a) => a.model.startsWith('merged'));
  const cost = inputCost(r.tasks, r.cost, r.accuracy);
  if (merged)
    cost.push({
      model: `merged (${config}, stop ${stopName})`,
      kind: 'merged',
      parameters: merged.parameters,
      flops: merged.flops,
      accuracy: mergedAcc?.average ?? null,
    });
  const network = r.network ?? null;
  return {
    title: `ZipIt merge report: ${r.inputs.map((i) => i.name).join(' + ')}`,
    tasks: r.tasks,
    stops: stopsOf(network, r.mergePoints),
    accuracy,
    baselines: baselinesOf(r.tasks, r.accuracy),
    cost,
    pointsOf: config,
    points: r.mergePoints,
    network,
    chosenStop: r.settings.stopIndex,
    correlation: correlationsOf(r.mergePoints),
  };
}

/** Chart data of a sweep: every configuration along the stop points, every merged model's cost. */
export function sweepChartData(r: SweepReport): ChartData {
  const accuracy: AccuracyPoint[] = [];
  const cost = inputCost(r.tasks, r.cost, r.baselines);
  for (const row of r.rows) {
    const config = configLabel(row);
    const values = [...r.tasks.map((t) => row.perTask[t]), row.joint, row.average];
    metrics(r.tasks).forEach((metric, i) => accuracy.push({ config, stop: row.stop, stopIndex: row.stopIndex, metric, accuracy: values[i] }));
    if (row.parameters !== undefined && row.flops !== undefined) {
      cost.push({ model: `${config}, stop ${row.stop}`, kind: 'merged', parameters: row.parameters, flops: row.flops, accuracy: row.average });
    }
  }
  const best = r.rows[r.best];
  return {
    title: `ZipIt sweep report: ${r.inputs.map((i) => i.name).join(' + ')}`,
    tasks: r.tasks,
    stops: stopsOf(r.network, r.mergePoints),
    accuracy,
    baselines: baselinesOf(r.tasks, r.baselines),
    cost,
    pointsOf: best ? `${configLabel(best)}, stop ${best.stop}` : '',
    points: r.mergePoints,
    network: r.network,
    chosenStop: best ? best.stopIndex : -1,
    correlation: correlationsOf(r.mergePoints),
  };
}
