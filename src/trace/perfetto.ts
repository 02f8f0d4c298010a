// Chrome JSON trace (Trace Event Format) of the model's events, for the Perfetto
// UI and chrome://tracing: one process per run (config), a thread per CPU with a
// slice per task run (from sched_switch) and an instant per lifecycle event
// (fork, exit, stack take, release, cache put, RCU-pending, vfree, purge), a
// thread for RCU grace periods, and counter tracks for each CPU's stack cache,
// RCU-pending stacks, stack memory and vmap_lazy_nr. See
// /work/shared/reference/trace-formats.md §1.4 for what Perfetto honours: only
// `process_name`/`thread_name` metadata, `C` args as one track per key, `i`
// with `s: "t"` as a zero-length slice on the thread. `ts`/`dur` are µs.
//
// Several runs go into one file so two configs can be compared in one view.
import type { KernelEvent, Tracer } from '../kernel/events.ts';
import { writeAtomic } from '../cli/io.ts';
import { Lifecycle } from '../report/lifecycle.ts';

export interface PerfettoRunMeta {
  /** Shown as the process name, e.g. "linux-6.18 · pthread-loop". */
  label: string;
  cpuCount: number;
  /** Written into `otherData` and the process args (workload, seed, ...). */
  params?: Record<string, string | number>;
}

type Phase = 'X' | 'i' | 'C' | 'M';

/** A trace event before its run is given a pid. `tid` is local: a CPU, or RCU_TID. */
interface Rec {
  ph: Phase;
  name: string;
  cat: string;
  tsNs: number;
  durNs: number;
  tid: number;
  args: Record<string, string | number | boolean>;
}

const RCU_TID = 9000;
const PROCESS_TID = 9999;
/** Local tids are < TID_STRIDE, so pid * TID_STRIDE + local is unique across runs. */
const TID_STRIDE = 10000;

interface Running {
  pid: number;
  comm: string;
  startNs: number;
}

/** Collects one run's events as trace records; hand it to `perfettoJson` / `writePerfetto` when the run is over. */
export class PerfettoTracer implements Tracer {
  readonly enabled = true;
  private readonly recs: Rec[] = [];
  private readonly life: Lifecycle;
  private readonly running: (Running | null)[] = [];
  private gpStartNs = -1;
  private gp = 0;
  private lastNs = 0;
  private finished = false;
  private peakStackKiB: number | null = null;
  private readonly last = { occupancy: [] as number[], rcu: -1, pages: Number.NaN, lazy: -1 };
  /** Stack pages relative to the start of the run, to place stack memory on an absolute scale at the end. */
  private minPagesDelta = 0;
  private maxPagesDelta = 0;

  constructor(readonly meta: PerfettoRunMeta) {
    this.life = new Lifecycle(meta.cpuCount);
    for (let c = 0; c < meta.cpuCount; c++) this.running.push(null);
  }

  emit(e: KernelEvent): void {
    if (this.finished) throw new Error(`PerfettoTracer(${this.meta.label}): event after finish()`);
    this.lastNs = Math.max(this.lastNs, e.tsNs);
    this.life.apply(e);
    if (e.name === 'sched_switch') this.onSwitch(e);
    else if (e.name === 'rcu_gp_start') this.onGpStart(e);
    else if (e.name === 'rcu_gp_end') this.onGpEnd(e);
    else this.instant(e);
    this.counters(e.tsNs);
  }

  /**
   * Ends open slices at the last event. `peakStackKiB` (from the run's result)
   * puts the stack-memory counter on an absolute scale: the events only show
   * stacks allocated during the run, not those its tasks were born with.
   */
  finish(result?: { peakStackKiB?: number }): void {
    if (this.finished) return;
    this.finished = true;
    for (let c = 0; c < this.running.length; c++) this.closeRun(c, this.lastNs, '');
    if (this.gpStartNs >= 0) this.slice(RCU_TID, 'grace period', 'rcu', this.gpStartNs, this.lastNs, { gp: this.gp, open: true });
    if (result?.peakStackKiB !== undefined) this.peakStackKiB = result.peakStackKiB;
  }

  /** The records with pid `pid` as JSON lines (no trailing commas), metadata first. */
  render(pid: number): string[] {
    this.finish();
    const out: string[] = [];
    const tid = (local: number): number => pid * TID_STRIDE + local;
    const meta = (name: string, t: number, args: Record<string, string | number>): void => {
      out.push(JSON.stringify({ name, ph: 'M', pid, tid: t, args }));
    };
    meta('process_name', tid(PROCESS_TID), { name: this.meta.label });
    meta('process_sort_index', tid(PROCESS_TID), { sort_index: pid });
    if (this.meta.params) meta('process_labels', tid(PROCESS_TID), { labels: paramsText(this.meta.params) });
    for (let c = 0; c < this.meta.cpuCount; c++) {
      meta('thread_name', tid(c), { name: `CPU ${c}` });
      meta('thread_sort_index', tid(c), { sort_index: c });
    }
    meta('thread_name', tid(RCU_TID), { name: 'RCU grace periods' });
    meta('thread_sort_index', tid(RCU_TID), { sort_index: RCU_TID });
    const baselineKiB = this.peakStackKiB !== null ? this.peakStackKiB - this.maxPagesDelta * 4 : -this.minPagesDelta * 4;
    for (const r of this.recs) {
      const o: Record<string, unknown> = { name: r.name, cat: r.cat, ph: r.ph, ts: r.tsNs / 1000, pid, tid: tid(r.tid) };
      if (r.ph === 'X') o.dur = r.durNs / 1000;
      if (r.ph === 'i') o.s = 't';
      o.args = r.name === 'stack memory' ? { KiB: baselineKiB + Number(r.args.pages) * 4 } : r.args;
      out.push(JSON.stringify(o));
    }
    return out;
  }

  // ------------------------------------------------------------------ slices

  private onSwitch(e: KernelEvent): void {
    const a = e.args;
    this.closeRun(e.cpu, e.tsNs, String(a.prev_state));
    const next = Number(a.next_pid);
    this.running[e.cpu] = next === 0 ? null : { pid: next, comm: String(a.next_comm), startNs: e.tsNs };
  }

  private closeRun(cpu: number, endNs: number, prevState: string): void {
    const r = this.running[cpu];
    if (!r) return;
    this.running[cpu] = null;
    const args: Record<string, string | number> = { pid: r.pid, comm: r.comm };
    if (prevState !== '') args.prev_state = prevState;
    this.slice(cpu, `${r.comm} ${r.pid}`, 'sched', r.startNs, endNs, args);
  }

  private onGpStart(e: KernelEvent): void {
    this.gpStartNs = e.tsNs;
    this.gp = Number(e.args.gp);
  }

  private onGpEnd(e: KernelEvent): void {
    if (this.gpStartNs < 0) return;
    this.slice(RCU_TID, 'grace period', 'rcu', this.gpStartNs, e.tsNs, { gp: Number(e.args.gp) });
    this.gpStartNs = -1;
  }

  private slice(tid: number, name: string, cat: string, startNs: number, endNs: number, args: Rec['args']): void {
    this.recs.push({ ph: 'X', name, cat, tsNs: startNs, durNs: Math.max(0, endNs - startNs), tid, args });
  }

  // ---------------------------------------------------------------- instants

  private instant(e: KernelEvent): void {
    const what = INSTANTS[e.name];
    if (!what) return;
    const args: Rec['args'] = { ...e.args, on: `${e.comm} ${e.pid}` };
    if (e.ctx !== 'task') args.ctx = e.ctx;
    this.recs.push({ ph: 'i', name: what.name, cat: what.cat, tsNs: e.tsNs, durNs: 0, tid: Math.max(0, e.cpu), args });
  }

  // ---------------------------------------------------------------- counters

  private counters(tsNs: number): void {
    const c = this.life.counters;
    const l = this.last;
    for (let cpu = 0; cpu < c.cacheOccupancy.length; cpu++) {
      if (l.occupancy[cpu] === c.cacheOccupancy[cpu]) continue;
      l.occupancy[cpu] = c.cacheOccupancy[cpu];
      this.counter(tsNs, `cpu${cpu} stack cache`, { stacks: c.cacheOccupancy[cpu] });
    }
    if (l.rcu !== c.rcuPending) {
      l.rcu = c.rcuPending;
      this.counter(tsNs, 'RCU-pending stacks', { stacks: c.rcuPending });
    }
    if (l.pages !== c.stackPagesDelta) {
      l.pages = c.stackPagesDelta;
      this.minPagesDelta = Math.min(this.minPagesDelta, c.stackPagesDelta);
      this.maxPagesDelta = Math.max(this.maxPagesDelta, c.stackPagesDelta);
      this.counter(tsNs, 'stack memory', { pages: c.stackPagesDelta });
    }
    if (l.lazy !== c.vmapLazyPages) {
      l.lazy = c.vmapLazyPages;
      this.counter(tsNs, 'vmap_lazy_nr', { pages: c.vmapLazyPages });
    }
  }

  private counter(tsNs: number, name: string, args: Rec['args']): void {
    this.recs.push({ ph: 'C', name, cat: 'counter', tsNs, durNs: 0, tid: PROCESS_TID, args });
  }
}

/** Which model events become instants, under what name. Names are categories; ids go in args. */
const INSTANTS: Partial<Record<KernelEvent['name'], { name: string; cat: string }>> = {
  task_newtask: { name: 'fork', cat: 'task' },
  sched_process_exit: { name: 'exit', cat: 'task' },
  sched_process_free: { name: 'task_struct freed', cat: 'task' },
  stack_cache_hit: { name: 'stack take: cache hit', cat: 'stack' },
  stack_cache_miss: { name: 'stack take: cache miss', cat: 'stack' },
  mm_page_alloc: { name: 'stack take: order-2 pages', cat: 'stack' },
  stack_release: { name: 'stack release', cat: 'stack' },
  stack_cache_put: { name: 'stack cache put', cat: 'stack' },
  stack_rcu_pending: { name: 'stack RCU-pending', cat: 'stack' },
  stack_vfree: { name: 'stack vfree', cat: 'stack' },
  mm_page_free: { name: 'stack pages freed', cat: 'stack' },
  purge_vmap_area_lazy: { name: 'vmap purge + TLB flush', cat: 'vmalloc' },
  stack_cache_drain: { name: 'stack cache drain (hotplug)', cat: 'stack' },
  fork_failed: { name: 'fork failed', cat: 'task' },
  kstack_violation: { name: 'VIOLATION', cat: 'violation' },
};

function paramsText(p: Record<string, string | number>): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${p[k]}`)
    .join(', ');
}

/**
 * The whole file. It starts with `{"` so Perfetto's sniffer takes it as JSON;
 * runs become processes 1..n in the order given.
 */
export function perfettoJson(runs: readonly PerfettoTracer[]): string {
  const lines: string[] = [];
  runs.forEach((r, i) => {
    for (const l of r.render(i + 1)) lines.push(l);
  });
  const otherData: Record<string, string> = { generator: 'kstack' };
  runs.forEach((r, i) => {
    otherData[`run${i + 1}`] = r.meta.params ? `${r.meta.label}: ${paramsText(r.meta.params)}` : r.meta.label;
  });
  return `{"traceEvents":[\n${lines.join(',\n')}\n],"displayTimeUnit":"ns","otherData":${JSON.stringify(otherData)}}\n`;
}

/** Convenience for a stream already held in memory. */
export function perfettoFromEvents(events: Iterable<KernelEvent>, meta: PerfettoRunMeta, result?: { peakStackKiB?: number }): PerfettoTracer {
  const t = new PerfettoTracer(meta);
  for (const e of events) t.emit(e);
  t.finish(result);
  return t;
}

/** Writes the trace atomically (temp file, then rename). */
export async function writePerfetto(path: string, runs: readonly PerfettoTracer[]): Promise<void> {
  await writeAtomic(path, perfettoJson(runs));
}
