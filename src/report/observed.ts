// What the kernel itself did, read from a trace's vmalloc:* events and turned
// into the model's event shapes so the report and the UI draw it like a model
// run: a fork whose parent ran a stack-sized alloc_vmap_area missed the cache
// (src/replay/scorer.ts decides, the same answer key the validation uses),
// every other fork hit; vmap_lazy_nr comes from free_vmap_area_noflush, and a
// purge_vmap_area_lazy resets it. With `timeline`, the scheduler and task
// events come through too (sched_switch, task_newtask, sched_process_exit).
import type { KernelEvent, Tracer } from '../kernel/events.ts';
import { VmallocScorer } from '../replay/scorer.ts';
import { parseFreeVmapAreaNoflush, parsePurgeVmapAreaLazy, parseSchedProcessExit, parseSchedSwitch, parseTaskNewtask } from '../trace/events.ts';
import { readTrace, type ReadOptions } from '../trace/reader.ts';
import type { ReaderStats, TraceRecord } from '../trace/types.ts';

export interface ObservedOptions {
  threadSizeBytes: number;
  /** Also pass the scheduler and task events through (the UI's timeline). */
  timeline?: boolean;
}

/** Reads a trace file (or '-'); see `observedFromReader` for text already in memory. */
export function observedEvents(source: string, threadSizeBytes: number, sink: Tracer, onFirstRecord?: (tsNs: number) => void): Promise<ReaderStats> {
  let first = true;
  const read = (o: ReadOptions): Promise<ReaderStats> =>
    readTrace(source, {
      ...o,
      onRecord(r) {
        if (first) onFirstRecord?.(r.tsNs);
        first = false;
        o.onRecord(r);
      },
    });
  return observedFromReader(read, { threadSizeBytes }, sink);
}

export function observedFromReader<R extends ReaderStats | Promise<ReaderStats>>(read: (o: ReadOptions) => R, opts: ObservedOptions, sink: Tracer): R {
  let current: TraceRecord | null = null;
  const event = (r: TraceRecord, name: KernelEvent['name'], args: KernelEvent['args']): void => {
    sink.emit({ tsNs: r.tsNs, cpu: r.cpu, pid: r.pid, comm: r.comm, ctx: 'task', name, args });
  };
  const scorer = new VmallocScorer({
    threadSizeBytes: opts.threadSizeBytes,
    onFork(f) {
      if (current === null) return;
      event(current, f.observed === 'hit' ? 'stack_cache_hit' : 'stack_cache_miss', { child_pid: f.childPid, line: f.lineNo });
    },
  });
  return read({
    onRecord(r) {
      current = r;
      scorer.onRecord(r);
      switch (r.event) {
        case 'free_vmap_area_noflush': {
          const f = parseFreeVmapAreaNoflush(r.payload);
          if (f) event(r, 'free_vmap_area_noflush', { nr_lazy: f.nrLazyPages, nr_lazy_max: f.nrLazyMaxPages });
          return;
        }
        case 'purge_vmap_area_lazy': {
          const p = parsePurgeVmapAreaLazy(r.payload);
          if (p) event(r, 'purge_vmap_area_lazy', { num_purged: p.numPurged });
          return;
        }
        default:
          if (opts.timeline) timelineEvent(r, event);
      }
    },
  });
}

function timelineEvent(r: TraceRecord, event: (r: TraceRecord, name: KernelEvent['name'], args: KernelEvent['args']) => void): void {
  if (r.event === 'sched_switch') {
    const s = parseSchedSwitch(r.payload);
    if (s) event(r, 'sched_switch', { prev_comm: s.prevComm, prev_pid: s.prevPid, prev_state: s.prevState, next_comm: s.nextComm, next_pid: s.nextPid });
  } else if (r.event === 'task_newtask') {
    const n = parseTaskNewtask(r.payload);
    if (n) event(r, 'task_newtask', { pid: n.pid, comm: n.comm });
  } else if (r.event === 'sched_process_exit') {
    const x = parseSchedProcessExit(r.payload);
    if (x) event(r, 'sched_process_exit', { comm: x.comm, pid: x.pid });
  }
}
