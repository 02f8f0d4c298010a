// The answer key: what the kernel itself says happened to each fork's stack,
// read from the vmalloc:* events. This is the only code in the replay that looks
// at them, and nothing here is visible to the driver (driver.ts).
//
// A fork missed the cache when a stack-sized alloc_vmap_area (THREAD_SIZE plus
// the guard page, aligned to THREAD_SIZE: __vmalloc_node_range from
// alloc_thread_stack_node) ran in the parent's context after that parent's
// previous task_newtask; every other fork hit.
import type { TraceRecord } from '../trace/types.ts';
import type { Outcome, ParsedPayload } from './driver.ts';
import {
  EV_ALLOC_VMAP,
  EV_FORK,
  EV_FREE_VMAP,
  EV_NEWTASK,
  EV_PURGE_VMAP,
  eventKind,
  PayloadFields,
  parseAllocVmapAt,
  parseForkAt,
  parseFreeVmapAt,
  parseNewtaskAt,
  parsePurgeVmapAt,
} from './fastparse.ts';
import { PidMap, PidSet } from './pidsets.ts';

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
  /**
   * Start addresses of the stacks alive when the recording started (`kstack
   * record` lists them from /proc/vmallocinfo), or null when not known: then a
   * stack allocated before the trace is told only by the pages its free adds
   * to nr_lazy.
   */
  stacksAtStart?: bigint[] | null;
  /**
   * The trace_marker text written when that list was read (kstack record's
   * STACK_LIST_MARKER): a stack freed between the start of tracing and the
   * read is not in it, so until the marker the nr_lazy rule still applies.
   * '' or absent: the list holds from the first line (recordings before the marker).
   */
  stacksListedAtMarker?: string;
  /** `f` is one object refilled per fork: valid only during the call. */
  onFork(f: ObservedFork): void;
}

const PAGE_BYTES = 4096;
/** Each stack's free adds its pages plus the guard page to nr_lazy. */

export class VmallocScorer {
  observedVfrees = 0;
  readonly observedVfreesByCpu: number[] = [];
  observedPurges = 0;
  /** Frees that may have been stacks but could not be told (see EV_FREE_VMAP): the observed count is observedVfrees to observedVfrees plus these. */
  unclassifiedVfrees = 0;
  stackAllocs = 0;
  private readonly sizeBytes: number;
  private readonly alignBytes: number;
  private readonly alignBig: bigint;
  private readonly lazyPagesPerStack: number;
  /** parent pid → line of its pending stack-sized alloc_vmap_area. */
  private readonly pendingAlloc = new PidMap();
  /** Addresses of stacks allocated in the trace and not yet freed. */
  private readonly stackAddrs = new Set<bigint>();
  private lastNrLazy = -1;
  /** Every stack freed in the trace is in stackAddrs (listed at the start, or allocated since). */
  private stackAddrsComplete: boolean;
  /** The marker after which stackAddrs is complete, while it has not been seen ('' once seen or not awaited). */
  private awaitMarker: string;
  private readonly newtaskSeen = new PidSet();
  private readonly onFork: (f: ObservedFork) => void;
  private readonly scratch = new PayloadFields();
  private readonly observed: ObservedFork = { lineNo: 0, childPid: 0, observed: 'hit', allocLineNo: -1 };

  constructor(opts: ScorerOptions) {
    this.sizeBytes = opts.threadSizeBytes + PAGE_BYTES;
    this.alignBytes = opts.threadSizeBytes;
    this.alignBig = BigInt(opts.threadSizeBytes);
    this.lazyPagesPerStack = this.sizeBytes / PAGE_BYTES;
    this.onFork = opts.onFork;
    const listed = opts.stacksAtStart != null;
    this.awaitMarker = listed ? (opts.stacksListedAtMarker ?? '') : '';
    this.stackAddrsComplete = listed && this.awaitMarker === '';
    for (const a of opts.stacksAtStart ?? []) this.stackAddrs.add(a);
  }

  onRecord(r: TraceRecord): void {
    const p = r.payload;
    this.onEvent(r, eventKind(r.event), p, 0, p.length, null);
  }

  /** One record whose event is `kind` and payload s[lo, hi); `parsed` as for ReplayDriver.onEvent. */
  onEvent(r: TraceRecord, kind: number, s: string, lo: number, hi: number, parsed: ParsedPayload | null): void {
    const o = this.scratch;
    switch (kind) {
      case EV_ALLOC_VMAP: {
        if (!parseAllocVmapAt(s, lo, hi, o) || o.num3 !== 0 || o.num !== this.sizeBytes || o.num2 !== this.alignBytes) return;
        this.stackAllocs++;
        this.pendingAlloc.set(r.pid, r.lineNo);
        this.stackAddrs.add(o.addr);
        return;
      }
      case EV_FREE_VMAP: {
        if (!parseFreeVmapAt(s, lo, hi, o)) return;
        let isStack = this.stackAddrs.delete(o.addr);
        if (!this.stackAddrsComplete) {
          // A stack allocated before the trace is known only by the 5 pages it adds to nr_lazy.
          isStack ||= this.lastNrLazy >= 0 && o.num - this.lastNrLazy === this.lazyPagesPerStack;
          // The first free after the trace starts (or after a purge) has no nr_lazy before it to
          // tell its size by: a THREAD_SIZE-aligned one may be a stack allocated before the trace.
          if (!isStack && this.lastNrLazy < 0 && o.addr % this.alignBig === 0n) this.unclassifiedVfrees++;
        }
        this.lastNrLazy = o.num;
        if (!isStack) return;
        this.observedVfrees++;
        this.observedVfreesByCpu[r.cpu] = (this.observedVfreesByCpu[r.cpu] ?? 0) + 1;
        return;
      }
      case EV_PURGE_VMAP:
        if (!parsePurgeVmapAt(s, lo, hi, o)) return;
        this.observedPurges++;
        this.lastNrLazy = -1;
        return;
      case EV_NEWTASK: {
        const n = parsed ?? { f: o, ok: parseNewtaskAt(s, lo, hi, o) };
        if (!n.ok) return;
        const pid = n.f.pid;
        this.newtaskSeen.add(pid);
        this.fork(r, pid);
        return;
      }
      case EV_FORK: {
        const f = parsed ?? { f: o, ok: parseForkAt(s, lo, hi, o) };
        if (!f.ok || this.newtaskSeen.delete(f.f.pid2)) return;
        this.fork(r, f.f.pid2);
        return;
      }
      default:
        if (this.awaitMarker !== '' && (r.event === 'tracing_mark_write' || r.event === 'print')) {
          const at = s.indexOf(this.awaitMarker, lo);
          if (at >= 0 && at < hi) {
            this.awaitMarker = '';
            this.stackAddrsComplete = true;
          }
        }
        return;
    }
  }

  private fork(r: TraceRecord, childPid: number): void {
    const allocLineNo = this.pendingAlloc.take(r.pid);
    const f = this.observed;
    f.lineNo = r.lineNo;
    f.childPid = childPid;
    f.observed = allocLineNo === undefined ? 'hit' : 'miss';
    f.allocLineNo = allocLineNo ?? -1;
    this.onFork(f);
  }
}

