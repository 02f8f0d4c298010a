// Drives the kernel model (src/kernel) from the scheduler and task events of a
// real trace, and predicts each fork's stack-cache hit or miss. It never sees
// the vmalloc:* events: the replay loop (replay.ts) hands those to the scorer
// only, so a prediction cannot depend on the answer key.
//
// The cache contents at trace start are unknown, so the same calls go to one
// Kernel per possible starting fill (0..NR_CACHED_STACKS stacks on every CPU).
// A CPU's cache only changes on that CPU (alloc_thread_stack_node and
// try_release_thread_stack_to_cache use this_cpu ops; thread_stack_free_rcu
// runs on the CPU that queued it), so variant i covers "CPU c started with i
// stacks" for every c at once. A fork is scored when all variants agree; once
// every cache and RCU list agrees the extra variants are dropped.
import type { Tracer } from '../kernel/events.ts';
import type { KernelConfig } from '../config/knobs.ts';
import { defaultCosts, type CostTable } from '../cost/table.ts';
import { Kernel, ModelUsageError, TASK_DEAD } from '../kernel/kernel.ts';
import { RcuCbKind } from '../kernel/rcu.ts';
import { PidMap, PidSet } from './pidsets.ts';
import { ProvisionalPidTracer } from './provisional.ts';
import { RcuGpTracker } from './rcu_gp.ts';
import type { LostEvents, TraceRecord } from '../trace/types.ts';
import {
  EV_EXIT,
  EV_FORK,
  EV_FREE,
  EV_KMEM_CACHE_ALLOC,
  EV_MIGRATE,
  EV_NEWTASK,
  EV_RCU,
  EV_SWITCH,
  EV_TIMER_CANCEL,
  EV_TIMER_START,
  EV_WAKEUP,
  EV_WAKEUP_NEW,
  eventKind,
  isBoundKworkerAt,
  PayloadFields,
  parseExitAt,
  parseForkAt,
  parseFreeAt,
  parseKmemTaskStructAt,
  parseMigrateAt,
  parseNewtaskAt,
  parseSwitchAt,
  parseWakeupAt,
} from './fastparse.ts';

export { isBoundKworkerOf } from './fastparse.ts';

export type Outcome = 'hit' | 'miss';

export interface ForkPrediction {
  /** The fork's task_newtask line (sched_process_fork when task_newtask is not traced). */
  lineNo: number;
  cpu: number;
  tsNs: number;
  parentPid: number;
  childPid: number;
  /** null: the variants disagree (burn-in), the CPU lost events, or the clone failed. */
  predicted: Outcome | null;
  excluded: 'burn-in' | 'lost' | 'failed' | null;
  /** When the stack was taken: the task_struct marker, or the task_newtask line itself. */
  takenLineNo: number;
}

/** Things the trace did that the model could not take as they came; reported, never fatal. */
export interface Anomalies {
  /** Tasks first seen mid-trace (born before it): given a stack silently. */
  adopted: number;
  /** The model's current task on a CPU was not the trace's: a switch was missed or the trace starts mid-run. */
  phantomSwitches: number;
  /** A dead pid ran again: exec from a non-leader thread (de_thread → exchange_tids). */
  pidSwaps: number;
  /** A final switch whose sched_process_exit was not seen. */
  exitsMissing: number;
  /** A new pid still held by a task the model had not freed yet (pid reuse). */
  staleRenamed: number;
  unparsed: number;
  modelErrors: number;
  modelErrorExamples: string[];
}

export interface GracePeriods {
  /**
   * kthread-timer: read off the RCU grace-period kthread's FQS timer
   * (timer:timer_start / timer:timer_cancel, RcuGpTracker); kthread-wakeups:
   * the same tracker, with no timer events in the trace, told what each run of
   * the kthread did by who woke it; estimate: from sched_process_free and the
   * kthread's runs (crossProof).
   */
  source: 'kthread-timer' | 'kthread-wakeups' | 'estimate';
  started: number;
  ended: number;
}

export interface DriverOptions {
  config: KernelConfig;
  cpuCount: number;
  costs?: CostTable;
  /** Consider every starting fill (validation) or only a full cache (what-if). */
  allFills: boolean;
  onFork(p: ForkPrediction): void;
  /** Receives the primary model's events (ftrace text, Perfetto); the other fills stay silent. */
  tracer?: Tracer;
}

const SYNTHETIC_PID_BASE = 1 << 30;
/** The need-resched column's letters with TIF_NEED_RESCHED set (trace_output.c, 6.12+: N, n, B, b). */
const NEED_RESCHED = [78, 110, 66, 98];
const MODEL_ERROR_EXAMPLES_MAX = 10;
const KTHREADD_PID = 2;
/** `Start RCU core` times kept per CPU for crossProof (a few hundred ms of a busy CPU). */
const CORE_RING = 1024;

/** The totals fillRange reports; kept at convergence, when the other fills are dropped. */
export type FillRangeStat = 'vfrees' | 'purges';
const FILL_RANGE_STATS: readonly FillRangeStat[] = ['vfrees', 'purges'];

export class ReplayDriver {
  /** kernels[i] started with fills[i] stacks cached on every CPU. */
  kernels: Kernel[];
  fills: number[];
  readonly anomalies: Anomalies = {
    adopted: 0,
    phantomSwitches: 0,
    pidSwaps: 0,
    exitsMissing: 0,
    staleRenamed: 0,
    unparsed: 0,
    modelErrors: 0,
    modelErrorExamples: [],
  };
  /** Forks whose prediction depended on the starting fill. */
  burnIn = 0;
  /** Line of the first fork after which all variants agreed for good, or -1. */
  convergedAtLine = -1;
  /** fillRange at convergence, as offsets from the primary's count (the variants are gone after). */
  private readonly convergedDelta: Record<FillRangeStat, { min: number; max: number }> = { vfrees: { min: 0, max: 0 }, purges: { min: 0, max: 0 } };
  forks = 0;
  readonly cpuCount: number;
  private readonly nrCached: number;
  private readonly onFork: (p: ForkPrediction) => void;
  /** Final-switch time of dead tasks, until their sched_process_free: the RCU proof point. */
  private readonly finalSwitchNs = new Map<number, number>();
  /** Per CPU: callbacks queued there up to this time are ready (a free on that CPU, or crossProof at its rcu_core). */
  private readonly rcuProvenNs: Float64Array;
  /** Per CPU: recent `Start RCU core` and GP-kthread switch-out times (a ring): when its callbacks were given a grace period. */
  private readonly coreRing: Float64Array[];
  private readonly coreHead: Int32Array;
  private readonly coreFilled: Int32Array;
  private readonly gpRunRing = new Float64Array(CORE_RING);
  private gpRunHead = 0;
  private gpRunFilled = 0;
  private gpRuns = 0;
  private readonly notedRun: Int32Array;
  /** rcu_gp_kthread (`rcu_preempt` or `rcu_sched`), once seen; -1 before. */
  private gpKthreadPid = -1;
  /** The kthread was woken from inside rcu_core since its last run. */
  private coreWokeKthread = false;
  /** This run of the kthread was woken from inside rcu_core. */
  private runCoreWoken = false;
  /** Grace periods as the kthread's FQS timer shows them (traces with its timer events). */
  private readonly gp: RcuGpTracker;
  private readonly ksoftirqdPids = new Set<number>();
  /** parent pid → its children between sched_process_exit and their reaping (wait4 → release_task). */
  private readonly unreaped = new Map<number, number[]>();
  /** The latest a task whose sched_process_free has shown had its delayed_put_task_struct queued: a grace period begun after it has ended. */
  private freedQueuedNs = -1;
  /** Zombies whose parent was running elsewhere at their final switch: reaped when, the trace does not say. */
  private readonly reapUnsure = new PidSet();
  /** The `timer=` address of the kthread's process_timeout timer (on its stack: the same every time), or ''. */
  private gpTimer = '';
  /** Per CPU: ksoftirqd/N woken or preempted, not yet asleep again: softirq work (an RCU batch past its limit) is deferred. */
  private readonly sirqPending: Uint8Array;
  /** Per CPU: a bound kworker has switched in or out since ksoftirqd/N took over softirq work (sirqPending). */
  private readonly kworkerInBatch: Uint8Array;
  /** Per CPU: a kworker woken from rcu_core() (vfree_atomic's schedule_work) since a bound kworker last switched. */
  private readonly workWokenSinceKworker: Uint8Array;
  /** Per CPU: between `Start RCU core` and `End RCU core`. */
  private readonly inCore: Uint8Array;
  /**
   * Per CPU: a pass of rcu_core() has run and the softirq it ran in has not
   * shown its end: whether rcu_do_batch() stopped at its limit (the rest
   * handed to ksoftirqd) is not known yet, so the ready callbacks no anchor
   * proves wait (endSoftirq).
   */
  private readonly coreDeferred: Uint8Array;
  /** Per CPU: its done list as its last rcu_core pass found it (gp.readyNs then). */
  private readonly passReadyNs: Float64Array;
  /** Per CPU: callbacks queued there before this time are proven ready by a free on another CPU. */
  private readonly crossProvenNs: Float64Array;
  /** Tasks between sched_process_exit and their final switch → group_dead (1) or not (0). */
  private readonly exiting = new PidMap();
  /** Children announced by task_newtask whose sched_process_fork is still to come. */
  private readonly newtaskSeen = new PidSet();
  /** parent pid → provisional child pid, between the task_struct marker and task_newtask. */
  private readonly marked = new Map<number, { pid: number; lineNo: number; cpu: number; outcomes: (Outcome | null)[] }>();
  private nextSyntheticPid = SYNTHETIC_PID_BASE;
  /** Wraps opts.tracer so a child's events carry its real pid, not the provisional one. */
  private readonly pidTracer: ProvisionalPidTracer | null;
  /** Per CPU after lost events: occupancy bounds [lo, hi]; forks there are excluded until lo == hi. */
  private readonly lostLo: Int32Array;
  private readonly lostHi: Int32Array;
  private readonly uncertain: Uint8Array;
  /** Scratch for the payload of the record being handled. */
  private readonly scratch = new PayloadFields();

  constructor(opts: DriverOptions) {
    this.cpuCount = opts.cpuCount;
    this.nrCached = opts.config.VMAP_STACK ? opts.config.NR_CACHED_STACKS : 0;
    this.onFork = opts.onFork;
    const costs = opts.costs ?? defaultCosts();
    // Without the marker the fill would be guessed: a steady machine's caches are full.
    this.fills = [];
    if (opts.allFills) for (let f = this.nrCached; f >= 0; f--) this.fills.push(f);
    else this.fills.push(this.nrCached);
    this.pidTracer = opts.tracer ? new ProvisionalPidTracer(opts.tracer) : null;
    const tracer = this.pidTracer ?? undefined;
    this.kernels = this.fills.map((fill, i) => {
      const k = new Kernel({ config: opts.config, costs, cpuCount: opts.cpuCount, tracer: i === 0 ? tracer : undefined });
      for (let c = 0; c < opts.cpuCount; c++) if (fill > 0) k.seedCache(c, 0, fill);
      return k;
    });
    this.rcuProvenNs = new Float64Array(opts.cpuCount).fill(-1);
    this.coreRing = [];
    for (let c = 0; c < opts.cpuCount; c++) this.coreRing.push(new Float64Array(CORE_RING).fill(-1));
    this.coreHead = new Int32Array(opts.cpuCount);
    this.coreFilled = new Int32Array(opts.cpuCount);
    this.notedRun = new Int32Array(opts.cpuCount).fill(-1);
    this.crossProvenNs = new Float64Array(opts.cpuCount).fill(-1);
    this.gp = new RcuGpTracker(opts.cpuCount);
    this.inCore = new Uint8Array(opts.cpuCount);
    this.sirqPending = new Uint8Array(opts.cpuCount);
    this.kworkerInBatch = new Uint8Array(opts.cpuCount);
    this.workWokenSinceKworker = new Uint8Array(opts.cpuCount);
    this.coreDeferred = new Uint8Array(opts.cpuCount);
    this.passReadyNs = new Float64Array(opts.cpuCount).fill(-1);
    this.lostLo = new Int32Array(opts.cpuCount);
    this.lostHi = new Int32Array(opts.cpuCount);
    this.uncertain = new Uint8Array(opts.cpuCount);
  }

  /** How the replay knew when grace periods ended: read off the kthread's FQS timer, off its runs and who woke them, or estimated. */
  get gracePeriods(): GracePeriods {
    const g = this.gp;
    if (!g.active) return { source: 'estimate', started: 0, ended: 0 };
    return { source: this.gpTimer === '' ? 'kthread-wakeups' : 'kthread-timer', started: g.inits, ended: g.ends };
  }

  /** End of the trace: events held for a provisional pid go out as they are. */
  finish(): void {
    this.pidTracer?.finish();
  }

  /** The variant whose totals are reported (full caches at the start); fillRange gives the others' spread. */
  get primary(): Kernel {
    return this.kernels[0];
  }

  onRecord(r: TraceRecord): void {
    const p = r.payload;
    this.onEvent(r, eventKind(r.event), p, 0, p.length, null);
  }

  /**
   * One record whose event is `kind` (eventKind) and whose payload is s[lo, hi):
   * the replay passes the reader's chunk and offsets, so no payload string is
   * made. `parsed`: for task_newtask and sched_process_fork, the payload already
   * parsed by the caller (which shares it with the scorer): `parsed.ok` says
   * whether it parsed. Never give it a vmalloc:* event (isAnswerKeyKind).
   */
  onEvent(r: TraceRecord, kind: number, s: string, lo: number, hi: number, parsed: ParsedPayload | null): void {
    if (kind === 0) return;
    if (r.cpu >= this.cpuCount) {
      this.modelError(r, `cpu ${r.cpu} but the model has ${this.cpuCount} CPUs`);
      return;
    }
    try {
      // The flags column (irq-info), read once: only idle-task events, wakeups and a deferred pass look at it.
      const fl = r.pid === 0 || kind === EV_WAKEUP || this.coreDeferred[r.cpu] === 1 ? r.flags : '';
      // A task other than idle runs; or the idle task has TIF_NEED_RESCHED set (N, n, B or b in the
      // need-resched column): it is on its way to schedule() and out of the extended quiescent state for good.
      if (r.pid !== 0 || (fl.length >= 2 && NEED_RESCHED.includes(fl.charCodeAt(1)))) this.gp.busy(r.cpu, r.tsNs);
      if (this.coreDeferred[r.cpu] === 1) this.endSoftirq(r.cpu, r.tsNs, fl, kind, s, lo);
      switch (kind) {
        case EV_SWITCH:
          this.onSwitch(r, s, lo, hi);
          return;
        case EV_NEWTASK:
          this.onNewtask(r, parsed ?? this.parse(parseNewtaskAt, s, lo, hi));
          return;
        case EV_FORK:
          this.onProcessFork(r, parsed ?? this.parse(parseForkAt, s, lo, hi));
          return;
        case EV_EXIT:
          this.onExit(r, s, lo, hi);
          return;
        case EV_FREE:
          this.onFree(r, s, lo, hi);
          return;
        case EV_WAKEUP_NEW:
          this.onWakeupNew(r, s, lo, hi);
          return;
        case EV_MIGRATE:
          this.onMigrate(r, s, lo, hi);
          return;
        case EV_RCU:
          if (hi - lo >= 14 && s.startsWith('Start RCU core', lo)) {
            this.inCore[r.cpu] = 1;
            this.onRcuCoreStart(r);
          } else if (s.startsWith('End RCU core', lo)) {
            this.inCore[r.cpu] = 0;
            this.gp.rcuCoreEnd(r.cpu);
          }
          // rcu_flavor_sched_clock_irq(): rcu_qs() unless preemption is off, which it is in the idle task.
          else if (r.pid !== 0 && s.startsWith('Start scheduler-tick', lo)) this.gp.quiescent(r.cpu);
          return;
        case EV_TIMER_START:
          this.onTimerStart(r, s, lo, hi);
          return;
        case EV_WAKEUP:
          // The grace-period kthread (rcu_preempt / rcu_sched) woken: from inside rcu_core(), rcu_report_qs_rsp or
          // rcu_start_this_gp; from elsewhere, its timer, and a last report before it runs then prints no wakeup.
          if (s.startsWith('comm=rcu_', lo) && parseWakeupAt(s, lo, hi, this.scratch) && this.scratch.pid === this.gpKthreadPid) {
            if (this.inCore[r.cpu] === 1) this.kthreadWokenByCore(r.cpu);
            else if (fl.length >= 3 && (fl.charCodeAt(2) === 104 || fl.charCodeAt(2) === 72)) this.gp.remoteWakeup(r.cpu);
            else this.gp.kthreadWoken();
          }
          // A kworker of this CPU woken in softirq inside rcu_core(): thread_stack_free_rcu's vfree_atomic.
          else if (this.inCore[r.cpu] === 1 && (fl.length < 3 || fl.charCodeAt(2) === 115) && s.startsWith('comm=kworker/', lo) && isBoundKworkerAt(s, lo + 5, s.indexOf(' pid=', lo + 5), r.cpu)) {
            this.workWokenSinceKworker[r.cpu] = 1;
            this.vfreeAtomicWoke(r.cpu, r.tsNs);
          }
          // wakeup_softirqd(): softirq work on that CPU (an RCU batch past its limit among it) waits for ksoftirqd.
          if (s.startsWith('comm=ksoftirqd/', lo)) {
            let n = 0;
            let i = lo + 15;
            for (let ch = s.charCodeAt(i); i < hi && ch >= 48 && ch <= 57; ch = s.charCodeAt(++i)) n = n * 10 + ch - 48;
            if (i > lo + 15 && n < this.cpuCount) {
              if (this.sirqPending[n] === 0) this.kworkerInBatch[n] = 0;
              this.sirqPending[n] = 1;
            }
          }
          return;
        case EV_TIMER_CANCEL:
          this.onTimerCancel(r, s, lo, hi);
          return;
        case EV_KMEM_CACHE_ALLOC:
          this.onKmemCacheAlloc(r, s, lo, hi);
          return;
        default:
          return;
      }
    } catch (e) {
      if (!(e instanceof ModelUsageError)) throw e;
      this.modelError(r, e.message);
    }
  }

  /** A `CPU:N [LOST M EVENTS]` marker: that CPU's cache is unknown again. */
  onLost(l: LostEvents): void {
    if (l.cpu >= this.cpuCount) return;
    this.uncertain[l.cpu] = 1;
    this.lostLo[l.cpu] = 0;
    this.lostHi[l.cpu] = this.nrCached;
    // A lost timer event or switch of the kthread would be read as a grace-period boundary.
    this.gp.lost();
    this.sirqPending[l.cpu] = 0;
    this.kworkerInBatch[l.cpu] = 0;
    this.workWokenSinceKworker[l.cpu] = 0;
    this.coreDeferred[l.cpu] = 0;
    // The kworker's run may be among the lost events: its work is taken as done.
    this.runQueuedWork(l.cpu, this.primary.nowNs, true);
    // Who woke the kthread across the gap is unknown.
    this.coreWokeKthread = false;
    this.runCoreWoken = false;
  }

  // ------------------------------------------------------------------ events

  private parse(fn: (s: string, lo: number, hi: number, o: PayloadFields) => boolean, s: string, lo: number, hi: number): ParsedPayload {
    const f = this.scratch;
    return { f, ok: fn(s, lo, hi, f) };
  }

  private onSwitch(r: TraceRecord, text: string, lo: number, hi: number): void {
    const s = this.scratch;
    if (!parseSwitchAt(text, lo, hi, s)) {
      this.anomalies.unparsed++;
      return;
    }
    const cpu = r.cpu;
    const prevPid = s.pid;
    // delayed_vfree_work() and drain_vmap_area_work() run in the CPU's bound kworker pool: by the time one
    // of its workers switches in (or out, if it was already running when the work was queued).
    // Work queued from task context (4.10–5.17's vfree_atomic in free_thread_stack, in a what-if on another
    // kernel's trace) woke a kworker the trace cannot show: it runs at the CPU's next switch.
    const pending = this.workPending(cpu);
    if (pending || this.sirqPending[cpu] === 1 || this.workWokenSinceKworker[cpu] === 1) {
      if (s.commIsBoundKworker(cpu) || s.comm2IsBoundKworker(cpu)) {
        if (pending) this.runQueuedWork(cpu, r.tsNs, true);
        if (this.sirqPending[cpu] === 1) this.kworkerInBatch[cpu] = 1;
        this.workWokenSinceKworker[cpu] = 0;
      } else if (pending) this.runQueuedWork(cpu, r.tsNs, false);
    }
    this.syncCurrent(cpu, r.tsNs, prevPid, s, 1);
    const dead = prevPid !== 0 && s.dead;
    if (dead) {
      // do_exit() runs from sched_process_exit to do_task_dead(), and may be
      // preempted on the way (R+); the model's doExit sets TASK_DEAD at once,
      // so it is applied here, just before the final switch.
      const t = this.primary.task(prevPid);
      const gd = this.exiting.take(prevPid);
      if (gd === undefined) this.anomalies.exitsMissing++;
      if (t !== undefined && t.state !== TASK_DEAD) {
        for (const k of this.kernels) k.doExit(cpu, r.tsNs, prevPid, gd !== 0);
      }
      this.finalSwitchNs.set(prevPid, r.tsNs);
      this.unreaped.delete(prevPid);
      if (t !== undefined && !t.autoreap && t.parentPid !== 0) {
        for (let c = 0; c < this.cpuCount; c++) if (c !== cpu && this.primary.currentPid(c) === t.parentPid) this.reapUnsure.add(prevPid);
      }
      if (this.uncertain[cpu]) this.lostPut(cpu);
    }
    // rcu_gp_init() and rcu_gp_cleanup() run __note_gp_changes() for the CPU
    // the grace-period kthread is on: its callbacks have their grace period by now.
    if (prevPid === this.gpKthreadPid) {
      this.notedRun[cpu] = this.gpRuns;
      this.accelerated(cpu, r.tsNs);
      if (s.prevState === 'S') {
        if (this.timerless()) {
          // No timer events: what its run did is inferred from who woke it. From rcu_core: the last report
          // (cleanup, then the next start) or a request for one; otherwise its timer: a forcing pass.
          if (this.runCoreWoken) this.gp.fqsTimerCancel(cpu, r.tsNs);
          this.gp.fqsTimerStart(cpu, r.tsNs);
        }
        this.gp.kthreadSleeps(cpu, r.tsNs);
      }
      this.runCoreWoken = false;
    }
    this.gp.quiescent(cpu);
    this.inCore[cpu] = 0;
    if (this.sirqPending[cpu] === 1 && s.prevState === 'S' && this.ksoftirqdPids.has(prevPid)) {
      // ksoftirqd went back to sleep: nothing left pending, the batch has run.
      this.sirqPending[cpu] = 0;
      this.runProven(cpu, r.tsNs);
      // The model learns only now that the batch ran, pass by pass, while ksoftirqd had it. If a kworker
      // ran in between and no pass woke one after it, every vfree_atomic of the batch was done already.
      if (this.kworkerInBatch[cpu] === 1 && this.workWokenSinceKworker[cpu] === 0) this.runQueuedWork(cpu, r.tsNs, true);
    }
    const next = s.pid2;
    if (next === 0) this.gp.idle(cpu, r.tsNs, true);
    else if (prevPid === 0) this.gp.idle(cpu, r.tsNs, false);
    if (next === this.gpKthreadPid) this.gpKthreadRun(r.tsNs);
    const prevState = s.prevState;
    if (next !== 0) this.ensureLive(cpu, r.tsNs, next, s, 2);
    for (const k of this.kernels) k.contextSwitch(cpu, r.tsNs, next, prevState);
    if (next !== 0 && this.unreaped.size !== 0) this.reapChildren(cpu, r.tsNs, next);
    if (dead) this.checkConverged(r.lineNo);
  }

  private onKmemCacheAlloc(r: TraceRecord, s: string, lo: number, hi: number): void {
    const k = this.scratch;
    if (!parseKmemTaskStructAt(s, lo, hi, k) || !k.flag || r.pid === 0) return;
    // dup_task_struct(): the stack is taken right after this allocation, on this CPU.
    this.syncCurrent(r.cpu, r.tsNs, r.pid, r, 0);
    if (this.pidTracer !== null) this.learnComm(r.pid, r.comm);
    const stale = this.marked.get(r.pid);
    if (stale !== undefined) this.retireProvisional(stale.pid);
    const pid = this.nextSyntheticPid++;
    this.pidTracer?.hold(pid, r.tsNs);
    const outcomes = this.clone(r.cpu, r.tsNs, r.pid, pid, false, r.comm);
    this.pidTracer?.cloned(pid);
    this.marked.set(r.pid, { pid, lineNo: r.lineNo, cpu: r.cpu, outcomes });
  }

  private onNewtask(r: TraceRecord, p: ParsedPayload): void {
    const n = p.f;
    if (!p.ok) {
      this.anomalies.unparsed++;
      return;
    }
    this.newtaskSeen.add(n.pid);
    this.fork(r, r.pid, n.pid, n.flag, n, 1);
  }

  private onProcessFork(r: TraceRecord, p: ParsedPayload): void {
    const f = p.f;
    if (!p.ok) {
      this.anomalies.unparsed++;
      return;
    }
    if (this.newtaskSeen.delete(f.pid2)) return;
    // task_newtask not traced: the fork is known only after copy_process().
    this.fork(r, f.pid, f.pid2, false, f, 2);
  }

  /** The child's comm is `commOf`'s comm (which 1, or comm2 for 2), read only when the clone needs it. */
  private fork(r: TraceRecord, parentPid: number, childPid: number, thread: boolean, commOf: PayloadFields, which: 1 | 2): void {
    const cpu = r.cpu;
    this.forks++;
    if (this.primary.hasTask(childPid)) {
      // A task the trace already let go of (its free not seen yet, or a stale adoption).
      this.anomalies.staleRenamed++;
      const synthetic = this.nextSyntheticPid++;
      for (const k of this.kernels) k.changePid(childPid, synthetic);
    }
    const m = this.marked.get(parentPid);
    let outcomes: (Outcome | null)[];
    let takenLineNo = r.lineNo;
    let takenCpu = cpu;
    if (m !== undefined) {
      this.marked.delete(parentPid);
      outcomes = m.outcomes;
      takenLineNo = m.lineNo;
      takenCpu = m.cpu;
      if (this.primary.hasTask(m.pid)) {
        for (const k of this.kernels) {
          k.changePid(m.pid, childPid);
          if (thread) k.setCloneThread(childPid);
        }
        this.pidTracer?.resolve(m.pid, childPid, r.tsNs);
      } else this.pidTracer?.release(m.pid);
    } else {
      const comm = which === 1 ? commOf.comm() : commOf.comm2();
      this.syncCurrent(cpu, r.tsNs, parentPid, r, 0);
      if (this.pidTracer !== null) this.learnComm(parentPid, r.comm);
      outcomes = this.clone(cpu, r.tsNs, parentPid, childPid, thread, comm);
    }
    this.emitFork(r, takenCpu, parentPid, childPid, outcomes, takenLineNo);
  }

  /** copy_process() in every variant; the outcome of each (null: the fork failed). */
  private clone(cpu: number, tsNs: number, parentPid: number, childPid: number, thread: boolean, comm: string): (Outcome | null)[] {
    const out: (Outcome | null)[] = [];
    for (const k of this.kernels) {
      const hits = k.stats.cacheHits;
      const misses = k.stats.cacheMisses;
      const pid = k.kernelClone(cpu, tsNs, parentPid, { thread, pid: childPid, comm, kthread: parentPid === KTHREADD_PID });
      if (pid < 0) out.push(null);
      else if (k.stats.cacheHits > hits) out.push('hit');
      else if (k.stats.cacheMisses > misses || !k.cfg.VMAP_STACK) out.push('miss');
      else out.push(null);
    }
    return out;
  }

  private emitFork(r: TraceRecord, cpu: number, parentPid: number, childPid: number, outcomes: (Outcome | null)[], takenLineNo: number): void {
    let predicted: Outcome | null = outcomes[0];
    let excluded: ForkPrediction['excluded'] = null;
    for (const o of outcomes) if (o !== predicted) predicted = null;
    if (outcomes[0] === null) excluded = 'failed';
    else if (predicted === null) {
      excluded = 'burn-in';
      this.burnIn++;
    }
    if (this.uncertain[cpu]) {
      if (excluded === null) excluded = 'lost';
      predicted = null;
      this.lostTake(cpu);
    }
    this.onFork({ lineNo: r.lineNo, cpu, tsNs: r.tsNs, parentPid, childPid, predicted, excluded, takenLineNo });
    this.checkConverged(r.lineNo);
  }

  private onExit(r: TraceRecord, s: string, lo: number, hi: number): void {
    const e = this.scratch;
    if (!parseExitAt(s, lo, hi, e)) {
      this.anomalies.unparsed++;
      return;
    }
    if (e.pid === 0) return;
    const pid = e.pid;
    const groupDead = e.flagKnown ? e.flag : true;
    this.syncCurrent(r.cpu, r.tsNs, r.pid, r, 0);
    // do_exit() runs in the exiting task: the line's comm is its comm after any exec.
    if (this.pidTracer !== null && r.pid === pid) this.learnComm(pid, r.comm);
    this.exiting.set(pid, groupDead ? 1 : 0);
    const t = this.primary.task(pid);
    if (t !== undefined && !t.autoreap && t.parentPid !== 0) {
      const l = this.unreaped.get(t.parentPid);
      if (l === undefined) this.unreaped.set(t.parentPid, [pid]);
      else l.push(pid);
    }
  }

  private onFree(r: TraceRecord, s: string, lo: number, hi: number): void {
    const f = this.scratch;
    if (!parseFreeAt(s, lo, hi, f)) {
      this.anomalies.unparsed++;
      return;
    }
    // delayed_put_task_struct() of f.pid runs now, and callbacks run in the order
    // queued (rcu_do_batch): everything queued here up to its call_rcu has run.
    // That call_rcu is at the final switch (threads; zombies reaped first) or
    // later, at release_task: when the model reaped it, unless the parent was
    // running elsewhere at the final switch and may have reaped it then.
    const t = this.primary.task(f.pid);
    const finalNs = this.finalSwitchNs.get(f.pid);
    let queued = -1;
    if (finalNs !== undefined) {
      this.finalSwitchNs.delete(f.pid);
      this.crossProof(finalNs);
      queued = finalNs;
    }
    if (!this.reapUnsure.delete(f.pid) && t !== undefined && !t.autoreap) {
      const q = this.queuedHere(r.cpu, f.pid);
      if (q > queued) queued = q;
    }
    if (queued > this.rcuProvenNs[r.cpu]) this.rcuProvenNs[r.cpu] = queued;
    // A grace period begun after that call_rcu has ended.
    if (queued > this.freedQueuedNs) this.freedQueuedNs = queued;
    // The grace-period bound too; the rcuCore below runs both.
    if (this.gp.active) this.raiseProven(r.cpu);
    if (t !== undefined && t.state === TASK_DEAD && !t.released) {
      // A zombie its parent reaped (wait4 is not traced): release_task() now.
      for (const k of this.kernels) k.releaseTask(r.cpu, r.tsNs, f.pid);
    }
    this.rcuCore(r.cpu, r.tsNs);
  }

  /**
   * A kworker of this CPU woken from inside rcu_core(): a callback being
   * invoked called schedule_work(); in this workload, thread_stack_free_rcu()
   * finding the cache full, vfree() in softirq → vfree_atomic() → the
   * vfree_deferred work (mm/vmalloc.c, 6.18). Callbacks run in order, so
   * every one queued here up to the first stack that would not fit in the
   * cache has run. Nothing is concluded past a delayed_put_task_struct whose
   * sched_process_free has not shown, nor when no queued stack would miss, nor
   * for a stack queued after every grace period known to have ended began
   * (the kthread's timer, or a free of a task that died later): early in a
   * trace the kworker may be freeing a stack queued before it began. The
   * room counted is the primary model's (full caches at the start), the
   * fullest of the starting fills: the bound it gives is the least.
   */
  private vfreeAtomicWoke(cpu: number, tsNs: number): void {
    const pc = this.primary.cpus[cpu];
    let room = 0;
    for (const st of pc.cachedStacks) if (st === null) room++;
    const list = pc.rcu;
    for (let i = list.head; i < list.cbs.length; i++) {
      const cb = list.cbs[i];
      if (cb.kind === RcuCbKind.DelayedPutTaskStruct && cb.task !== null && this.finalSwitchNs.has(cb.task.pid)) return;
      if (cb.kind !== RcuCbKind.ThreadStackFreeRcu) continue;
      if (room > 0) {
        room--;
        continue;
      }
      if (cb.queuedNs > this.rcuProvenNs[cpu] && cb.queuedNs < Math.max(this.gp.endedInitNs, this.freedQueuedNs)) {
        this.rcuProvenNs[cpu] = cb.queuedNs;
        this.rcuCore(cpu, tsNs);
      }
      return;
    }
  }

  /** When the model queued delayed_put_task_struct of `pid` on `cpu`, or -1 if it is not queued there. */
  private queuedHere(cpu: number, pid: number): number {
    const list = this.primary.cpus[cpu].rcu;
    for (let i = list.head; i < list.cbs.length; i++) {
      const cb = list.cbs[i];
      if (cb.kind === RcuCbKind.DelayedPutTaskStruct && cb.task !== null && cb.task.pid === pid) return cb.queuedNs;
    }
    return -1;
  }

  private onWakeupNew(r: TraceRecord, s: string, lo: number, hi: number): void {
    const w = this.scratch;
    if (!parseWakeupAt(s, lo, hi, w) || w.pid === 0 || !this.primary.hasTask(w.pid)) return;
    const target = w.flagKnown && w.num < this.cpuCount ? w.num : r.cpu;
    for (const k of this.kernels) k.wakeUpNewTask(r.cpu, r.tsNs, w.pid, target);
  }

  private onMigrate(r: TraceRecord, s: string, lo: number, hi: number): void {
    const m = this.scratch;
    if (!parseMigrateAt(s, lo, hi, m) || m.pid === 0 || m.num >= this.cpuCount || !this.primary.hasTask(m.pid)) return;
    // try_to_wake_up() moving the kthread from inside rcu_core(): its sched_wakeup may come later on the
    // target CPU (the remote wakeup queue), outside any RCU core pass.
    if (m.pid === this.gpKthreadPid && this.inCore[r.cpu] === 1) this.kthreadWokenByCore(r.cpu);
    for (const k of this.kernels) k.migrateTask(r.cpu, r.tsNs, m.pid, m.num);
  }

  // ------------------------------------------------------------------ helpers

  /**
   * RCU_SOFTIRQ on this CPU (rcu_core): it runs the callbacks that a proof from
   * another CPU shows ready (zombies reaped elsewhere leave the dying CPU no
   * free of its own), except past a delayed_put_task_struct still queued here:
   * callbacks run in FIFO order (rcu_do_batch), and that one's
   * sched_process_free has not been seen, so nothing queued after it has run.
   */
  private onRcuCoreStart(r: TraceRecord): void {
    const c = r.cpu;
    // rcu_core() → note_gp_changes() tags this CPU's waiting callbacks only
    // when rnp->gp_seq moved since the CPU last looked (rdp->gp_seq): the
    // first pass after a run of the grace-period kthread, which alone moves it.
    if (this.notedRun[c] !== this.gpRuns) {
      this.notedRun[c] = this.gpRuns;
      this.accelerated(c, r.tsNs);
    }
    this.gp.rcuCore(c, r.tsNs, this.isKsoftirqd(r));
    // rcu_do_batch takes the done list as this pass finds it; what a grace period ends later waits for a later pass.
    this.passReadyNs[c] = this.gp.readyNs[c];
    if (this.gp.active) this.coreDeferred[c] = 1;
    else this.runProven(c, r.tsNs);
  }

  /**
   * The first event on a CPU whose rcu_core() pass is deferred
   * (coreDeferred). handle_softirqs() runs RCU_SOFTIRQ last; after it, a
   * pass that stopped at blimit with callbacks still ready has re-raised it:
   * the loop restarts (another `Start RCU core`) or, out of time or with a
   * reschedule due, wakes ksoftirqd (sirqPending). Events in softirq context
   * (the irq-info column's `s`, or `H` for an interrupt inside it) are still
   * that loop. Anything else is past it: with no ksoftirqd woken, every ready
   * callback has run.
   */
  private endSoftirq(c: number, tsNs: number, fl: string, kind: number, s: string, lo: number): void {
    if (kind === EV_RCU && s.startsWith('Start RCU core', lo)) return;
    if (fl.length >= 3) {
      const ctx = fl.charCodeAt(2);
      if (ctx === 115 || ctx === 72) return;
    } else if (this.inCore[c] === 1 || (kind === EV_WAKEUP && s.startsWith(`comm=ksoftirqd/${c} `, lo))) {
      // No flags column (trace-cmd report without it, perf script): the pass itself, its End and the
      // ksoftirqd wakeup right after are all that is known to be softirq.
      return;
    }
    this.coreDeferred[c] = 0;
    this.runProven(c, tsNs);
  }

  /**
   * `pid` runs on `cpu`: a parent woken in wait4 by its child's exit_notify
   * reaps it (wait_task_zombie → release_task → put_task_struct_rcu_user),
   * queueing delayed_put_task_struct here, behind the callbacks already on
   * this CPU; its sched_process_free then bounds how far this CPU's list has
   * run (onRcuCoreStart). Only children past their final switch: one the
   * parent could have reaped before it (the rcu_users reference of
   * finish_task_switch is then the last) waits for a later run, or for its
   * sched_process_free.
   */
  private reapChildren(cpu: number, tsNs: number, pid: number): void {
    const l = this.unreaped.get(pid);
    if (l === undefined) return;
    const rest: number[] = [];
    for (const c of l) {
      const z = this.primary.task(c);
      if (z === undefined || z.released) continue;
      if (z.state === TASK_DEAD) for (const k of this.kernels) k.releaseTask(cpu, tsNs, c);
      else rest.push(c);
    }
    if (rest.length === 0) this.unreaped.delete(pid);
    else this.unreaped.set(pid, rest);
  }

  /**
   * timer_start of the grace-period kthread's process_timeout timer
   * (schedule_timeout in rcu_gp_fqs_loop). Its comm names the kthread when no
   * switch has yet. The kthread is running: a switch to it the trace did not
   * show is inserted first.
   */
  private onTimerStart(r: TraceRecord, s: string, lo: number, hi: number): void {
    if (this.gpKthreadPid < 0 && (r.comm === 'rcu_preempt' || r.comm === 'rcu_sched')) this.gpKthreadPid = r.pid;
    if (r.pid !== this.gpKthreadPid) return;
    const f = s.indexOf('function=process_timeout', lo);
    if (f < 0 || f >= hi) return;
    this.syncCurrent(r.cpu, r.tsNs, r.pid, r, 0);
    this.gpTimer = timerAddress(s, lo, hi);
    this.gp.fqsTimerStart(r.cpu, r.tsNs);
  }

  /**
   * timer_cancel in the kthread's context. Only its own timer, outside
   * interrupts, is its del_timer_sync after an early wakeup; the expiry of
   * a timer (its own or another's) in a softirq on the way out of an
   * interrupt also prints timer_cancel (detach_timer) in whatever task ran.
   */
  private onTimerCancel(r: TraceRecord, s: string, lo: number, hi: number): void {
    if (r.pid !== this.gpKthreadPid || this.gpTimer === '' || timerAddress(s, lo, hi) !== this.gpTimer) return;
    const ctx = r.flags.charCodeAt(2); // the irq-info column: h, s or H in an interrupt
    if (ctx === 104 || ctx === 115 || ctx === 72) return;
    this.syncCurrent(r.cpu, r.tsNs, r.pid, r, 0);
    this.gp.fqsTimerCancel(r.cpu, r.tsNs);
  }

  /** rcu_core() on `cpu` woke the grace-period kthread (rcu_report_qs_rsp or rcu_start_this_gp). */
  private kthreadWokenByCore(cpu: number): void {
    this.gp.kthreadWokenByCore(cpu);
    this.coreWokeKthread = true;
  }

  /** ksoftirqd/N runs the pass: rcu_softirq_qs() follows it. */
  private isKsoftirqd(r: TraceRecord): boolean {
    if (this.ksoftirqdPids.has(r.pid)) return true;
    if (!r.comm.startsWith('ksoftirqd/') && !this.primary.task(r.pid)?.comm.startsWith('ksoftirqd/')) return false;
    this.ksoftirqdPids.add(r.pid);
    return true;
  }

  /**
   * Runs on `c` the callbacks a grace period is known or estimated to have
   * ended for: the kthread's timer (RcuGpTracker) once it has shown a grace
   * period start, else crossProof's estimate. While ksoftirqd/c is woken and
   * not yet asleep again, rcu_do_batch() has stopped at its limit (blimit, 10
   * callbacks a pass outside the idle task) and the rest waits for ksoftirqd:
   * then only what a sched_process_free anchors is known to have run, and the
   * rest runs when ksoftirqd sleeps. Whether a pass stopped at the limit shows
   * only after it (coreDeferred, endSoftirq), so a pass runs nothing unanchored
   * until its softirq is seen to end.
   */
  private runProven(c: number, tsNs: number): void {
    if (this.raiseProven(c)) this.rcuCore(c, tsNs);
  }

  /** runProven's bound alone: raises rcuProvenNs[c]; true if it moved (the caller runs rcuCore). */
  private raiseProven(c: number): boolean {
    if (this.gp.active && (this.sirqPending[c] === 1 || this.coreDeferred[c] === 1)) return false;
    let proven = this.crossProvenNs[c];
    if (this.gp.active) proven = Math.max(Math.min(proven, this.gp.firstInitNs), this.passReadyNs[c]);
    if (proven <= this.rcuProvenNs[c]) return false;
    const list = this.primary.cpus[c].rcu;
    for (let i = list.head; i < list.cbs.length; i++) {
      const cb = list.cbs[i];
      if (cb.kind === RcuCbKind.DelayedPutTaskStruct && cb.task !== null && this.finalSwitchNs.has(cb.task.pid)) {
        if (cb.queuedNs <= proven) proven = cb.queuedNs - 1;
        break;
      }
    }
    if (proven <= this.rcuProvenNs[c]) return false;
    this.rcuProvenNs[c] = proven;
    return true;
  }

  /** Runs of the kthread seen with no timer event of it: after a few, the trace has none (older recorders, other tools). */
  private timerless(): boolean {
    return this.gpTimer === '' && this.gpRuns >= 3;
  }

  /**
   * The grace-period kthread starts running: rcu_gp_init()/rcu_gp_cleanup()
   * may change gp_seq from here. Whether rcu_core woke it (runCoreWoken) tells
   * a timerless trace what the run did (onSwitch).
   */
  private gpKthreadRun(tsNs: number): void {
    this.runCoreWoken = this.coreWokeKthread;
    this.coreWokeKthread = false;
    this.gpRuns++;
    this.gp.kthreadRuns();
    const h = this.gpRunHead;
    this.gpRunRing[h] = tsNs;
    this.gpRunHead = h + 1 === CORE_RING ? 0 : h + 1;
    if (this.gpRunFilled < CORE_RING) this.gpRunFilled++;
  }

  /**
   * The last moment rcu_state.gp_seq is surely what it was at `tsNs`: just
   * before the grace-period kthread's first run after `tsNs`, since only
   * rcu_gp_init() and rcu_gp_cleanup() change it. `tsNs` itself when that
   * run is not known: the kthread not yet identified, no run seen since (a
   * free proves a grace period ended since, so one was missed), or the ring
   * of runs no longer reaching back to `tsNs`.
   */
  private epochEnd(tsNs: number): number {
    if (this.gpKthreadPid < 0) return tsNs;
    let first = -1;
    let h = this.gpRunHead;
    for (let n = this.gpRunFilled; n > 0; n--) {
      h = h === 0 ? CORE_RING - 1 : h - 1;
      const t = this.gpRunRing[h];
      if (t <= tsNs) return first < 0 ? tsNs : first - 1;
      first = t;
    }
    // Every run since the trace began is in the ring (it never wrapped): the oldest is the first after tsNs.
    return first >= 0 && this.gpRunFilled < CORE_RING ? first - 1 : tsNs;
  }

  /** Callbacks queued on `cpu` before `tsNs` have been given their grace period (rcu_accelerate_cbs). */
  private accelerated(cpu: number, tsNs: number): void {
    const h = this.coreHead[cpu];
    this.coreRing[cpu][h] = tsNs;
    this.coreHead[cpu] = h + 1 === CORE_RING ? 0 : h + 1;
    if (this.coreFilled[cpu] < CORE_RING) this.coreFilled[cpu]++;
  }

  /**
   * A callback queued at `queuedNs` has run, on some CPU. With one rcu_node
   * (up to 16 CPUs, RCU_FANOUT_LEAF) every CPU reads the same rnp->gp_seq when
   * it gives its callbacks a grace period (rcu_accelerate_cbs, from its
   * rcu_core), and later reads give the same or later grace periods; only the
   * grace-period kthread moves gp_seq (rcu_gp_init, rcu_gp_cleanup). The
   * freed callback was given its grace period at or after `queuedNs`, from a
   * gp_seq no older than the one in force at `queuedNs`, which holds until the
   * kthread's next run (epochEnd). So on each CPU, callbacks queued before
   * its last tagging pass before that run had been given a grace period no
   * later than this callback's, which has ended. An estimate, not a proof:
   * a pass with no grace period in progress accelerates at once (rcu_core's
   * !rcu_gp_in_progress() branch), which the tagging passes (the first after
   * each kthread run) do not count, and past 16 CPUs each leaf rcu_node has
   * its own gp_seq, which may lag the root's. Churn recordings show both
   * directions of error (README).
   */
  private crossProof(queuedNs: number): void {
    const limit = this.epochEnd(queuedNs);
    for (let c = 0; c < this.cpuCount; c++) {
      const ring = this.coreRing[c];
      let h = this.coreHead[c];
      // Newest first; per-CPU timestamps only grow. No bound if the ring does not reach back that far.
      for (let n = this.coreFilled[c]; n > 0; n--) {
        h = h === 0 ? CORE_RING - 1 : h - 1;
        const t = ring[h];
        if (t <= limit) {
          if (t > this.crossProvenNs[c]) this.crossProvenNs[c] = t;
          break;
        }
      }
    }
  }

  /**
   * rcu_core() on `cpu` with callbacks queued up to rcuProvenNs[cpu] ready:
   * stacks retry the cache, and those that find it full are vfree()d from
   * softirq, which defers them (vfree_atomic: schedule_work on this CPU). The
   * work runs when the CPU's kworker next shows (onSwitch), so that a batch
   * the kernel had not freed when the trace ended is not counted as freed.
   */
  private rcuCore(cpu: number, tsNs: number): void {
    for (const k of this.kernels) {
      k.rcuGpCompletedUpTo(cpu, this.rcuProvenNs[cpu]);
      k.rcuCore(cpu, tsNs);
    }
  }

  /** Whether any variant has work queued on `cpu` for a kworker. */
  private workPending(cpu: number): boolean {
    for (const k of this.kernels) if (k.workPending(cpu)) return true;
    return false;
  }

  /**
   * A kworker of `cpu`'s bound pool runs the work queued there (Kernel.runWork):
   * all of it when `bound` (one of that pool's workers is seen), else only a
   * variant's whose work was queued from task context.
   */
  private runQueuedWork(cpu: number, tsNs: number, bound: boolean): void {
    for (const k of this.kernels) if (bound ? k.workPending(cpu) : k.taskWorkPending(cpu)) k.runWork(cpu, tsNs);
  }

  /**
   * Makes the model's current task on `cpu` the trace's (the pid column of
   * every event). A dead pid running again is the exec pid swap: de_thread()
   * gave the exec'ing thread (the model's current) the dead leader's pid.
   * The comm (read only to adopt) is `commOf`'s: the record's (0), or the
   * payload's comm (1) or comm2 (2).
   */
  private syncCurrent(cpu: number, tsNs: number, pid: number, commOf: CommSource, which: 0 | 1 | 2): void {
    const k0 = this.primary;
    const cur = k0.currentPid(cpu);
    if (cur === pid) return;
    if (pid !== 0) {
      const t = k0.task(pid);
      const curTask = cur === 0 ? undefined : k0.task(cur);
      if (t !== undefined && t.state === TASK_DEAD && curTask !== undefined && curTask.state !== TASK_DEAD) {
        this.anomalies.pidSwaps++;
        for (const k of this.kernels) k.exchangeTids(pid, cur);
        const finalNs = this.finalSwitchNs.get(pid);
        if (finalNs !== undefined) {
          this.finalSwitchNs.delete(pid);
          this.finalSwitchNs.set(cur, finalNs);
        }
        return;
      }
      this.ensureLive(cpu, tsNs, pid, commOf, which);
    }
    this.anomalies.phantomSwitches++;
    for (const k of this.kernels) k.contextSwitch(cpu, tsNs, pid, 'R');
    // The switch the trace did not show (about half of those out of idle on
    // 6.18) is still a context switch for RCU, and may be the kthread's.
    this.gp.quiescent(cpu);
    this.gp.idle(cpu, tsNs, pid === 0);
    if (pid === this.gpKthreadPid) this.gpKthreadRun(tsNs);
  }

  /** `pid` runs on `cpu`: adopt it if the model does not know it; a dead holder of the pid is renamed away. */
  private ensureLive(cpu: number, tsNs: number, pid: number, commOf: CommSource, which: 0 | 1 | 2): void {
    const t = this.primary.task(pid);
    if (t !== undefined && t.state !== TASK_DEAD) return;
    const comm = commText(commOf, which);
    if (t !== undefined) {
      this.anomalies.staleRenamed++;
      const synthetic = this.nextSyntheticPid++;
      for (const k of this.kernels) k.changePid(pid, synthetic);
    }
    this.anomalies.adopted++;
    if (comm === 'rcu_preempt' || comm === 'rcu_sched') this.gpKthreadPid = pid;
    else if (comm.startsWith('ksoftirqd/')) this.ksoftirqdPids.add(pid);
    for (const k of this.kernels) k.adoptTask(tsNs, pid, comm, cpu, { kthread: comm.startsWith('kworker/') });
  }

  /**
   * The trace names `pid` `comm`: an exec renamed it (sched_process_exec is not
   * among the events). Only for the model's event output (--events, --perfetto):
   * no decision reads a comm after adoption, and untraced replays skip the strings.
   */
  private learnComm(pid: number, comm: string): void {
    // Only the primary model's events are written.
    const t = this.primary.task(pid);
    if (t === undefined || t.comm === comm || comm === '<...>') return;
    this.primary.setComm(pid, comm);
  }

  private retireProvisional(pid: number): void {
    // copy_process() failed after dup_task_struct: bad_fork_free releases the stack.
    this.pidTracer?.release(pid);
    if (!this.primary.hasTask(pid)) return;
    const synthetic = this.nextSyntheticPid++;
    for (const k of this.kernels) k.changePid(pid, synthetic);
  }

  /**
   * A total (stack vfrees, purges) as the unknown starting fill leaves it:
   * the primary model's count, and the least and most any starting fill
   * gives. The variants may count differently until they converge (a stack
   * released into a cache one fill has room in and another has not), and
   * from then on they would all add the same.
   */
  fillRange(stat: FillRangeStat): { value: number; min: number; max: number } {
    const value = this.kernels[0].stats[stat];
    // After convergence only the primary runs: the spread is what it was then.
    const d = this.convergedDelta[stat];
    let min = value + d.min;
    let max = value + d.max;
    for (const k of this.kernels) {
      min = Math.min(min, k.stats[stat]);
      max = Math.max(max, k.stats[stat]);
    }
    return { value, min, max };
  }

  /** Drops the variants once every CPU's cache agrees and no stack waits for RCU in any. */
  private checkConverged(lineNo: number): void {
    if (this.kernels.length < 2) return;
    const k0 = this.kernels[0];
    for (const k of this.kernels) if (k.stats.rcuPendingStacks !== 0) return;
    for (let c = 0; c < this.cpuCount; c++) {
      const occ = k0.cacheOccupancy(c);
      // Stacks waiting for the kworker are vfrees not yet counted: the variants must hold as many.
      const queued = k0.cpus[c].vfreeList.length;
      for (let i = 1; i < this.kernels.length; i++) {
        const k = this.kernels[i];
        if (k.cacheOccupancy(c) !== occ || k.cpus[c].vfreeList.length !== queued) return;
      }
    }
    for (const stat of FILL_RANGE_STATS) {
      const r = this.fillRange(stat);
      this.convergedDelta[stat] = { min: r.min - r.value, max: r.max - r.value };
    }
    this.kernels = [k0];
    this.fills = [this.fills[0]];
    this.convergedAtLine = lineNo;
  }

  private lostTake(cpu: number): void {
    this.lostLo[cpu] = Math.max(0, this.lostLo[cpu] - 1);
    this.lostHi[cpu] = Math.max(0, this.lostHi[cpu] - 1);
    if (this.lostLo[cpu] === this.lostHi[cpu]) this.uncertain[cpu] = 0;
  }

  private lostPut(cpu: number): void {
    this.lostLo[cpu] = Math.min(this.nrCached, this.lostLo[cpu] + 1);
    this.lostHi[cpu] = Math.min(this.nrCached, this.lostHi[cpu] + 1);
    if (this.lostLo[cpu] === this.lostHi[cpu]) this.uncertain[cpu] = 0;
  }

  private modelError(r: TraceRecord, msg: string): void {
    this.anomalies.modelErrors++;
    if (this.anomalies.modelErrorExamples.length < MODEL_ERROR_EXAMPLES_MAX) {
      this.anomalies.modelErrorExamples.push(`line ${r.lineNo} (${r.event}): ${msg}`);
    }
  }
}

/** A payload parsed by the caller: `f` holds the fields when `ok`. */
export interface ParsedPayload {
  f: PayloadFields;
  ok: boolean;
}

type CommSource = TraceRecord | PayloadFields;

function commText(src: CommSource, which: 0 | 1 | 2): string {
  if (which === 0) return (src as TraceRecord).comm;
  return which === 1 ? (src as PayloadFields).comm() : (src as PayloadFields).comm2();
}

/** The `timer=` value of a timer:* payload s[lo, hi), or ''. */
function timerAddress(s: string, lo: number, hi: number): string {
  const i = s.indexOf('timer=', lo);
  if (i < 0 || i >= hi) return '';
  let e = s.indexOf(' ', i);
  if (e < 0 || e > hi) e = hi;
  return s.slice(i + 6, e);
}
