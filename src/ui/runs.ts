// What the UI shows of one run: its events, each with the stack state changes
// it caused (with the state before, so the page steps backwards as cheaply as
// forwards). Built on the server from KernelEvents by the same Lifecycle the
// Perfetto export and the report use.
import { gunzipSync } from 'node:zlib';
import { getPreset } from '../config/index.ts';
import { ArrayTracer, type KernelEvent } from '../kernel/events.ts';
import { Lifecycle, resolveMissStacks, stackKey } from '../report/lifecycle.ts';
import { observedFromReader } from '../report/observed.ts';
import { runSim } from '../sim/run.ts';
import { readTraceText } from '../trace/reader.ts';

/** One event as the page gets it: [tsNs, cpu, pid, comm, name, text, stack key, changes, next task of a switch ('comm:pid' or '')]. */
export type UiEvent = [number, number, number, string, string, string, string, UiChange[], string];
/** [stack key, from state ('' = new), to state, cpu, slot, owner pid] */
export type UiChange = [string, string, string, number, number, number];

export interface UiRun {
  label: string;
  cpuCount: number;
  /** Slots per CPU cache (0: no cache). */
  cacheSlots: number;
  summary: [string, string][];
  events: UiEvent[];
  truncated: boolean;
}

export const UI_EVENTS_MAX = 60_000;
export const UI_OPS_MAX = 5_000;

/** Events worth a line in the UI; the rest (wakeups, pins, page allocator internals) stay out. */
const SHOWN = new Set<KernelEvent['name']>([
  'sched_switch',
  'task_newtask',
  'sched_process_exit',
  'sched_process_free',
  'stack_cache_hit',
  'stack_cache_miss',
  'mm_page_alloc',
  'stack_release',
  'stack_cache_put',
  'stack_rcu_pending',
  'stack_vfree',
  'mm_page_free',
  'free_vmap_area_noflush',
  'purge_vmap_area_lazy',
  'rcu_gp_start',
  'rcu_gp_end',
  'stack_cache_drain',
  'fork_failed',
  'kstack_violation',
]);

export function uiRun(label: string, cpuCount: number, cacheSlots: number, all: readonly KernelEvent[], summary: [string, string][]): UiRun {
  const missIds = resolveMissStacks(all);
  const life = new Lifecycle(cpuCount, missIds);
  const events: UiEvent[] = [];
  let truncated = false;
  for (let i = 0; i < all.length; i++) {
    const e = all[i];
    const changes = life.apply(e);
    if (!SHOWN.has(e.name)) continue;
    if (events.length >= UI_EVENTS_MAX) {
      truncated = true;
      break;
    }
    const key = typeof e.args.stack === 'number' ? stackKey(e.args.stack) : (changes[0]?.key ?? '');
    const ch: UiChange[] = changes.map((c) => [c.key, c.from ?? '', c.to, c.cpu, c.slot, c.ownerPid]);
    const next = e.name === 'sched_switch' ? `${e.args.next_comm}:${e.args.next_pid}` : '';
    events.push([e.tsNs, e.cpu, e.pid, e.comm, e.name, describe(e), key, ch, next]);
  }
  return { label, cpuCount, cacheSlots, summary, events, truncated };
}

function describe(e: KernelEvent): string {
  const a = e.args;
  switch (e.name) {
    case 'sched_switch':
      return `${a.prev_comm}:${a.prev_pid} [${a.prev_state}] → ${a.next_comm}:${a.next_pid}`;
    case 'task_newtask':
      return `fork → ${a.comm}:${a.pid}`;
    case 'sched_process_exit':
      return `exit ${a.comm}:${a.pid}`;
    case 'sched_process_free':
      return `task_struct of ${a.comm}:${a.pid} freed (RCU)`;
    case 'stack_cache_hit':
      return a.slot !== undefined ? `stack cache hit: #${a.stack} from slot ${a.slot}` : 'stack cache hit';
    case 'stack_cache_miss':
      return 'stack cache miss → vmalloc';
    case 'mm_page_alloc':
      return `order-${a.order} pages for stack #${a.stack}`;
    case 'stack_release':
      return `put_task_stack: #${a.stack} of pid ${a.pid} released`;
    case 'stack_cache_put':
      return `#${a.stack} into cpu${e.cpu} cache slot ${a.slot}`;
    case 'stack_rcu_pending':
      return `cache full: #${a.stack} → call_rcu`;
    case 'stack_vfree':
      return `vfree #${a.stack}`;
    case 'mm_page_free':
      return `stack #${a.stack} pages freed`;
    case 'free_vmap_area_noflush':
      return `lazy free: vmap_lazy_nr ${a.nr_lazy}${a.nr_lazy_max !== undefined ? ` / ${a.nr_lazy_max}` : ''}`;
    case 'purge_vmap_area_lazy':
      return `purge ${a.num_purged} areas + TLB flush`;
    case 'rcu_gp_start':
      return `grace period ${a.gp} starts`;
    case 'rcu_gp_end':
      return `grace period ${a.gp} ends`;
    case 'stack_cache_drain':
      return `cpu${a.cpu} going offline: ${a.freed} cached stacks freed`;
    case 'fork_failed':
      return `fork failed (${a.reason})`;
    case 'kstack_violation':
      return `VIOLATION ${a.kind} (pid ${a.pid}, stack #${a.stack})`;
    default:
      return e.name;
  }
}

export interface SimSpec {
  workload: string;
  config: string;
  cpus: number;
  ops: number;
  seed: number;
  placement: string;
}

export function simUiRun(s: SimSpec): UiRun {
  const config = getPreset(s.config);
  const tracer = new ArrayTracer();
  const r = runSim({ config, workload: s.workload, cpus: s.cpus, placement: s.placement, ops: Math.min(s.ops, UI_OPS_MAX), seed: s.seed, tracer });
  const vmap = r.stackCache.hits + r.stackCache.misses > 0;
  return uiRun(`${r.config}`, s.cpus, config.VMAP_STACK ? config.NR_CACHED_STACKS : 0, tracer.events, [
    ['workload', s.workload],
    ['CPUs · placement', `${s.cpus} · ${r.placement}`],
    ['ops · seed', `${r.ops} · ${s.seed}`],
    ['µs/op', r.usPerOp.toFixed(3)],
    ['hit rate', vmap ? `${(r.stackCache.hitRate * 100).toFixed(2)}% (${r.stackCache.hits}/${r.stackCache.hits + r.stackCache.misses})` : 'no cache'],
    ['vfrees · purges', `${r.vfrees} · ${r.purges}`],
    ['peak KiB · peak RCU', `${r.peakStackKiB} · ${r.peakRcuPendingStacks}`],
    ['violations', String(r.violations.length + r.invariantProblems.length)],
  ]);
}

/** A trace (bytes as read or uploaded; gzip is unpacked): what the kernel did, as the trace shows it. */
export function traceUiRun(name: string, bytes: Uint8Array): UiRun {
  const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
  const tracer = new ArrayTracer();
  const stats = observedFromReader((o) => readTraceText(text, o, name), { threadSizeBytes: 16384, timeline: true }, tracer);
  let cpus = 1;
  for (const e of tracer.events) if (e.cpu + 1 > cpus) cpus = e.cpu + 1;
  const hits = tracer.events.filter((e) => e.name === 'stack_cache_hit').length;
  const misses = tracer.events.filter((e) => e.name === 'stack_cache_miss').length;
  return uiRun(`${name} (kernel, as traced)`, cpus, 0, tracer.events, [
    ['trace', name],
    ['format · lines', `${stats.format} · ${stats.lines}`],
    ['CPUs', String(cpus)],
    ['forks: hits · misses', `${hits} · ${misses}`],
    ['note', 'a trace shows takes, switches and vmap_lazy_nr; cache contents come from a model run'],
  ]);
}
