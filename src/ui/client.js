// kstack ui, in the browser: loads runs from the local server, steps through
// their events forwards and backwards, draws CPU lanes, each CPU's stack-cache
// slots, the RCU queue and every live stack, and a stack's whole history.
// Two runs (two configs) step together by time.
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const STATE_CLASS = {
    ALLOCATED: 'st-alloc',
    IN_USE: 'st-use',
    TASK_DEAD: 'st-dead',
    RELEASED: 'st-rel',
    CACHED: 'st-cached',
    RCU_PENDING: 'st-rcu',
    FREED_LAZY: 'st-lazy',
    PAGES_FREED: 'st-freed',
    PURGED: 'st-freed',
  };
  const MARK = {
    stack_cache_hit: ['hit', 'm-hit'],
    stack_cache_miss: ['miss', 'm-miss'],
    mm_page_alloc: ['alloc', 'm-miss'],
    stack_cache_put: ['put', 'm-put'],
    stack_rcu_pending: ['rcu', 'm-rcu'],
    stack_vfree: ['vfree', 'm-vfree'],
    mm_page_free: ['free', 'm-vfree'],
    purge_vmap_area_lazy: ['purge', 'm-purge'],
    stack_release: ['rel', 'm-rel'],
    kstack_violation: ['!', 'm-miss'],
  };

  /** @type {{views: any[], merged: Int32Array, at: Int32Array[], p: number, zoom: number, selected: string}} */
  const ui = { views: [], merged: new Int32Array(0), at: [], p: 0, zoom: 1, selected: '' };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]));
    return e;
  }

  function fmtNs(ns) {
    if (ns >= 1e9) return `${(ns / 1e9).toFixed(6)} s`;
    if (ns >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
    if (ns >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
    return `${ns} ns`;
  }

  function stackNum(k) {
    const n = Number(k.replace(/^#/, ''));
    return Number.isFinite(n) ? n : 1e12;
  }

  // ------------------------------------------------------------ loading

  async function api(path, init) {
    const r = await fetch(path, init);
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }

  function status(msg, bad) {
    const s = $('status');
    s.textContent = msg;
    s.className = bad ? 'bad' : '';
  }

  async function loadMeta() {
    const m = await api('/api/meta');
    for (const id of ['cfgA', 'cfgB']) {
      const sel = $(id);
      if (id === 'cfgB') sel.appendChild(new Option('— none —', ''));
      for (const p of m.presets) sel.appendChild(new Option(p, p));
    }
    $('cfgA').value = 'linux-4.9';
    $('cfgB').value = 'linux-6.18';
    for (const w of m.workloads) $('workload').appendChild(new Option(w, w));
    $('workload').value = 'burst';
    $('ops').max = String(m.opsMax);
    const files = $('files');
    m.files.forEach((f, i) => {
      const b = el('button', 'file', `open ${f}`);
      b.addEventListener('click', () => load(() => api(`/api/file/${i}`), `trace ${f}`));
      files.appendChild(b);
    });
    if (m.files.length > 0) return load(() => api('/api/file/0'), `trace ${m.files[0]}`);
    return runSim();
  }

  async function load(get, what) {
    status(`loading ${what}…`);
    try {
      const j = await get();
      setRuns(j.runs);
      status(`${what}: ${j.runs.map((r) => `${r.label} ${r.events.length} events${r.truncated ? ' (truncated)' : ''}`).join(' · ')}`);
    } catch (e) {
      status(`${what}: ${e.message}`, true);
    }
  }

  function runSim() {
    const workload = $('workload').value;
    const params = $('wparams').value.trim();
    const body = {
      workload: params ? `${workload}:${params}` : workload,
      configs: [$('cfgA').value, $('cfgB').value].filter((c) => c),
      cpus: $('cpus').value,
      ops: $('ops').value,
      seed: $('seed').value,
      placement: $('placement').value,
    };
    return load(() => api('/api/sim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }), `simulation ${body.workload}`);
  }

  async function upload(file) {
    const bytes = await file.arrayBuffer();
    return load(() => api(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: 'POST', body: bytes }), `upload ${file.name}`);
  }

  // ------------------------------------------------------------- model

  function makeView(run) {
    const slices = [];
    const open = [];
    for (let c = 0; c < run.cpuCount; c++) {
      slices.push([]);
      open.push(null);
    }
    const byStack = new Map();
    const endNs = run.events.length ? run.events[run.events.length - 1][0] : 0;
    run.events.forEach((e, i) => {
      const [ts, cpu, , , name, , key, ch, next] = e;
      if (name === 'sched_switch' && cpu >= 0 && cpu < run.cpuCount) {
        if (open[cpu]) open[cpu].e = ts;
        const [comm, pid] = splitTask(next);
        open[cpu] = pid === 0 ? null : { s: ts, e: endNs, comm, pid };
        if (open[cpu]) slices[cpu].push(open[cpu]);
      }
      const keys = new Set(ch.map((c) => c[0]));
      if (key) keys.add(key);
      for (const k of keys) {
        if (!byStack.has(k)) byStack.set(k, []);
        byStack.get(k).push(i);
      }
    });
    return { run, pos: 0, stacks: new Map(), rcuSeq: new Map(), undo: [], slices, byStack };
  }

  function splitTask(s) {
    const i = s.lastIndexOf(':');
    return i < 0 ? [s, 0] : [s.slice(0, i), Number(s.slice(i + 1))];
  }

  /** Applies event `pos` (forward) and remembers what it overwrote. */
  function forward(v) {
    const e = v.run.events[v.pos];
    const undo = [];
    for (const [k, , to, cpu, slot, owner] of e[7]) {
      undo.push([k, v.stacks.get(k) || null, v.rcuSeq.get(k)]);
      if (to === 'PURGED' || to === 'PAGES_FREED') v.stacks.delete(k);
      else v.stacks.set(k, { state: to, cpu, slot, owner });
      if (to === 'RCU_PENDING') v.rcuSeq.set(k, v.pos);
      else v.rcuSeq.delete(k);
    }
    v.undo[v.pos] = undo;
    v.pos++;
  }

  function backward(v) {
    v.pos--;
    const undo = v.undo[v.pos] || [];
    for (let i = undo.length - 1; i >= 0; i--) {
      const [k, prev, seq] = undo[i];
      if (prev) v.stacks.set(k, prev);
      else v.stacks.delete(k);
      if (seq === undefined) v.rcuSeq.delete(k);
      else v.rcuSeq.set(k, seq);
    }
  }

  function seekView(v, target) {
    while (v.pos < target) forward(v);
    while (v.pos > target) backward(v);
  }

  function setRuns(runs) {
    ui.views = runs.map(makeView);
    // One cursor over all runs in time order. Each run keeps its own order (the
    // model's CPUs have their own clocks, so a run's timestamps can step back):
    // merge, never sort, taking the run whose next event is earliest (ties: first run).
    const all = [];
    const next = ui.views.map(() => 0);
    for (;;) {
      let best = -1;
      for (let r = 0; r < ui.views.length; r++) {
        const ev = ui.views[r].run.events;
        if (next[r] >= ev.length) continue;
        if (best < 0 || ev[next[r]][0] < ui.views[best].run.events[next[best]][0]) best = r;
      }
      if (best < 0) break;
      all.push([ui.views[best].run.events[next[best]][0], best, next[best]]);
      next[best]++;
    }
    ui.merged = new Int32Array(all.map((x) => x[1]));
    ui.at = ui.views.map(() => new Int32Array(all.length + 1));
    const n = ui.views.map(() => 0);
    all.forEach((x, k) => {
      n[x[1]]++;
      ui.views.forEach((_, r) => {
        ui.at[r][k + 1] = n[r];
      });
    });
    ui.mergedTs = new Float64Array(all.map((x) => x[0]));
    ui.p = 0;
    ui.selected = '';
    $('slider').max = String(all.length);
    buildColumns();
    seek(Math.min(all.length, firstInteresting()));
  }

  function firstInteresting() {
    // Start just after the first stack take, so the first screen has something in it.
    for (let k = 0; k < ui.merged.length; k++) {
      const v = ui.views[ui.merged[k]];
      const e = v.run.events[ui.at[ui.merged[k]][k + 1] - 1];
      if (e && e[4] === 'stack_cache_put') return k + 1;
    }
    return Math.min(20, ui.merged.length);
  }

  function seek(p) {
    ui.p = Math.max(0, Math.min(ui.merged.length, p));
    ui.views.forEach((v, r) => {
      seekView(v, ui.at[r][ui.p]);
    });
    render();
  }

  /** Next (dir 1) or previous (-1) event that changed a stack. */
  function seekStackEvent(dir) {
    let p = ui.p;
    for (let n = 0; n < ui.merged.length; n++) {
      p += dir;
      if (p < 1 || p > ui.merged.length) return;
      const r = ui.merged[p - 1];
      const e = ui.views[r].run.events[ui.at[r][p] - 1];
      if (e[7].length > 0) return seek(p);
    }
  }

  // ------------------------------------------------------------ render

  function buildColumns() {
    const cols = $('columns');
    cols.textContent = '';
    cols.style.gridTemplateColumns = `repeat(${ui.views.length}, minmax(0, 1fr))`;
    ui.views.forEach((v, r) => {
      const c = el('section', 'run');
      c.dataset.run = String(r);
      c.innerHTML =
        '<h2 class="run-title"></h2><dl class="summary"></dl>' +
        '<div class="panel"><h3>Timeline <small>CPU lanes: task runs; marks: stack events (click one)</small></h3><div class="timeline"></div></div>' +
        '<div class="panel"><h3>Per-CPU stack cache</h3><div class="caches"></div></div>' +
        '<div class="row2"><div class="panel"><h3>RCU queue <small>stacks waiting for a grace period</small></h3><div class="rcu"></div></div>' +
        '<div class="panel"><h3>Events</h3><ol class="log"></ol></div></div>' +
        '<div class="panel"><h3>Stacks <small>every live stack; click for its history</small></h3><div class="stacks"></div></div>' +
        '<div class="panel history-panel"><h3>Stack history</h3><div class="history"><p class="muted">Click a stack to see its whole life.</p></div></div>';
      c.querySelector('.run-title').textContent = v.run.label;
      const dl = c.querySelector('.summary');
      for (const [k, val] of v.run.summary) {
        dl.appendChild(el('dt', '', k));
        dl.appendChild(el('dd', '', val));
      }
      cols.appendChild(c);
    });
  }

  function render() {
    $('slider').value = String(ui.p);
    const ts = ui.p > 0 ? ui.mergedTs[ui.p - 1] : 0;
    $('pos').textContent = `event ${ui.p} / ${ui.merged.length} · t = ${fmtNs(ts)}`;
    ui.views.forEach((v, r) => {
      const col = document.querySelector(`section.run[data-run="${r}"]`);
      renderTimeline(v, col.querySelector('.timeline'), ts);
      renderCaches(v, col.querySelector('.caches'), ts);
      renderRcu(v, col.querySelector('.rcu'));
      renderLog(v, col.querySelector('.log'));
      renderStacks(v, col.querySelector('.stacks'));
      renderHistory(v, col.querySelector('.history'));
    });
  }

  function windowAround(v, ts) {
    const ev = v.run.events;
    const i = Math.max(0, v.pos - 1);
    const lo = ev[Math.max(0, i - 30)];
    const hi = ev[Math.min(ev.length - 1, i + 30)];
    let span = lo && hi ? Math.max(hi[0] - lo[0], 2000) : 10000;
    span *= ui.zoom;
    return [ts - span / 2, ts + span / 2];
  }

  function renderTimeline(v, box, ts) {
    const W = Math.max(400, box.clientWidth || 600);
    const lane = 34;
    const top = 18;
    const H = top + lane * v.run.cpuCount + 6;
    const [t0, t1] = windowAround(v, ts);
    const x = (t) => 56 + ((t - t0) / (t1 - t0)) * (W - 62);
    const s = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'tl' });
    for (let k = 0; k <= 4; k++) {
      const t = t0 + ((t1 - t0) * k) / 4;
      s.appendChild(svg('line', { x1: x(t), x2: x(t), y1: top - 4, y2: H, class: 'grid' }));
      const lbl = svg('text', { x: x(t), y: 11, class: 'axis', 'text-anchor': k === 0 ? 'start' : k === 4 ? 'end' : 'middle' });
      lbl.textContent = t < 0 ? '' : fmtNs(t);
      s.appendChild(lbl);
    }
    for (let c = 0; c < v.run.cpuCount; c++) {
      const y = top + c * lane;
      const name = svg('text', { x: 4, y: y + 15, class: 'lane' });
      name.textContent = `CPU ${c}`;
      s.appendChild(name);
      s.appendChild(svg('rect', { x: 56, y, width: W - 62, height: 20, class: 'lane-bg' }));
      for (const sl of v.slices[c]) {
        if (sl.e < t0 || sl.s > t1) continue;
        const a = Math.max(56, x(sl.s));
        const b = Math.min(W - 6, x(sl.e));
        const r = svg('rect', { x: a, y, width: Math.max(1, b - a), height: 20, class: `slice ${taskClass(sl.comm)}` });
        const title = svg('title', {});
        title.textContent = `${sl.comm}:${sl.pid} ${fmtNs(sl.s)} – ${fmtNs(sl.e)}`;
        r.appendChild(title);
        s.appendChild(r);
        if (b - a > 60) {
          const t = svg('text', { x: a + 3, y: y + 14, class: 'slice-label' });
          t.textContent = `${sl.comm}:${sl.pid}`;
          s.appendChild(t);
        }
      }
    }
    // Stack event marks under each lane.
    const ev = v.run.events;
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i];
      if (e[0] < t0) continue;
      if (e[0] > t1) break;
      const m = MARK[e[4]];
      if (!m || e[1] < 0 || e[1] >= v.run.cpuCount) continue;
      const y = top + e[1] * lane + 21;
      const mk = svg('path', { d: `M${x(e[0])},${y} l-4,8 h8 z`, class: `mark ${m[1]}${i === v.pos - 1 ? ' current' : ''}` });
      const title = svg('title', {});
      title.textContent = `${fmtNs(e[0])} cpu${e[1]}: ${e[5]}`;
      mk.appendChild(title);
      mk.addEventListener('click', () => {
        if (e[6]) ui.selected = e[6];
        seekToRunEvent(v, i + 1);
      });
      s.appendChild(mk);
    }
    s.appendChild(svg('line', { x1: x(ts), x2: x(ts), y1: top - 4, y2: H, class: 'cursor' }));
    box.textContent = '';
    box.appendChild(s);
  }

  function taskClass(comm) {
    if (comm.startsWith('kworker')) return 't-kworker';
    if (comm.startsWith('ksoftirq') || comm.startsWith('rcu')) return 't-kthread';
    let h = 0;
    for (let i = 0; i < comm.length; i++) h = (h * 31 + comm.charCodeAt(i)) >>> 0;
    return `t-user${h % 4}`;
  }

  function seekToRunEvent(v, count) {
    const r = ui.views.indexOf(v);
    // The first merged position where this run has applied `count` events.
    let lo = 0;
    let hi = ui.merged.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ui.at[r][mid] < count) lo = mid + 1;
      else hi = mid;
    }
    seek(lo);
  }

  function currentTask(v, cpu, ts) {
    const list = v.slices[cpu];
    let lo = 0;
    let hi = list.length - 1;
    let found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].s <= ts) {
        found = list[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found && found.e > ts ? `${found.comm}:${found.pid}` : 'idle';
  }

  function stackChip(v, key, extra) {
    const s = v.stacks.get(key);
    const b = el('button', `chip ${s ? STATE_CLASS[s.state] : ''}${key === ui.selected ? ' selected' : ''}`, key + (extra || ''));
    b.addEventListener('click', () => {
      ui.selected = key;
      render();
    });
    return b;
  }

  function renderCaches(v, box, ts) {
    box.textContent = '';
    let slots = v.run.cacheSlots;
    for (const s of v.stacks.values()) if (s.state === 'CACHED' && s.slot + 1 > slots) slots = s.slot + 1;
    const t = el('table', 'caches-t');
    for (let c = 0; c < v.run.cpuCount; c++) {
      const tr = el('tr');
      tr.appendChild(el('th', '', `CPU ${c}`));
      tr.appendChild(el('td', 'curr', currentTask(v, c, ts)));
      const td = el('td', 'slots');
      if (slots === 0) td.appendChild(el('span', 'muted', v.run.cacheSlots === 0 && v.run.label.includes('as traced') ? 'not in the trace' : 'no stack cache'));
      for (let k = 0; k < slots; k++) {
        let key = '';
        for (const [sk, s] of v.stacks) if (s.state === 'CACHED' && s.cpu === c && s.slot === k) key = sk;
        const cell = el('span', 'slot');
        cell.appendChild(el('span', 'slot-n', String(k)));
        if (key) cell.appendChild(stackChip(v, key));
        else cell.appendChild(el('span', 'empty', 'empty'));
        td.appendChild(cell);
      }
      tr.appendChild(td);
      t.appendChild(tr);
    }
    box.appendChild(t);
  }

  function renderRcu(v, box) {
    box.textContent = '';
    const q = [...v.rcuSeq.entries()].sort((a, b) => a[1] - b[1]);
    if (q.length === 0) box.appendChild(el('p', 'muted', 'empty'));
    for (const [k] of q.slice(0, 60)) {
      const s = v.stacks.get(k);
      box.appendChild(stackChip(v, k, s ? ` cpu${s.cpu}` : ''));
    }
    if (q.length > 60) box.appendChild(el('span', 'muted', ` … ${q.length - 60} more`));
  }

  function renderLog(v, box) {
    box.textContent = '';
    const ev = v.run.events;
    const cur = v.pos - 1;
    for (let i = Math.max(0, cur - 6); i < Math.min(ev.length, cur + 7); i++) {
      const e = ev[i];
      const li = el('li', `${i === cur ? 'current' : i > cur ? 'future' : ''} ${MARK[e[4]] ? MARK[e[4]][1] : ''}`);
      li.appendChild(el('span', 'ts', fmtNs(e[0])));
      li.appendChild(el('span', 'cpu', `cpu${e[1]}`));
      li.appendChild(el('span', 'who', `${e[3]}:${e[2]}`));
      li.appendChild(el('span', 'what', e[5]));
      li.addEventListener('click', () => seekToRunEvent(v, i + 1));
      box.appendChild(li);
    }
  }

  function renderStacks(v, box) {
    box.textContent = '';
    // Live stacks first; lazily freed ones (waiting for a purge) after them.
    const rank = (k) => (v.stacks.get(k).state === 'FREED_LAZY' ? 1 : 0);
    const keys = [...v.stacks.keys()].sort((a, b) => rank(a) - rank(b) || stackNum(a) - stackNum(b) || (a < b ? -1 : 1));
    if (keys.length === 0) box.appendChild(el('p', 'muted', 'no live stacks seen yet'));
    const counts = {};
    for (const k of keys) {
      const st = v.stacks.get(k).state;
      counts[st] = (counts[st] || 0) + 1;
    }
    const legend = el('div', 'legend');
    for (const st of Object.keys(counts).sort()) legend.appendChild(el('span', `chip ${STATE_CLASS[st]}`, `${st} ${counts[st]}`));
    box.appendChild(legend);
    const wrap = el('div', 'chips');
    for (const k of keys.slice(0, 400)) {
      const s = v.stacks.get(k);
      wrap.appendChild(stackChip(v, k, s.owner ? ` pid ${s.owner}` : ''));
    }
    box.appendChild(wrap);
  }

  function renderHistory(v, box) {
    if (!ui.selected) return;
    box.textContent = '';
    const list = v.byStack.get(ui.selected) || [];
    const s = v.stacks.get(ui.selected);
    box.appendChild(el('p', 'hist-title', `${ui.selected}: ${s ? s.state : 'not live now'} · ${list.length} events in ${v.run.label}`));
    const ol = el('ol', 'log');
    for (const i of list) {
      const e = v.run.events[i];
      const ch = e[7].find((c) => c[0] === ui.selected);
      const li = el('li', i === v.pos - 1 ? 'current' : i >= v.pos ? 'future' : '');
      li.appendChild(el('span', 'ts', fmtNs(e[0])));
      li.appendChild(el('span', 'cpu', `cpu${e[1]}`));
      li.appendChild(el('span', 'what', e[5]));
      if (ch) li.appendChild(el('span', `chip ${STATE_CLASS[ch[2]]}`, `${ch[1] || 'new'} → ${ch[2]}`));
      li.addEventListener('click', () => seekToRunEvent(v, i + 1));
      ol.appendChild(li);
    }
    box.appendChild(ol);
  }

  // ------------------------------------------------------------ controls

  $('run').addEventListener('click', runSim);
  $('upload').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) upload(f);
  });
  $('first').addEventListener('click', () => seek(0));
  $('back10').addEventListener('click', () => seek(ui.p - 10));
  $('back').addEventListener('click', () => seek(ui.p - 1));
  $('fwd').addEventListener('click', () => seek(ui.p + 1));
  $('fwd10').addEventListener('click', () => seek(ui.p + 10));
  $('last').addEventListener('click', () => seek(ui.merged.length));
  $('prevStack').addEventListener('click', () => seekStackEvent(-1));
  $('nextStack').addEventListener('click', () => seekStackEvent(1));
  $('zoomIn').addEventListener('click', () => {
    ui.zoom /= 2;
    render();
  });
  $('zoomOut').addEventListener('click', () => {
    ui.zoom *= 2;
    render();
  });
  $('slider').addEventListener('input', (e) => seek(Number(e.target.value)));
  document.addEventListener('keydown', (e) => {
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    if (e.key === 'ArrowRight') seek(ui.p + (e.shiftKey ? 10 : 1));
    else if (e.key === 'ArrowLeft') seek(ui.p - (e.shiftKey ? 10 : 1));
    else if (e.key === 'n') seekStackEvent(1);
    else if (e.key === 'p') seekStackEvent(-1);
    else return;
    e.preventDefault();
  });
  window.addEventListener('resize', () => render());
  loadMeta().catch((e) => status(e.message, true));
})();
