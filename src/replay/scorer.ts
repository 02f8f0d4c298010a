// The answer key: what the kernel itself says happened to each fork's stack,
// read from the vmalloc:* events. This is the only code in the replay that looks
// at them, and nothing here is visible to the driver (driver.ts).
//
// A fork missed the cache when a stack-sized alloc_vmap_area (THREAD_SIZE plus
// the guard page, aligned to THREAD_SIZE: __vmalloc_node_range from
// alloc_thread_stack_node) ran in the parent's context after that parent's
// previous task_newtask; every other fork hit.
import { parseAllocVmapArea, parseFreeVmapAreaNoflush, parsePurgeVmapAreaLazy, parseTaskNewtask, parseSchedProcessFork } from '../trace/events.ts';
import type { TraceRecord } from '../trace/types.ts';
import type { Outcome } from './driver.ts';

export interface ObservedFork {
  lineNo: number;
  childPid: number;
  observed: Outcome;
  /** The alloc_vmap_area line of a miss. */
  allocLineNo: number;
}

export interface ScorerOptions {
  /** THREAD_SIZE in bytes (16 KiB on x86_64 without KASAN). */
  threadSizeBytes: number;
  onFork(f: ObservedFork): void;
}

const PAGE_BYTES = 4096;
/** Each stack's free adds its pages plus the guard page to nr_lazy. */

export class VmallocScorer {
  observedVfrees = 0;
  readonly observedVfreesByCpu: number[] = [];
  observedPurges = 0;
  stackAllocs = 0;
  private readonly sizeBytes: number;
  private readonly alignBytes: number;
  private readonly lazyPagesPerStack: number;
  /** parent pid → line of its pending stack-sized alloc_vmap_area. */
  private readonly pendingAlloc = new Map<number, number>();
  /** Addresses of stacks allocated in the trace and not yet freed. */
  private readonly stackAddrs = new Set<bigint>();
  private lastNrLazy = -1;
  private readonly newtaskSeen = new Set<number>();
  private readonly onFork: (f: ObservedFork) => void;

  constructor(opts: ScorerOptions) {
    this.sizeBytes = opts.threadSizeBytes + PAGE_BYTES;
    this.alignBytes = opts.threadSizeBytes;
    this.lazyPagesPerStack = this.sizeBytes / PAGE_BYTES;
    this.onFork = opts.onFork;
  }

  onRecord(r: TraceRecord): void {
    switch (r.event) {
      case 'alloc_vmap_area': {
        const a = parseAllocVmapArea(r.payload);
        if (a === null || a.failed !== 0 || a.sizeBytes !== this.sizeBytes || a.alignBytes !== this.alignBytes) return;
        this.stackAllocs++;
        this.pendingAlloc.set(r.pid, r.lineNo);
        this.stackAddrs.add(a.vaStart);
        return;
      }
      case 'free_vmap_area_noflush': {
        const f = parseFreeVmapAreaNoflush(r.payload);
        if (f === null) return;
        // A stack allocated before the trace is known only by the 5 pages it adds to nr_lazy.
        const isStack =
          this.stackAddrs.delete(f.vaStart) || (this.lastNrLazy >= 0 && f.nrLazyPages - this.lastNrLazy === this.lazyPagesPerStack);
        this.lastNrLazy = f.nrLazyPages;
        if (!isStack) return;
        this.observedVfrees++;
        this.observedVfreesByCpu[r.cpu] = (this.observedVfreesByCpu[r.cpu] ?? 0) + 1;
        return;
      }
      case 'purge_vmap_area_lazy':
        if (parsePurgeVmapAreaLazy(r.payload) === null) return;
        this.observedPurges++;
        this.lastNrLazy = -1;
        return;
      case 'task_newtask': {
        const n = parseTaskNewtask(r.payload);
        if (n === null) return;
        this.newtaskSeen.add(n.pid);
        this.fork(r, n.pid);
        return;
      }
      case 'sched_process_fork': {
        const f = parseSchedProcessFork(r.payload);
        if (f === null || this.newtaskSeen.delete(f.childPid)) return;
        this.fork(r, f.childPid);
        return;
      }
      default:
        return;
    }
  }

  private fork(r: TraceRecord, childPid: number): void {
    const allocLineNo = this.pendingAlloc.get(r.pid);
    if (allocLineNo !== undefined) this.pendingAlloc.delete(r.pid);
    this.onFork({ lineNo: r.lineNo, childPid, observed: allocLineNo === undefined ? 'hit' : 'miss', allocLineNo: allocLineNo ?? -1 });
  }
}
