import type { ModelCost, MultiTaskAccuracyResult } from '@zipit/core';
import type { MergeModelsResult, PointReport, Stage } from './merge-models.js';
import type { CorrelationView, NetworkView } from './report-data.js';

/** Everything a merge report says, as plain data (the JSON report is exactly this). */
export interface MergeReport {
  tool: string;
  inputs: { name: string; file: string; fingerprint: string; task: string }[];
  settings: {
    method: string;
    params: Record<string, number>;
    stopAt: string;
    stopIndex: number;
    resetBatchNorm: boolean;
    data: string[];
    samples: number | null;
  };
  output: string;
  /** Every merge point; zipped ones carry their match summary and, when computed, their correlation view. */
  mergePoints: (PointReport & { zipped: boolean; correlation?: CorrelationView })[];
  /** The merge graph as drawn by the visual report (points, the layers between them, heads, barriers). */
  network?: NetworkView;
  batchNorm: MergeModelsResult['batchNorm'];
  /** The least-squares refit after zipping (`--refit`), when one ran. */
  refit?: MergeModelsResult['refit'];
  /** Rows: each input model on its own task, the ensemble, the merged model. */
  accuracy: { model: string; perTask: (number | null)[]; joint: number | null; average: number | null }[];
  tasks: string[];
  cost: { model: string; parameters: number; flops: number }[];
  seconds: Partial<Record<Stage | 'evaluation' | 'load' | 'write', number>>;
}

export function accuracyRow(model: string, r: MultiTaskAccuracyResult): MergeReport['accuracy'][number] {
  return { model, perTask: r.perTask, joint: r.joint, average: r.average };
}

export function costRow(model: string, c: ModelCost): MergeReport['cost'][number] {
  return { model, parameters: c.parameters, flops: c.flops };
}

const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(2)}`);
const giga = (x: number) => (x >= 1e9 ? `${(x / 1e9).toFixed(2)} G` : `${(x / 1e6).toFixed(2)} M`);

/** The accuracy table as aligned plain text (for the terminal). */
export function accuracyTable(r: Pick<MergeReport, 'accuracy' | 'tasks'>): string {
  const head = ['model', ...r.tasks.map((t) => `${t} %`), 'joint %', 'avg %'];
  const rows = r.accuracy.map((a) => [a.model, ...a.perTask.map(pct), pct(a.joint), pct(a.average)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: MergeReport): string {
  const out: string[] = [];
  out.push(`# ZipIt merge report`, '');
  out.push(
    `Merged ${r.inputs.length} models with **${r.settings.method}**${paramText(r.settings.params)}, zipped up to **${r.settings.stopAt}**; output \`${r.output}\`.`,
    '',
  );
  out.push('## Inputs', '', '| model | file | task | fingerprint |', '|---|---|---|---|');
  for (const i of r.inputs) out.push(`| ${i.name} | \`${i.file}\` | ${i.task} | \`${i.fingerprint}\` |`);
  out.push('', '## Settings', '', '| setting | value |', '|---|---|');
  out.push(`| method | ${r.settings.method}${paramText(r.settings.params)} |`);
  out.push(`| stop at | ${r.settings.stopAt} (point ${r.settings.stopIndex}) |`);
  const bn = r.batchNorm;
  const bnText = bn.skipped
    ? ` (skipped: ${bn.skipped})`
    : bn.repaired
      ? ` (BatchNorm folded: REPAIR on ${bn.repaired.length} layers)`
      : ` (${bn.mode ? `${bn.mode}, ` : ''}${bn.reset.length} layers)`;
  out.push(`| BatchNorm reset | ${r.settings.resetBatchNorm ? 'yes' : 'no'}${bnText} |`);
  if (r.refit)
    out.push(
      `| least-squares refit | ridge ${r.refit.ridge}: ${r.refit.layers.length} layers${r.refit.unmerged.length ? `, ${r.refit.unmerged.length} unmerges` : ''}${r.refit.heads ? `, ${r.refit.refittedHeads.length} heads` : ''} |`,
    );
  out.push(`| merge data | ${r.settings.data.map((d) => `\`${d}\``).join(', ')}${r.settings.samples ? `, ${r.settings.samples} samples` : ''} |`);
  out.push(
    '',
    '## Accuracy',
    '',
    `| model | ${r.tasks.map((t) => `${t} %`).join(' | ')} | joint % | avg % |`,
    `|---|${r.tasks.map(() => '---:').join('|')}|---:|---:|`,
  );
  for (const a of r.accuracy) out.push(`| ${a.model} | ${a.perTask.map(pct).join(' | ')} | ${pct(a.joint)} | ${pct(a.average)} |`);
  out.push('', '## Cost (batch 1)', '', '| model | parameters | FLOPs |', '|---|---:|---:|');
  for (const c of r.cost) out.push(`| ${c.model} | ${c.parameters.toLocaleString('en-US')} | ${giga(c.flops)} |`);
  out.push(
    '',
    '## Merge points',
    '',
    `| # | point | channels | zipped | ${r.inputs.map((i) => `${i.name} only`).join(' | ')} | across models | within-model merges |`,
  );
  out.push(`|---:|---|---:|---|${r.inputs.map(() => '---:').join('|')}|---:|---:|`);
  for (const p of r.mergePoints) {
    out.push(
      `| ${p.index} | \`${p.name}\` | ${p.channels} | ${p.zipped ? 'yes' : 'no'} | ${p.summary.onlyFrom.join(' | ')} | ${p.summary.acrossModels} | ${p.summary.withinModel.join(' / ')} |`,
    );
  }
  const barriers = r.network?.barriers ?? [];
  if (barriers.length > 0) {
    out.push('', '## Barriers', '', 'Nodes merging cannot pass: the points they touch are not merge points, and zipping stops before them.', '');
    out.push('| node | operator | after point | reason |', '|---|---|---:|---|');
    for (const b of barriers) out.push(`| \`${b.node}\` | ${b.opType} | ${b.after} | ${b.reason} |`);
  }
  out.push('', '## Time', '', '| stage | seconds |', '|---|---:|');
  for (const [k, v] of Object.entries(r.seconds)) out.push(`| ${k} | ${v!.toFixed(2)} |`);
  out.push('');
  return out.join('\n');
}

/** A standalone HTML page of the Markdown report (tables only; `renderVisualHtml` adds the charts). */
export function renderHtml(r: MergeReport): string {
  return (
    [
      '<!doctype html><meta charset="utf-8"><title>ZipIt merge report</title>',
      '<style>body{font:14px system-ui,sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}td:not(:first-child){text-align:right}</style>',
      markdownToHtmlBody(renderMarkdown(r)),
    ].join('\n') + '\n'
  );
}

/** The subset of Markdown the reports use (headings, paragraphs, tables, code, bold) as HTML, text escaped. */
export function markdownToHtmlBody(markdown: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const inline = (s: string) =>
    esc(s)
      .replace(/`([^`]*)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]*)\*\*/g, '<b>$1</b>');
  const html: string[] = [];
  let inTable = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('|')) {
      if (/^\|[-:|]+\|$/.test(line)) continue;
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((c) => inline(c.trim()));
      html.push(`${inTable ? '' : '<table>'}<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`);
      inTable = true;
      continue;
    }
    if (inTable) {
      html.push('</table>');
      inTable = false;
    }
    if (line.startsWith('## ')) html.push(`<h2>${esc(line.slice(3))}</h2>`);
    else if (line.startsWith('# ')) html.push(`<h1>${esc(line.slice(2))}</h1>`);
    else if (line.trim()) html.push(`<p>${inline(line)}</p>`);
  }
  if (inTable) html.push('</table>');
  return html.join('\n');
}

function paramText(p: Record<string, number>): string {
  const e = Object.entries(p);
  return e.length ? ` (${e.map(([k, v]) => `${k} = ${v}`).join(', ')})` : '';
}
