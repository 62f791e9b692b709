import type { TopLevelSpec } from 'vega-lite';
import type { ChartData } from './chart-data.js';

/** One chart of a visual report: a heading, a sentence saying how to read it, a Vega-Lite spec. */
export interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const pctAxis = { format: '.0%', title: 'accuracy' } as const;
const mergedColor = '#4c78a8';

/** Accuracy per task, joint and average against the stop point, one line per configuration. */
function accuracyChart(d: ChartData): Chart {
  const metrics = [...d.tasks, 'joint', 'average'];
  const rows = [
    ...d.accuracy.map((a) => ({ ...a, kind: 'merge' })),
    ...d.baselines.map((b) => ({ config: b.label, metric: b.metric, accuracy: b.accuracy, kind: 'baseline' })),
  ];
  return {
    id: 'accuracy',
    title: 'Accuracy against the stop point',
    caption:
      'Each panel is one metric; lines are configurations merged up to a stop point ("none" zips nothing and equals the ensemble); dashed rules are the inputs on their own task and the ensemble.',
    spec: {
      data: { values: rows },
      facet: { field: 'metric', type: 'nominal', sort: metrics, title: null },
      columns: 2,
      spec: {
        width: 280,
        height: 180,
        layer: [
          {
            transform: [{ filter: "datum.kind === 'merge'" }],
            mark: { type: 'line', point: true },
            encoding: {
              x: { field: 'stop', type: 'ordinal', sort: d.stops, scale: { domain: d.stops }, title: 'stop point', axis: { labelAngle: -45 } },
              y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: pctAxis },
              color: { field: 'config', type: 'nominal', title: 'configuration' },
              tooltip: [{ field: 'config' }, { field: 'stop' }, { field: 'metric' }, { field: 'accuracy', format: '.2%' }],
            },
          },
          {
            transform: [{ filter: "datum.kind === 'baseline'" }],
            mark: { type: 'rule', color: '#777777' },
            encoding: {
              y: { field: 'accuracy', type: 'quantitative' },
              strokeDash: { field: 'config', type: 'nominal', title: 'baseline' },
              tooltip: [{ field: 'config' }, { field: 'metric' }, { field: 'accuracy', format: '.2%' }],
            },
          },
        ],
      },
    },
  };
}

/** Task-average accuracy against FLOPs and against parameters (batch 1). */
function costChart(d: ChartData): Chart {
  const panel = (field: 'flops' | 'parameters', title: string) => ({
    width: 300,
    height: 220,
    mark: { type: 'point', filled: true, size: 90 } as const,
    encoding: {
      x: { field, type: 'quantitative', title, axis: { format: '~s' }, scale: { zero: false, padding: 20 } },
      y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] }, axis: { ...pctAxis, title: 'task-average accuracy' } },
      color: { field: 'kind', type: 'nominal', title: 'model', scale: { domain: ['input', 'ensemble', 'merged'], range: ['#999999', '#e45756', mergedColor] } },
      shape: { field: 'kind', type: 'nominal', legend: null },
      tooltip: [{ field: 'model' }, { field: 'accuracy', format: '.2%' }, { field: 'parameters', format: ',' }, { field: 'flops', format: '.3s' }],
    },
  });
  return {
    id: 'cost',
    title: 'Accuracy against FLOPs and parameters',
    caption: 'Inputs are placed at their accuracy on their own task; the ensemble and merged models at their task average.',
    spec: {
      data: { values: d.cost.filter((c) => c.accuracy !== null) },
      hconcat: [panel('flops', 'FLOPs (batch 1)'), panel('parameters', 'parameters')],
    } as TopLevelSpec,
  };
}

/** Per merge point: merged features taken from one model only, or across models; and merges within a model. */
function compositionChart(d: ChartData, inputs: readonly string[]): Chart {
  const zipped = d.points.filter((p) => p.zipped);
  const parts: { point: string; index: number; part: string; order: number; count: number }[] = [];
  const within: { point: string; index: number; model: string; count: number }[] = [];
  for (const p of zipped) {
    p.summary.onlyFrom.forEach((n, k) => parts.push({ point: p.name, index: p.index, part: `only ${inputs[k] ?? `model ${k}`}`, order: k, count: n }));
    parts.push({ point: p.name, index: p.index, part: 'across models', order: inputs.length, count: p.summary.acrossModels });
    p.summary.withinModel.forEach((n, k) => within.push({ point: p.name, index: p.index, model: inputs[k] ?? `model ${k}`, count: n }));
  }
  const order = zipped.map((p) => p.name);
  const x = { field: 'point', type: 'ordinal', sort: order, title: null, axis: { labelAngle: -45 } } as const;
  return {
    id: 'composition',
    title: 'What each merged feature is made of',
    caption: `Merge points of ${d.pointsOf} along the network's depth. Top: merged features built from one model's features only, or from several models (a full bar is the point's channel count). Bottom: merges of two features of the same model.`,
    spec: {
      vconcat: [
        {
          data: { values: parts },
          width: Math.max(300, 28 * order.length),
          height: 180,
          mark: 'bar',
          encoding: {
            x,
            y: { field: 'count', type: 'quantitative', stack: 'zero', title: 'merged features' },
            color: { field: 'part', type: 'nominal', title: 'built from', sort: [...inputs.map((n) => `only ${n}`), 'across models'] },
            order: { field: 'order' },
            tooltip: [{ field: 'point' }, { field: 'part' }, { field: 'count' }],
          },
        },
        {
          data: { values: within },
          width: Math.max(300, 28 * order.length),
          height: 120,
          mark: 'bar',
          encoding: {
            x,
            xOffset: { field: 'model', type: 'nominal' },
            y: { field: 'count', type: 'quantitative', title: 'within-model merges' },
            color: { field: 'model', type: 'nominal', title: 'model', scale: { scheme: 'set2' } },
            tooltip: [{ field: 'point' }, { field: 'model' }, { field: 'count' }],
          },
        },
      ],
      resolve: { scale: { color: 'independent' } },
    } as TopLevelSpec,
  };
}

/** The merge graph as a network: points along depth (residual streams on top), the layers between them, heads, barriers, the stop. */
function networkChart(d: ChartData): Chart | null {
  const net = d.network;
  if (!net) return null;
  const lane = (residual: boolean) => (residual ? 0 : 1);
  const last = net.points.length;
  const nodes = [
    ...net.points.map((p) => ({
      x: p.index,
      y: lane(p.residual),
      label: p.name,
      kind: p.stopPoint ? 'stop point' : 'merge point',
      state: p.index <= d.chosenStop ? 'zipped' : 'per model',
      channels: p.channels,
      detail: `${p.channels} channels; written by ${p.producers.join(', ') || '—'}; read by ${p.consumers.join(', ') || '—'}`,
    })),
    ...net.heads.map((h, i) => ({
      x: last + 0.5,
      y: 0.5 + 0.25 * i,
      label: `head ${h.name}`,
      kind: 'head',
      state: 'per model',
      channels: h.classes,
      detail: `${h.classes} classes (${h.node})`,
    })),
    ...net.barriers.map((b, i) => ({
      x: b.after + 0.5,
      y: 1.6 + 0.15 * (i % 3),
      label: `${b.opType} ${b.node}`,
      kind: 'barrier',
      state: 'barrier',
      channels: 0,
      detail: b.reason,
    })),
  ];
  const at = (i: number) => net.points[i];
  const edges = [
    ...net.edges.map(([a, b]) => ({ x: a, y: lane(at(a).residual), x2: b, y2: lane(at(b).residual), state: b <= d.chosenStop ? 'zipped' : 'per model' })),
    ...net.heads
      .filter((h) => h.input >= 0)
      .map((h, i) => ({ x: h.input, y: lane(at(h.input).residual), x2: last + 0.5, y2: 0.5 + 0.25 * i, state: 'per model' })),
  ];
  const stateScale = { domain: ['zipped', 'per model', 'barrier'], range: [mergedColor, '#bbbbbb', '#e45756'] };
  const stopName = d.chosenStop < 0 ? 'none' : (at(d.chosenStop)?.name ?? '');
  return {
    id: 'network',
    title: 'The merge graph',
    caption:
      'Merge points in depth order (residual streams on the upper lane, spaces between layers below), joined by the layers that read one and write the other. Diamonds are stop points; the shaded part is zipped (shared), the rest stays per model; red crosses are operators that stopped the derivation.',
    spec: {
      width: Math.max(500, 46 * (last + 2)),
      height: 220,
      datasets: { nodes, edges, stop: [{ x: -0.5, x2: d.chosenStop + 0.5, label: `stop: ${stopName}` }] },
      layer: [
        {
          data: { name: 'stop' },
          mark: { type: 'rect', color: '#4c78a8', opacity: 0.08 },
          encoding: { x: { field: 'x', type: 'quantitative', axis: null }, x2: { field: 'x2' } },
        },
        {
          data: { name: 'stop' },
          mark: { type: 'rule', color: mergedColor, strokeWidth: 2 },
          encoding: { x: { field: 'x2', type: 'quantitative', axis: null } },
        },
        {
          data: { name: 'stop' },
          mark: { type: 'text', align: 'left', dx: 4, dy: -4, baseline: 'bottom', color: mergedColor, fontWeight: 'bold' },
          encoding: { x: { field: 'x2', type: 'quantitative', axis: null }, y: { value: 0 }, text: { field: 'label' } },
        },
        {
          data: { name: 'edges' },
          mark: { type: 'rule', opacity: 0.5 },
          encoding: {
            x: { field: 'x', type: 'quantitative', axis: null },
            y: { field: 'y', type: 'quantitative', axis: null },
            x2: { field: 'x2' },
            y2: { field: 'y2' },
            color: { field: 'state', type: 'nominal', scale: stateScale, legend: null },
          },
        },
        {
          data: { name: 'nodes' },
          mark: { type: 'point', filled: true, opacity: 1 },
          encoding: {
            x: { field: 'x', type: 'quantitative', axis: null, scale: { domain: [-1, last + 1.5] } },
            y: { field: 'y', type: 'quantitative', axis: null, scale: { domain: [-0.4, 2.1], reverse: true } },
            shape: {
              field: 'kind',
              type: 'nominal',
              title: null,
              scale: { domain: ['merge point', 'stop point', 'head', 'barrier'], range: ['circle', 'diamond', 'square', 'cross'] },
            },
            color: { field: 'state', type: 'nominal', title: null, scale: stateScale },
            size: { field: 'channels', type: 'quantitative', title: 'channels', scale: { range: [60, 400] } },
            tooltip: [{ field: 'label', title: 'name' }, { field: 'kind' }, { field: 'state' }, { field: 'detail' }],
          },
        },
        {
          data: { name: 'nodes' },
          mark: { type: 'text', angle: 315, align: 'left', dx: 7, dy: -7, fontSize: 9 },
          encoding: { x: { field: 'x', type: 'quantitative', axis: null }, y: { field: 'y', type: 'quantitative', axis: null }, text: { field: 'label' } },
        },
      ],
    } as TopLevelSpec,
  };
}

/** Correlation of the stacked features at a selected point, before matching and after (members of each merged feature side by side). */
function correlationChart(d: ChartData): Chart | null {
  if (d.correlation.length === 0) return null;
  const rows: { point: string; view: string; row: number; values: number[] }[] = [];
  for (const c of d.correlation) {
    const s = c.view.side;
    for (const [view, m] of [
      ['before matching', c.view.before],
      ['after matching', c.view.after],
    ] as const) {
      for (let r = 0; r < s; r++) rows.push({ point: c.point, view, row: r, values: m.slice(r * s, (r + 1) * s) });
    }
  }
  const names = d.correlation.map((c) => c.point);
  const deepestZipped = d.correlation.filter((c) => c.index <= d.chosenStop).at(-1) ?? d.correlation[0];
  const binned = d.correlation.some((c) => c.view.side < c.view.features);
  return {
    id: 'correlation',
    title: 'Correlation of the features before and after matching',
    caption: `Pick a merge point. Left: the correlation of all models' features, model by model (the blocks on the diagonal are each model with itself). Right: the same features grouped by the merged feature they were zipped into; matched features sit next to each other along the diagonal.${binned ? ' Large points are shown as block means over runs of neighbouring features.' : ''}`,
    spec: {
      data: { values: rows },
      params: [{ name: 'point', value: deepestZipped.point, bind: { input: 'select', options: names, name: 'merge point ' } }],
      transform: [
        { filter: 'datum.point === point' },
        { flatten: ['values'], as: ['value'] },
        { window: [{ op: 'row_number', as: 'col' }], groupby: ['point', 'view', 'row'] },
        { calculate: 'datum.value / 100', as: 'correlation' },
        { calculate: 'datum.col - 1', as: 'column' },
      ],
      facet: { column: { field: 'view', type: 'nominal', sort: ['before matching', 'after matching'], title: null } },
      spec: {
        width: 300,
        height: 300,
        mark: 'rect',
        encoding: {
          x: { field: 'column', type: 'ordinal', axis: null },
          y: { field: 'row', type: 'ordinal', axis: null },
          color: { field: 'correlation', type: 'quantitative', scale: { domain: [-1, 1], scheme: 'redblue', reverse: true }, title: 'correlation' },
          tooltip: [{ field: 'row' }, { field: 'column' }, { field: 'correlation', format: '.2f' }],
        },
      },
    } as TopLevelSpec,
  };
}

/** The charts of a visual report, in reading order (charts without data are left out). */
export function reportCharts(d: ChartData, inputs: readonly string[]): Chart[] {
  return [accuracyChart(d), costChart(d), compositionChart(d, inputs), networkChart(d), correlationChart(d)].filter((c): c is Chart => c !== null);
}
