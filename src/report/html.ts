// The self-contained HTML report: one file, uPlot and its CSS inlined, the data
// as one JSON block, no network needed to view it. Deterministic: the same
// input gives the same bytes (no dates, no absolute paths beyond what the
// caller puts in `params`, stable key order).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { WindowedSeries } from './series.ts';

export interface ReportColumn {
  title: string;
  /** Shown under the header; what the number means. */
  hint?: string;
}

export interface ReportConfusion {
  config: string;
  /** Rows: predicted hit, predicted miss. Columns: observed hit, observed miss. */
  hitHit: number;
  hitMiss: number;
  missHit: number;
  missMiss: number;
  scored: number;
  agreement: number | null;
  perCpu: { cpu: number; scored: number; agreement: number | null }[];
}

export interface ReportRun {
  label: string;
  /** Series of this run; null when the run produced no events to draw. */
  series: WindowedSeries | null;
}

export interface ReportInput {
  title: string;
  subtitle: string;
  /** The run's parameters and seed, in display order. */
  params: [string, string][];
  /** The what-if comparison: one row per config. */
  columns: ReportColumn[];
  rows: { label: string; cells: (string | number)[] }[];
  runs: ReportRun[];
  confusion: ReportConfusion[];
  findings: string[];
  notes: string[];
  /** How to reproduce the report. */
  command: string;
}

const require = createRequire(import.meta.url);

function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

/** JSON safe inside <script>: no `</script>`, no HTML comment openers, no U+2028/9. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function reportHtml(input: ReportInput): string {
  const uplotJs = asset('uplot/dist/uPlot.iife.min.js');
  const uplotCss = asset('uplot/dist/uPlot.min.css');
  const h = escapeHtml;
  const params = input.params.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('\n');
  const head = input.columns.map((c) => `<th${c.hint ? ` title="${h(c.hint)}"` : ''}>${h(c.title)}</th>`).join('');
  const rows = input.rows
    .map((r) => `<tr><th>${h(r.label)}</th>${r.cells.map((c) => `<td>${h(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  const charts = input.runs.some((r) => r.series !== null);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="kstack report">
<title>${h(input.title)}</title>
<style>${uplotCss}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${h(input.title)}</h1>
<p class="sub">${h(input.subtitle)}</p>
</header>
<main>
<section id="whatif">
<h2>What-if: the same input under each config</h2>
<div class="scroll"><table class="num"><thead><tr><th>config</th>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
${input.findings.length ? `<div class="findings"><h3>Findings</h3><ul>${input.findings.map((f) => `<li>${h(f)}</li>`).join('')}</ul></div>` : ''}
</section>
${input.confusion.length ? confusionHtml(input.confusion) : ''}
${
  charts
    ? `<section id="time">
<h2>Over time</h2>
<p class="hint">Windows of equal length over the longest run; drag to zoom, double-click to reset, click a legend entry to hide a series.</p>
<div class="grid">
<figure><figcaption>Stack memory (KiB, peak per window)</figcaption><div class="chart" id="chart-kib"></div></figure>
<figure><figcaption>RCU-pending stacks (peak per window)</figcaption><div class="chart" id="chart-rcu"></div></figure>
<figure><figcaption>vmap_lazy_nr (pages, peak per window) — a purge flushes TLBs at lazy_max_pages</figcaption><div class="chart" id="chart-lazy"></div></figure>
<figure><figcaption>Stacks taken per window (all CPUs)</figcaption><div class="chart" id="chart-takes"></div></figure>
</div>
<h2>Per CPU, per config</h2>
<div class="grid" id="percpu"></div>
</section>`
    : ''
}
<section id="params">
<h2>Run parameters</h2>
<table class="kv"><tbody>
${params}
</tbody></table>
<p>Reproduce: <code>${h(input.command)}</code></p>
${input.notes.length ? `<ul class="notes">${input.notes.map((n) => `<li>${h(n)}</li>`).join('')}</ul>` : ''}
</section>
</main>
<script id="kstack-data" type="application/json">${scriptJson({ runs: input.runs })}</script>
<script>${uplotJs}</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
}

function confusionHtml(list: ReportConfusion[]): string {
  const h = escapeHtml;
  const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(2)}%`);
  const one = (c: ReportConfusion): string => `<figure class="confusion">
<figcaption>${h(c.config)}: agreement ${pct(c.agreement)} over ${c.scored} scored forks</figcaption>
<table class="num cm"><thead><tr><th></th><th>observed hit</th><th>observed miss</th></tr></thead>
<tbody>
<tr><th>predicted hit</th><td class="ok">${c.hitHit}</td><td class="bad">${c.hitMiss}</td></tr>
<tr><th>predicted miss</th><td class="bad">${c.missHit}</td><td class="ok">${c.missMiss}</td></tr>
</tbody></table>
<table class="num small"><thead><tr><th>CPU</th><th>scored</th><th>agreement</th></tr></thead><tbody>
${c.perCpu.map((p) => `<tr><td>${p.cpu}</td><td>${p.scored}</td><td>${pct(p.agreement)}</td></tr>`).join('\n')}
</tbody></table>
</figure>`;
  return `<section id="validation">
<h2>Validation: the model's prediction vs the trace's own vmalloc events</h2>
<p class="hint">A fork missed the cache when a stack-sized <code>alloc_vmap_area</code> ran in its parent's context; every other fork hit. The model never sees those events.</p>
<div class="grid">${list.map(one).join('\n')}</div>
</section>`;
}

const REPORT_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dde5; --bg:#f6f7f9; --card:#fff; --ok:#e4f4e8; --bad:#fbe6e4; --accent:#2357c6; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { padding:18px 28px 10px; background:#1d2330; color:#fff; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header .sub { margin:4px 0 0; color:#c6cbd6; }
main { padding:8px 28px 40px; max-width:1500px; }
h2 { font-size:16px; margin:26px 0 8px; }
h3 { font-size:14px; margin:10px 0 4px; }
section { margin-bottom:8px; }
table { border-collapse:collapse; background:var(--card); }
th, td { padding:4px 10px; border-bottom:1px solid var(--line); text-align:left; white-space:nowrap; }
thead th { background:#eef0f4; font-weight:600; border-bottom:2px solid var(--line); cursor:default; }
table.num td { text-align:right; font-variant-numeric: tabular-nums; }
table.kv th { color:var(--muted); font-weight:500; }
.scroll { overflow-x:auto; }
.hint { color:var(--muted); margin:0 0 8px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(640px, 1fr)); gap:14px; }
figure { margin:0; background:var(--card); border:1px solid var(--line); border-radius:6px; padding:10px 12px; }
figcaption { font-weight:600; margin-bottom:6px; }
.chart { min-height:260px; }
.chart.empty { min-height:0; color:var(--muted); padding:30px 10px; }
.cm td { min-width:110px; font-size:16px; }
.cm td.ok { background:var(--ok); } .cm td.bad { background:var(--bad); }
table.small { margin-top:8px; font-size:12px; }
.findings { margin-top:10px; padding:8px 12px; background:var(--bad); border-radius:6px; }
.notes { color:var(--muted); }
code { background:#eef0f4; padding:1px 4px; border-radius:3px; font-size:12.5px; }
`;

/** Builds the uPlot charts from the JSON block. Plain browser JS; no globals besides uPlot. */
const REPORT_JS = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('kstack-data').textContent);
  var PALETTE = ['#2357c6', '#d9480f', '#2b8a3e', '#862e9c', '#e8590c', '#0b7285', '#c2255c', '#5c940d', '#364fc7', '#a61e4d'];
  var runs = data.runs.filter(function (r) { return r.series !== null; });
  if (runs.length === 0) return;
  function width(el) { return Math.max(320, el.clientWidth - 4); }
  function hasData(s) { return s.values.some(function (v) { return v !== null; }); }
  function plot(el, title, yLabel, xs, series, opts) {
    opts = opts || {};
    series = series.filter(hasData);
    if (series.length === 0) {
      el.className = 'chart empty';
      el.textContent = opts.empty || 'Nothing to draw: no run has this series.';
      return null;
    }
    var o = {
      width: width(el), height: 240,
      scales: { x: { time: false }, y: opts.y || {} },
      axes: [{ label: 'time (ms)' }, { label: yLabel, size: 60 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: 'ms' }].concat(series.map(function (s, i) {
        return { label: s.label, stroke: s.color || PALETTE[i % PALETTE.length], width: 1.6,
                 spanGaps: false, points: { show: false }, paths: opts.stepped ? uPlot.paths.stepped({ align: 1 }) : undefined };
      }))
    };
    var u = new uPlot(o, [xs].concat(series.map(function (s) { return s.values; })), el);
    window.addEventListener('resize', function () { u.setSize({ width: width(el), height: 240 }); });
    return u;
  }
  var xs = runs[0].series.xMs;
  function byRun(key) { return runs.map(function (r, i) { return { label: r.label, values: r.series[key], color: PALETTE[i % PALETTE.length] }; }); }
  var NOT_TRACED = 'A trace does not show cache contents, RCU lists or stack memory; the model\u2019s series appear here when the replay hands out its events.';
  plot(document.getElementById('chart-kib'), 'stack memory', 'KiB', xs, byRun('stackKiB'), { empty: NOT_TRACED, y: { range: function (u, lo, hi) { return [0, Math.max(16, hi * 1.1)]; } } });
  plot(document.getElementById('chart-rcu'), 'RCU-pending', 'stacks', xs, byRun('rcuPending'), { empty: NOT_TRACED, y: { range: function (u, lo, hi) { return [0, Math.max(2, hi * 1.1)]; } } });
  plot(document.getElementById('chart-lazy'), 'vmap_lazy_nr', 'pages', xs, byRun('vmapLazyPages'), { y: { range: function (u, lo, hi) { return [0, Math.max(10, hi * 1.1)]; } } });
  plot(document.getElementById('chart-takes'), 'stacks taken', 'stacks', xs, runs.map(function (r, i) {
    var total = r.series.takes[0].map(function (_, w) { var s = 0; for (var c = 0; c < r.series.takes.length; c++) s += r.series.takes[c][w]; return s; });
    return { label: r.label, values: total, color: PALETTE[i % PALETTE.length] };
  }));
  var grid = document.getElementById('percpu');
  runs.forEach(function (r) {
    var takes = r.series.takes.reduce(function (a, l) { return a + l.reduce(function (x, y) { return x + y; }, 0); }, 0);
    if (takes === 0) {
      var note = document.createElement('figure');
      note.innerHTML = '<figcaption></figcaption><p class="hint"></p>';
      note.firstChild.textContent = r.label + ': no per-CPU stack cache';
      note.lastChild.textContent = 'Stacks come straight from the page allocator (order-2) and go back after the task_struct\u2019s RCU grace period: there is no hit rate or cache occupancy to draw.';
      grid.appendChild(note);
      return;
    }
    var fig = document.createElement('figure');
    fig.innerHTML = '<figcaption></figcaption><div class="chart"></div>';
    fig.firstChild.textContent = r.label + ': stack-cache hit rate per CPU';
    grid.appendChild(fig);
    plot(fig.lastChild, 'hit rate', 'hit rate', xs, r.series.hitRate.map(function (v, c) { return { label: 'CPU ' + c, values: v }; }),
         { y: { range: [0, 1.02] } });
    var fig2 = document.createElement('figure');
    fig2.innerHTML = '<figcaption></figcaption><div class="chart"></div>';
    fig2.firstChild.textContent = r.label + ': cached stacks per CPU (time-weighted mean)';
    grid.appendChild(fig2);
    plot(fig2.lastChild, 'occupancy', 'stacks', xs, r.series.occupancy.map(function (v, c) { return { label: 'CPU ' + c, values: v }; }),
         { empty: 'The trace does not show what the caches hold.', y: { range: function (u, lo, hi) { return [0, Math.max(2, Math.ceil(hi))]; } } });
  });
})();
`;
