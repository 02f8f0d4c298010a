// One replay of one trace under one config: the reader feeds the driver (the
// prediction, which never sees vmalloc:* events) and, with validation on, the
// scorer (the answer key) as a separate listener; the validator joins the two
// per fork. Memory is bounded by live tasks and the small context rings, not by
// the length of the trace.
import type { Tracer } from '../kernel/events.ts';
import { existsSync, readFileSync } from 'node:fs';
import type { KernelConfig } from '../config/knobs.ts';
import { EventLineParser, RecordView } from '../trace/formats.ts';
import { readTrace } from '../trace/reader.ts';
import type { ReaderStats, TraceRecord } from '../trace/types.ts';
import { type Anomalies, type ForkPrediction, type GracePeriods, type Outcome, type ParsedPayload, ReplayDriver } from './driver.ts';
import { EV_FORK, EV_NEWTASK, eventKind, isAnswerKeyKind, PayloadFields, parseForkAt, parseNewtaskAt } from './fastparse.ts';
import { type ObservedFork, VmallocScorer } from './scorer.ts';

/** vmalloc:* events are the answer key; the driver must never be given them. */
export function isAnswerKeyEvent(event: string): boolean {
  return event === 'alloc_vmap_area' || event === 'free_vmap_area_noflush' || event === 'purge_vmap_area_lazy';
}

export interface Confusion {
  /** predicted hit, observed hit */
  hitHit: number;
  hitMiss: number;
  missHit: number;
  missMiss: number;
}

export interface Disagreement {
  lineNo: number;
  cpu: number;
  tsNs: number;
  parentPid: number;
  childPid: number;
  predicted: string;
  observed: string;
  /** Where the prediction took the stack (marker or task_newtask). */
  takenLineNo: number;
  allocLineNo: number;
  /** The trace lines around the fork, `lineNo: text`. */
  context: string[];
}

export interface ModelTotals {
  forks: number;
  hits: number;
  misses: number;
  vfrees: number;
  /** Stacks still on a vfree_deferred list when the trace ended: the kernel freed them after it (not in vfrees). */
  vfreesQueuedAtEnd: number;
  purges: number;
  rcuRetryHits: number;
  peakStackBytes: number;
  peakRcuPendingStacks: number;
  stackAllocNs: number;
  stackFreeNs: number;
}

export interface ReplayResult {
  trace: string;
  config: string;
  events: number;
  lines: number;
  cpus: number;
  forks: number;
  scored: number;
  burnIn: number;
  excludedLost: number;
  failedForks: number;
  agreement: number | null;
  confusion: Confusion;
  perCpu: { cpu: number; forks: number; scored: number; agreement: number | null; confusion: Confusion; vfreesPredicted: number; vfreesObserved: number }[];
  /**
   * Predicted by the primary model (full caches at the start); predictedMin
   * and predictedMax are the least and most any starting fill gives, since
   * the caches' contents at trace start are unknown. observedUnclassified:
   * vfrees the answer key could not tell stack from other (the first after the
   * trace starts or after a purge, of an area allocated before the trace).
   */
  vfrees: { predicted: number; predictedMin: number; predictedMax: number; observed: number; observedUnclassified: number };
  purges: { predicted: number; predictedMin: number; predictedMax: number; observed: number; observedUnclassified: number };
  stackAllocsObserved: number;
  /** Stacks the capture's metadata listed as alive at its start (the answer key's complete list), or null without one. */
  stacksAtStart: number | null;
  model: ModelTotals;
  /** Starting fills still considered at the end (1 once converged). */
  variantsLeft: number;
  convergedAtLine: number;
  lostEvents: { cpu: number; lineNo: number; count: number }[];
  anomalies: Anomalies;
  gracePeriods: GracePeriods;
  reader: { format: string; skippedLines: number; truncated: boolean };
  disagreements: Disagreement[];
  validated: boolean;
  seconds: number;
}

export interface ReplayOptions {
  config: KernelConfig;
  validate: boolean;
  /** Consider every starting fill (default: with validate). */
  allFills?: boolean;
  cpus?: number;
  maxDisagreements?: number;
  /** Lines of context kept before and after a disagreement. */
  contextLines?: number;
  /** Observer called every 65536 events with the count so far (progress lines; never changes the replay). */
  onProgress?: (events: number) => void;
  /** Built once the CPU count is known; receives the primary model's events. */
  makeTracer?: (cpuCount: number) => Tracer | undefined;
}

const DISAGREEMENTS_DEFAULT = 20;
const CONTEXT_DEFAULT = 6;
const CPU_PROBE_RECORDS = 20000;

export async function replayTrace(source: string, opts: ReplayOptions): Promise<ReplayResult> {
  const start = process.hrtime.bigint();
  const meta = readCaptureMeta(source);
  const cpusFromMeta = opts.cpus ?? meta.nrCpus;
  const threadSizeBytes = 4096 << opts.config.THREAD_SIZE_ORDER;
  // A list without this THREAD_SIZE's areas (another build, KASAN's larger stacks) says nothing: the nr_lazy rule stands.
  const listed = meta.stackAreasBySize?.[String(threadSizeBytes + 4096)];
  const stacksAtStart = listed === undefined || listed.length === 0 ? null : listed.map((a) => BigInt(a));
  const ctxLines = opts.contextLines ?? CONTEXT_DEFAULT;
  const maxDis = opts.maxDisagreements ?? DISAGREEMENTS_DEFAULT;
  const v = new Validator(ctxLines, maxDis);
  let driver: ReplayDriver | null = null;
  const probe: TraceRecord[] = [];
  let probeMaxCpu = 0;
  let events = 0;
  const lost: ReplayResult['lostEvents'] = [];
  const scorer = opts.validate
    ? new VmallocScorer({
        threadSizeBytes,
        stacksAtStart,
        stacksListedAtMarker: meta.stackListMarker,
        onFork: (f) => v.observed(f),
      })
    : null;

  const makeDriver = (cpuCount: number): ReplayDriver =>
    new ReplayDriver({
      config: opts.config,
      cpuCount,
      allFills: opts.allFills ?? opts.validate,
      onFork: (p) => v.predicted(p),
      tracer: opts.makeTracer?.(cpuCount),
    });
  // task_newtask and sched_process_fork matter to both the driver and the
  // scorer: parsed once here and handed to both.
  const shared: ParsedPayload = { f: new PayloadFields(), ok: false };
  // The reader's RecordView is read in place (payload as offsets into its
  // chunk); records kept for later (the CPU probe) are copies.
  const feed = (r: TraceRecord, d: ReplayDriver): void => {
    const kind = eventKind(r.event);
    const inPlace = r instanceof RecordView;
    let p: string;
    let lo = 0;
    let hi: number;
    if (inPlace) {
      p = r.text;
      lo = r.payloadStart;
      hi = r.payloadEnd;
    } else {
      p = r.payload;
      hi = p.length;
    }
    if (scorer === null) {
      if (!isAnswerKeyKind(kind)) d.onEvent(r, kind, p, lo, hi, null);
      return;
    }
    if (inPlace) v.rememberView(r);
    else v.remember(r);
    let parsed: ParsedPayload | null = null;
    if (kind === EV_NEWTASK || kind === EV_FORK) {
      shared.ok = kind === EV_NEWTASK ? parseNewtaskAt(p, lo, hi, shared.f) : parseForkAt(p, lo, hi, shared.f);
      parsed = shared;
    }
    if (!isAnswerKeyKind(kind)) d.onEvent(r, kind, p, lo, hi, parsed);
    scorer.onEvent(r, kind, p, lo, hi, parsed);
  };

  const onProgress = opts.onProgress;
  const stats: ReaderStats = await readTrace(source, {
    onView(r) {
      events++;
      if (onProgress && (events & 0xffff) === 0) onProgress(events);
      if (driver !== null) {
        feed(r, driver);
        return;
      }
      if (cpusFromMeta !== null) {
        driver = makeDriver(cpusFromMeta);
        feed(r, driver);
        return;
      }
      // The CPU count decides lazy_max_pages(); without metadata it is learnt from the first records.
      probe.push(r.toRecord());
      if (r.cpu > probeMaxCpu) probeMaxCpu = r.cpu;
      if (probe.length >= CPU_PROBE_RECORDS) {
        const d = makeDriver(probeMaxCpu + 1);
        driver = d;
        for (const p of probe) feed(p, d);
        probe.length = 0;
      }
    },
    onLost(l) {
      lost.push({ cpu: l.cpu, lineNo: l.lineNo, count: l.count });
      driver?.onLost(l);
    },
  });
  let d: ReplayDriver | null = driver;
  if (d === null) {
    const cpus = Math.max(probeMaxCpu + 1, stats.cpusDeclared ?? 1);
    d = makeDriver(cpus);
    for (const p of probe) feed(p, d);
  }
  v.finish();
  d.finish();
  const k = d.primary;
  const st = k.stats;
  const perCpu = [];
  for (let c = 0; c < d.cpuCount; c++) {
    const pc = v.perCpu[c] ?? newCpuScore();
    perCpu.push({
      cpu: c,
      forks: pc.forks,
      scored: pc.scored,
      agreement: pc.scored > 0 ? (pc.confusion.hitHit + pc.confusion.missMiss) / pc.scored : null,
      confusion: pc.confusion,
      vfreesPredicted: k.cpuStats[c].vfrees,
      vfreesObserved: scorer?.observedVfreesByCpu[c] ?? 0,
    });
  }
  return {
    trace: source,
    config: opts.config.name,
    events,
    lines: stats.lines,
    cpus: d.cpuCount,
    forks: d.forks,
    scored: v.scored,
    burnIn: d.burnIn,
    excludedLost: v.excludedLost,
    failedForks: v.failed,
    agreement: opts.validate && v.scored > 0 ? (v.confusion.hitHit + v.confusion.missMiss) / v.scored : null,
    confusion: v.confusion,
    perCpu,
    vfrees: predictedRange(d.fillRange('vfrees'), scorer?.observedVfrees ?? 0, scorer?.unclassifiedVfrees ?? 0),
    purges: predictedRange(d.fillRange('purges'), scorer?.observedPurges ?? 0, 0),
    stackAllocsObserved: scorer?.stackAllocs ?? 0,
    stacksAtStart: stacksAtStart?.length ?? null,
    model: {
      forks: st.forks,
      hits: st.cacheHits,
      misses: st.forks - st.forkFailures - st.cacheHits,
      vfrees: st.vfrees,
      vfreesQueuedAtEnd: k.queuedVfrees(),
      purges: st.purges,
      rcuRetryHits: st.rcuRetryHits,
      peakStackBytes: st.peakStackPages * 4096,
      peakRcuPendingStacks: st.peakRcuPendingStacks,
      stackAllocNs: st.stackAllocNs,
      stackFreeNs: st.stackFreeNs,
    },
    variantsLeft: d.kernels.length,
    convergedAtLine: d.convergedAtLine,
    lostEvents: lost,
    anomalies: d.anomalies,
    gracePeriods: d.gracePeriods,
    reader: { format: stats.format, skippedLines: stats.skippedLines, truncated: stats.truncated },
    disagreements: v.disagreements,
    validated: opts.validate,
    seconds: Number(process.hrtime.bigint() - start) / 1e9,
  };
}

/** What `kstack record` wrote about the capture in NAME.meta.json, next to NAME.trace.gz. */
export interface CaptureMeta {
  nrCpus: number | null;
  /** Start addresses of the stack areas alive when the recording started, by area size in bytes (null: not listed). */
  stackAreasBySize: Record<string, string[]> | null;
  /** The trace_marker text after which the list is complete ('': from the first line). */
  stackListMarker: string;
}

/** NAME.meta.json next to NAME.trace.gz, if there is one; fields it lacks or gets wrong are null. */
export function readCaptureMeta(source: string): CaptureMeta {
  const none: CaptureMeta = { nrCpus: null, stackAreasBySize: null, stackListMarker: '' };
  if (source === '-') return none;
  const meta = source.replace(/\.trace(\.gz)?$/, '').replace(/\.gz$/, '') + '.meta.json';
  if (meta === source || !existsSync(meta)) return none;
  let m: { nr_cpus?: unknown; stack_areas_at_start?: { by_size?: unknown; marker?: unknown } | null };
  try {
    m = JSON.parse(readFileSync(meta, 'utf8'));
  } catch {
    return none;
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return none;
  const nrCpus = typeof m.nr_cpus === 'number' && m.nr_cpus >= 1 && m.nr_cpus <= 256 ? m.nr_cpus : null;
  const by = m.stack_areas_at_start?.by_size;
  let stackAreasBySize: Record<string, string[]> | null = null;
  if (typeof by === 'object' && by !== null) {
    stackAreasBySize = {};
    for (const [size, addrs] of Object.entries(by)) {
      if (Array.isArray(addrs)) stackAreasBySize[size] = addrs.filter((a): a is string => typeof a === 'string' && /^0x[0-9a-f]{1,16}$/.test(a));
    }
  }
  const mk = m.stack_areas_at_start?.marker;
  return { nrCpus, stackAreasBySize, stackListMarker: typeof mk === 'string' ? mk : '' };
}

interface CpuScore {
  forks: number;
  scored: number;
  confusion: Confusion;
}

function newConfusion(): Confusion {
  return { hitHit: 0, hitMiss: 0, missHit: 0, missMiss: 0 };
}

function newCpuScore(): CpuScore {
  return { forks: 0, scored: 0, confusion: newConfusion() };
}

/** Joins each fork's prediction with the scorer's observation (both fire on the same line). */
class Validator {
  readonly confusion = newConfusion();
  readonly perCpu: CpuScore[] = [];
  scored = 0;
  excludedLost = 0;
  failed = 0;
  readonly disagreements: Disagreement[] = [];
  private last: ForkPrediction | null = null;
  /**
   * Ring of the last records, for the context of a disagreement: a line read
   * in place is kept as its range of the text that held it (the reader's
   * chunk, kept alive only while in the ring) and parsed again, with the
   * reader's own parser, only when a disagreement asks for it; other records
   * are kept as they are. Four stores a line: most lines are never looked at.
   */
  private readonly ringSize: number;
  private ringHead = 0;
  private ringFilled = 0;
  private readonly ringLineNo: Float64Array;
  /** The text holding the line, or the record itself. */
  private readonly ringItem: (string | TraceRecord)[];
  private readonly ringLo: Int32Array;
  private readonly ringHi: Int32Array;
  /** Disagreements still collecting the lines after them. */
  private open: { d: Disagreement; after: number }[] = [];

  constructor(
    private readonly ctxLines: number,
    private readonly maxDis: number,
  ) {
    const n = ctxLines + 1;
    this.ringSize = n;
    this.ringLineNo = new Float64Array(n);
    this.ringItem = new Array<string | TraceRecord>(n).fill('');
    this.ringLo = new Int32Array(n);
    this.ringHi = new Int32Array(n);
  }

  /** A line the reader holds in place: text[lo, hi) is the whole line, as parsed (view.commStart to view.payloadEnd). */
  rememberView(v: RecordView): void {
    const h = this.ringHead;
    this.ringLineNo[h] = v.lineNo;
    this.ringItem[h] = v.text;
    this.ringLo[h] = v.commStart;
    this.ringHi[h] = v.payloadEnd;
    this.ringHead = h + 1 === this.ringSize ? 0 : h + 1;
    if (this.ringFilled < this.ringSize) this.ringFilled++;
    if (this.open.length > 0) this.followUp(v);
  }

  /** Any other record (a copy the CPU probe kept). */
  remember(r: TraceRecord): void {
    const h = this.ringHead;
    this.ringLineNo[h] = r.lineNo;
    this.ringItem[h] = r;
    this.ringHead = h + 1 === this.ringSize ? 0 : h + 1;
    if (this.ringFilled < this.ringSize) this.ringFilled++;
    if (this.open.length > 0) this.followUp(r);
  }

  private followUp(r: TraceRecord): void {
    for (const o of this.open) {
      if (r.lineNo <= o.d.lineNo) continue;
      o.d.context.push(formatLine(r));
      o.after--;
    }
    this.open = this.open.filter((o) => o.after > 0);
  }

  predicted(p: ForkPrediction): void {
    this.last = p;
    const pc = this.cpuScore(p.cpu);
    pc.forks++;
    if (p.excluded === 'lost') this.excludedLost++;
    if (p.excluded === 'failed') this.failed++;
  }

  observed(f: ObservedFork): void {
    const p = this.last;
    if (p === null || p.lineNo !== f.lineNo || p.predicted === null) return;
    this.last = null;
    const pc = this.cpuScore(p.cpu);
    this.scored++;
    pc.scored++;
    count(this.confusion, p.predicted, f.observed);
    count(pc.confusion, p.predicted, f.observed);
    if (p.predicted === f.observed || this.disagreements.length >= this.maxDis) return;
    const context: string[] = [];
    const n = this.ringSize;
    for (let i = 0; i < n; i++) {
      const h = (this.ringHead + i) % n;
      // Slots not yet written are the oldest ones, at the ring's start.
      if (i < n - this.ringFilled) continue;
      context.push(this.formatSlot(h));
    }
    const d: Disagreement = {
      lineNo: p.lineNo,
      cpu: p.cpu,
      tsNs: p.tsNs,
      parentPid: p.parentPid,
      childPid: p.childPid,
      predicted: p.predicted,
      observed: f.observed,
      takenLineNo: p.takenLineNo,
      allocLineNo: f.allocLineNo,
      context,
    };
    this.disagreements.push(d);
    this.open.push({ d, after: this.ctxLines });
  }

  finish(): void {
    this.open = [];
  }

  private formatSlot(h: number): string {
    const item = this.ringItem[h];
    if (typeof item !== 'string') return formatLine(item);
    // The same text range parses to the same record it did in the reader.
    const r = new EventLineParser().parse(item.slice(this.ringLo[h], this.ringHi[h]), this.ringLineNo[h]);
    if (r === null) throw new Error(`line ${this.ringLineNo[h]} no longer parses`);
    return formatLine(r);
  }

  private cpuScore(cpu: number): CpuScore {
    let pc = this.perCpu[cpu];
    if (pc === undefined) {
      for (let c = this.perCpu.length; c <= cpu; c++) this.perCpu[c] = newCpuScore();
      pc = this.perCpu[cpu];
    }
    return pc;
  }
}

/** One more in the cell (predicted, observed); a branch per cell, not a property name made per fork. */
function count(c: Confusion, predicted: Outcome, observed: Outcome): void {
  if (predicted === 'hit') {
    if (observed === 'hit') c.hitHit++;
    else c.hitMiss++;
  } else if (observed === 'hit') c.missHit++;
  else c.missMiss++;
}

function formatLine(r: TraceRecord): string {
  return formatFields(r.lineNo, r.comm, r.pid, r.cpu, r.tsNs, r.event, r.payload);
}

function formatFields(lineNo: number, comm: string, pid: number, cpu: number, tsNs: number, event: string, payload: string): string {
  const sec = Math.floor(tsNs / 1e9);
  const usec = Math.floor((tsNs % 1e9) / 1000);
  return `${lineNo}: ${comm}-${pid} [${String(cpu).padStart(3, '0')}] ${sec}.${String(usec).padStart(6, '0')}: ${event}: ${payload}`;
}

function predictedRange(r: { value: number; min: number; max: number }, observed: number, observedUnclassified: number): ReplayResult['vfrees'] {
  return { predicted: r.value, predictedMin: r.min, predictedMax: r.max, observed, observedUnclassified };
}
