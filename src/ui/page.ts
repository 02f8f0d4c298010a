// The UI's one page: markup, styles and src/ui/client.js inline, so the server
// serves a single document and the page fetches nothing but the JSON API.
import { readFileSync } from 'node:fs';

export function pageHtml(): string {
  const client = readFileSync(new URL('./client.js', import.meta.url), 'utf8');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kstack ui</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>kstack <span>kernel-stack lifecycle</span></h1>
  <form id="simform" onsubmit="return false">
    <label>workload <select id="workload"></select></label>
    <label>params <input id="wparams" placeholder="k=8" value="k=8" size="8"></label>
    <label>config A <select id="cfgA"></select></label>
    <label>config B <select id="cfgB"></select></label>
    <label>CPUs <input id="cpus" type="number" min="1" max="16" value="2"></label>
    <label>ops <input id="ops" type="number" min="1" value="200"></label>
    <label>seed <input id="seed" type="number" min="0" value="1"></label>
    <label>placement <input id="placement" value="default" size="7"></label>
    <button id="run" type="button">Run</button>
    <label class="up">or load a trace <input id="upload" type="file"></label>
    <span id="files"></span>
  </form>
</header>
<nav id="stepper">
  <button id="first" title="first event">|◀</button>
  <button id="back10" title="10 back (shift+←)">−10</button>
  <button id="back" title="previous event (←)">◀</button>
  <button id="fwd" title="next event (→)">▶</button>
  <button id="fwd10" title="10 on (shift+→)">+10</button>
  <button id="last" title="last event">▶|</button>
  <button id="prevStack" title="previous stack change (p)">◀ stack</button>
  <button id="nextStack" title="next stack change (n)">stack ▶</button>
  <input id="slider" type="range" min="0" max="0" value="0">
  <span id="pos"></span>
  <button id="zoomIn" title="zoom in">zoom +</button>
  <button id="zoomOut" title="zoom out">zoom −</button>
  <span id="status"></span>
</nav>
<main id="columns"></main>
<script>${client}</script>
</body>
</html>
`;
}

const CSS = `
:root { --fg:#1d2330; --muted:#6b7385; --line:#d9dde5; --bg:#f4f5f8; --card:#fff; }
* { box-sizing:border-box; }
body { margin:0; font:13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1d2330; color:#fff; padding:8px 16px; display:flex; flex-wrap:wrap; gap:8px 18px; align-items:center; }
header h1 { margin:0; font-size:17px; font-weight:600; } header h1 span { color:#9aa3b5; font-weight:400; font-size:13px; }
header form { display:flex; flex-wrap:wrap; gap:6px 10px; align-items:center; }
header label { color:#c6cbd6; font-size:12px; display:flex; gap:4px; align-items:center; }
header input, header select { font:inherit; padding:2px 4px; border-radius:3px; border:1px solid #4a5368; background:#2a3142; color:#fff; }
header input[type=number] { width:64px; }
header button, nav button { font:inherit; padding:3px 10px; border-radius:4px; border:1px solid #8b95aa; background:#fff; cursor:pointer; }
header button#run { background:#2f6fed; color:#fff; border-color:#2f6fed; font-weight:600; }
header .file { margin-left:4px; }
nav { position:sticky; top:0; z-index:2; display:flex; gap:6px; align-items:center; padding:6px 16px; background:#e7eaf0; border-bottom:1px solid var(--line); flex-wrap:wrap; }
nav #slider { flex:1; min-width:200px; }
nav #pos { font-variant-numeric:tabular-nums; min-width:230px; }
#status { color:var(--muted); } #status.bad { color:#c92a2a; font-weight:600; }
main { display:grid; gap:12px; padding:12px 16px 40px; }
section.run { min-width:0; }
.run-title { margin:0 0 4px; font-size:16px; }
dl.summary { display:grid; grid-template-columns:repeat(4, auto 1fr); gap:2px 8px; margin:0 0 8px; font-size:12px; }
dl.summary dt { color:var(--muted); } dl.summary dd { margin:0; font-variant-numeric:tabular-nums; }
.panel { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:8px 10px; margin-bottom:10px; min-width:0; }
.panel h3 { margin:0 0 6px; font-size:13px; } .panel h3 small { color:var(--muted); font-weight:400; margin-left:6px; }
.row2 { display:grid; grid-template-columns:1fr 1.6fr; gap:10px; }
svg.tl { display:block; }
svg .grid { stroke:#e3e6ec; } svg .axis { font-size:10px; fill:var(--muted); } svg .lane { font-size:11px; font-weight:600; fill:var(--fg); }
svg .lane-bg { fill:#f3f4f7; }
svg .slice { stroke:#fff; stroke-width:0.5; } svg .slice-label { font-size:10px; fill:#fff; pointer-events:none; }
.t-kworker { fill:#8d96a8; } .t-kthread { fill:#a08bbf; }
.t-user0 { fill:#3b6fd8; } .t-user1 { fill:#2f9e8f; } .t-user2 { fill:#5a67d8; } .t-user3 { fill:#3187b5; }
svg .cursor { stroke:#e03131; stroke-width:1.5; }
svg .mark { cursor:pointer; stroke:#fff; stroke-width:0.6; } svg .mark.current { stroke:#000; stroke-width:1.5; }
.m-hit { fill:#2b8a3e; color:#2b8a3e; } .m-miss { fill:#e03131; color:#e03131; } .m-put { fill:#1c7ed6; color:#1c7ed6; }
.m-rcu { fill:#f08c00; color:#f08c00; } .m-vfree { fill:#495057; color:#495057; } .m-purge { fill:#000; color:#000; } .m-rel { fill:#ae3ec9; color:#ae3ec9; }
table.caches-t { border-collapse:collapse; width:100%; }
table.caches-t th { text-align:left; width:56px; } table.caches-t td { padding:3px 6px; border-top:1px solid #eef0f4; }
td.curr { width:150px; color:var(--muted); font-family:ui-monospace, monospace; font-size:12px; }
.slot { display:inline-flex; align-items:center; gap:3px; margin-right:8px; border:1px dashed #c3c8d3; border-radius:5px; padding:2px 5px; min-width:84px; }
.slot-n { color:var(--muted); font-size:10px; } .empty { color:#b0b6c3; font-size:11px; }
.chip { font:inherit; font-size:11.5px; border:1px solid transparent; border-radius:10px; padding:1px 7px; margin:1px 2px; cursor:pointer; font-family:ui-monospace, monospace; }
.chip.selected { outline:2px solid #000; }
.st-alloc { background:#fff3bf; } .st-use { background:#d3f9d8; } .st-dead { background:#ffe8cc; } .st-rel { background:#f3d9fa; }
.st-cached { background:#d0ebff; } .st-rcu { background:#ffd8a8; } .st-lazy { background:#e9ecef; } .st-freed { background:#dee2e6; }
.legend { margin-bottom:4px; } .legend .chip { cursor:default; }
.chips { max-height:140px; overflow:auto; }
ol.log { list-style:none; margin:0; padding:0; font-size:12px; max-height:300px; overflow:auto; }
ol.log li { display:grid; grid-template-columns:92px 40px 120px 1fr auto; gap:6px; padding:1px 4px; border-left:3px solid transparent; cursor:pointer; color:var(--fg); }
ol.log li .what { color:var(--fg); } ol.log li.future { opacity:0.45; }
ol.log li.current { background:#fff3bf; border-left-color:#e03131; font-weight:600; }
ol.log .ts, ol.log .cpu, ol.log .who { font-family:ui-monospace, monospace; color:var(--muted); font-size:11.5px; }
.history ol.log li { grid-template-columns:92px 40px 1fr auto; }
.hist-title { margin:0 0 4px; font-weight:600; }
.muted { color:var(--muted); }
`;
