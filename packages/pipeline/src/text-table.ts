import type { SweepRow } from './sweep-report.js';

/**
 * An aligned plain-text table (for terminals): a header, a rule of dashes, then the rows; the
 * first `leftColumns` columns are left-aligned (labels), the rest right-aligned (numbers).
 */
export function textTable(head: readonly string[], body: readonly (readonly string[])[], leftColumns = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: readonly string[]) => cells.map((x, i) => (i < leftColumns ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** A sweep's rows as a text table: configuration and stop point, then accuracy in % per task, joint and average. */
export function sweepTable(rows: readonly SweepRow[], tasks: readonly string[]): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const head = ['method', 'alpha', 'beta', 'stop', ...tasks.map((t) => `${t} %`), 'joint %', 'avg %'];
  const body = rows.map((r) => [
    r.method,
    r.alpha === null ? '—' : String(r.alpha),
    r.beta === null ? '—' : String(r.beta),
    `${r.stopIndex}:${r.stop}`,
    ...tasks.map((t) => pct(r.perTask[t])),
    pct(r.joint),
    pct(r.average),
  ]);
  return textTable(head, body, 4);
}
