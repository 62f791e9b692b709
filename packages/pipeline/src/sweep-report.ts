import type { MergeReport } from './report.js';
import type { NetworkView } from './report-data.js';

/** One merge of a sweep, evaluated on every task's test split. */
export interface SweepRow {
  method: string;
  alpha: number | null;
  beta: number | null;
  /** Stop point name (`none` for no zipping) and index (-1). */
  stop: string;
  stopIndex: number;
  perTask: Record<string, number>;
  joint: number;
  average: number;
  /** Cost of the merged model at batch 1 (present in reports; the --json rows omit nothing else). */
  parameters?: number;
  flops?: number;
}

/**
 * Everything `zipit sweep --report` says, as plain data (the JSON report is exactly this):
 * every merge of the grid, the ensemble and the inputs as baselines, and the merge points of
 * the best configuration (by joint accuracy) with their correlation views.
 */
export interface SweepReport {
  tool: string;
  inputs: MergeReport['inputs'];
  tasks: string[];
  rows: SweepRow[];
  /** Each input on its own task, then the ensemble (same rows as a merge report's). */
  baselines: MergeReport['accuracy'];
  /** Inputs and ensemble (batch 1). */
  cost: MergeReport['cost'];
  /** Index into `rows` of the configuration whose merge points are shown. */
  best: number;
  mergePoints: MergeReport['mergePoints'];
  network: NetworkView;
  settings: {
    data: string[];
    samples: number;
    resetBatchNorm: boolean;
    stats: string;
    /** The least-squares refit every merge of the sweep got (`--refit`), when one did. */
    refit?: { ridge: number; heads: boolean };
  };
}

/** Label of a sweep configuration (method and its parameters). */
export function configLabel(row: Pick<SweepRow, 'method' | 'alpha' | 'beta'>): string {
  const params = [row.alpha !== null ? `α=${row.alpha}` : '', row.beta !== null ? `β=${row.beta}` : ''].filter(Boolean).join(' ');
  return params ? `${row.method} ${params}` : row.method;
}

/** The sweep as Markdown tables: every merge, then the baselines. */
export function renderSweepMarkdown(r: SweepReport): string {
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : (100 * x).toFixed(2));
  const out = [`# ZipIt sweep report`, '', `## Merges`, ''];
  out.push(`| configuration | stop | ${r.tasks.map((t) => `${t} %`).join(' | ')} | joint % | avg % | parameters |`);
  out.push(`|---|---|${r.tasks.map(() => '---:').join('|')}|---:|---:|---:|`);
  for (const row of r.rows) {
    out.push(
      `| ${configLabel(row)} | ${row.stopIndex}: \`${row.stop}\` | ${r.tasks.map((t) => pct(row.perTask[t])).join(' | ')} | ${pct(row.joint)} | ${pct(row.average)} | ${row.parameters?.toLocaleString('en-US') ?? '—'} |`,
    );
  }
  out.push(
    '',
    '## Baselines',
    '',
    `| model | ${r.tasks.map((t) => `${t} %`).join(' | ')} | joint % | avg % |`,
    `|---|${r.tasks.map(() => '---:').join('|')}|---:|---:|`,
  );
  for (const a of r.baselines) out.push(`| ${a.model} | ${a.perTask.map(pct).join(' | ')} | ${pct(a.joint)} | ${pct(a.average)} |`);
  out.push(
    '',
    `Merge data: ${r.settings.data.map((d) => `\`${d}\``).join(', ')} (${r.settings.samples} samples); statistics from \`${r.settings.stats}\`.${r.settings.refit ? ` Every merge refitted by least squares (ridge ${r.settings.refit.ridge}${r.settings.refit.heads ? ', heads too' : ''}).` : ''}`,
    '',
  );
  return out.join('\n');
}
