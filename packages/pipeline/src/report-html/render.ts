import type { MergeReport } from '../report.js';
import { markdownToHtmlBody, renderMarkdown } from '../report.js';
import { renderSweepMarkdown, type SweepReport } from '../sweep-report.js';
import { mergeChartData, sweepChartData, type ChartData } from './chart-data.js';
import { reportCharts } from './charts.js';

/**
 * The chart library as script text, inlined into every visual report so it works offline and
 * from a file: the UMD builds of vega, vega-lite and vega-embed (each defines a global). Node
 * reads them from node_modules (`loadReportAssets` in `@zipit/pipeline/node`); a browser build
 * bundles them as text.
 */
export interface ReportAssets {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

/** `</script` and `<!--` cannot appear inside an inline script; escaped forms mean the same to JavaScript and JSON. */
function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function jsonScript(id: string, value: unknown): string {
  return `<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `body{font:14px system-ui,sans-serif;max-width:72em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
.caption{color:#555;max-width:60em}.chart{overflow-x:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}td:not(:first-child){text-align:right}
.vega-bind{margin:.5em 0}.vega-bind-name{font-weight:600}`;

/**
 * One self-contained HTML page: the charts (Vega-Lite specs rendered by the inlined libraries),
 * the report's tables, and the report itself as JSON (`#zipit-report`, the data source of
 * everything shown). Nothing is fetched: no CDN, no fonts, no images. When the charts are
 * drawn, `document.body.dataset.rendered` becomes `"true"` (or `"error"`, logged to the console).
 */
function page(
  title: string,
  summary: string,
  data: ChartData,
  inputs: readonly string[],
  tablesMarkdown: string,
  report: unknown,
  assets: ReportAssets,
): string {
  const charts = reportCharts(data, inputs);
  const sections = charts.map(
    (c) => `<section><h2>${esc(c.title)}</h2><p class="caption">${esc(c.caption)}</p><div class="chart" id="chart-${c.id}"></div></section>`,
  );
  const boot = `(function(){
var charts=JSON.parse(document.getElementById('zipit-charts').textContent);
var opts={renderer:'svg',actions:{export:true,source:false,compiled:false,editor:false}};
Promise.all(charts.map(function(c){return vegaEmbed('#chart-'+c.id,c.spec,opts);}))
.then(function(){document.body.dataset.rendered='true';})
.catch(function(e){document.body.dataset.rendered='error';console.error('zipit report: a chart failed to render',e);});
})();`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${esc(title)}</h1>`,
    `<p>${summary}</p>`,
    ...sections,
    `<section><h2>Tables</h2>${markdownToHtmlBody(
      tablesMarkdown
        .split('\n')
        .filter((l) => !l.startsWith('# '))
        .join('\n'),
    )}</section>`,
    jsonScript('zipit-report', report),
    jsonScript(
      'zipit-charts',
      charts.map((c) => ({ id: c.id, spec: c.spec })),
    ),
    `<script>${scriptText(assets.vega)}</script>`,
    `<script>${scriptText(assets.vegaLite)}</script>`,
    `<script>${scriptText(assets.vegaEmbed)}</script>`,
    `<script>${boot}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** The visual report of a merge (`zipit merge --report x.html`, the browser app's download). */
export function renderVisualHtml(r: MergeReport, assets: ReportAssets): string {
  const data = mergeChartData(r);
  const merged = r.accuracy.find((a) => a.model.startsWith('merged'));
  const pct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(100 * x).toFixed(2)}%`);
  const summary =
    `Merged ${r.inputs.length} models (${r.inputs.map((i) => `<code>${esc(i.name)}</code>`).join(', ')}) with <b>${esc(data.pointsOf)}</b>, ` +
    `zipped up to <b>${esc(data.stops.includes(r.settings.stopAt) ? r.settings.stopAt : r.settings.stopIndex < 0 ? 'none' : (r.mergePoints[r.settings.stopIndex]?.name ?? r.settings.stopAt))}</b>` +
    (merged ? `: joint accuracy ${pct(merged.joint)}, task average ${pct(merged.average)}.` : '.');
  return page(
    data.title,
    summary,
    data,
    r.inputs.map((i) => i.name),
    renderMarkdown(r),
    r,
    assets,
  );
}

/** The visual report of a sweep (`zipit sweep --report x.html`). */
export function renderSweepHtml(r: SweepReport, assets: ReportAssets): string {
  const data = sweepChartData(r);
  const summary = `${r.rows.length} merges of ${r.inputs.map((i) => `<code>${esc(i.name)}</code>`).join(' and ')}; merge points shown for the best joint accuracy: <b>${esc(data.pointsOf)}</b>.`;
  return page(
    data.title,
    summary,
    data,
    r.inputs.map((i) => i.name),
    renderSweepMarkdown(r),
    r,
    assets,
  );
}
