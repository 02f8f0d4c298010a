// The model's state (the kernel's globals and per-CPU data) and its entry
// points. Drivers — the simulator, the trace replay, the interleaving explorer —
// call only the public methods below, naming the CPU and the time; none of them
// reaches into the state. The model has no clock of its own.
import { NS_ZERO } from './ns.ts';
import type { KernelConfig } from '../config/knobs.ts';
import type { CostTable } from '../cost/table.ts';
import { memcgCreate, type Memcg } from '../mm/memcontrol.ts';
import { BuddyZone, PageUse } from '../mm/page_alloc.ts';
import { delayedVfreeWork, lazyMaxPages, purgeVmapAreaLazy, VmapSpace, vmallocStack } from '../mm/vmalloc.ts';
import type { Ctx, KernelEventName, Tracer } from './events.ts';
import { EK, EVENT_NAMES, NULL_TRACER } from './events.ts';
import { delayedPutTaskStruct, doExit, releaseTask } from './exit.ts';
import { type CloneArgs, delayedFreeTask, kernelClone, kernelCloneTask, threadStackFreeRcu } from './fork.ts';
import { cpuDown, cpuUp } from './hotplug.ts';
import {
  RcuCbKind,
  type RcuCallback,
  RcuCpu,
  RcuState,
  rcuCore,
  rcuGpCompletedUpTo,
  rcuGpKthread,
  rcuTick,
} from './rcu.ts';
import { contextSwitch, type PrevState, setTaskCpu, tryToWakeUp, wakeUpNewTask } from './sched/core.ts';
import { type ReaderKind, type StackReader, stackReaderAccess, stackReaderBegin, stackReaderEnd } from './task_stack.ts';
import { KStack, STACK_STATE_NAMES, StackState, TASK_DEAD, TASK_RUNNING, TaskStruct } from './task.ts';
import { type Mutation, type MutationFlags, mutationFlags } from './mutations.ts';
import { PID_MAX_DEFAULT, PidTable } from './pid.ts';

export type { CloneArgs } from './fork.ts';
export type { PrevState } from './sched/core.ts';
export type { ReaderKind, StackReader } from './task_stack.ts';

export interface KernelOptions {
  config: KernelConfig;
  costs: CostTable;
  cpuCount: number;
  tracer?: Tracer;
  mutations?: readonly Mutation[];
  /** Model the observer effect of recording a trace: every real tracepoint costs costs.tracepointNs. */
  traced?: boolean;
}

/** The tracepoints kstack record enables: the ones that cost time when a trace is being recorded. */
const RECORDED_TRACEPOINTS: ReadonlySet<string> = new Set([
  'task_newtask',
  'sched_process_fork',
  'sched_wakeup_new',
  'sched_wakeup',
  'sched_switch',
  'sched_migrate_task',
  'sched_process_exit',
  'sched_process_free',
  'alloc_vmap_area',
  'free_vmap_area_noflush',
  'purge_vmap_area_lazy',
]);
/** RECORDED_TRACEPOINTS by event kind (EK). */
const RECORDED_KIND: Uint8Array = Uint8Array.from(EVENT_NAMES, (n) => (RECORDED_TRACEPOINTS.has(n) ? 1 : 0));

export type ViolationKind =
  | 'use-after-free'
  | 'double-free'
  | 'leak'
  | 'refcount-underflow'
  | 'release-not-dead'
  | 'double-release'
  | 'cache-overflow'
  | 'cached-stack-owned'
  | 'cached-stack-charged'
  | 'freed-stack-reachable'
  | 'stack-overflow-guard'
  | 'thread-info-corrupted'
  | 'invariant';

export interface Violation {
  kind: ViolationKind;
  tsNs: number;
  cpu: number;
  pid: number;
  stack: number | null;
  message: string;
  /** The model's last events on this CPU or about this stack, oldest first. */
  history: string[];
}

/** Counters a run reports; all are outcomes of the model. */
export class KernelStats {
  forks = 0;
  forkFailures = 0;
  cacheHits = 0;
  cacheMisses = 0;
  cachePuts = 0;
  cacheFull = 0;
  rcuRetryHits = 0;
  vmallocs = 0;
  vmallocFailures = 0;
  vfrees = 0;
  vfreeDeferred = 0;
  purges = 0;
  purgedAreas = 0;
  tlbFlushes = 0;
  tlbFlushIpis = 0;
  remoteTlbNs = NS_ZERO;
  pageAllocSlow = 0;
  pageAllocFailures = 0;
  memcgCharges = 0;
  memcgChargeFailures = 0;
  stackReleases = 0;
  stackAccesses = 0;
  finalSwitches = 0;
  /** Stacks handed to a new task after their lines had left the caches (cost model). */
  coldStacks = 0;
  stackPages = 0;
  peakStackPages = 0;
  rcuPendingStacks = 0;
  peakRcuPendingStacks = 0;
  /** Modelled ns spent allocating and freeing stacks (cost model), all CPUs. */
  stackAllocNs = NS_ZERO;
  stackFreeNs = NS_ZERO;
}

export class CpuStats {
  hits = 0;
  misses = 0;
  puts = 0;
  vmallocs = 0;
  vfrees = 0;
}

export class PerCpu {
  online = true;
  readonly cachedStacks: (KStack | null)[];
  cacheCount = 0;
  curr: TaskStruct;
  readonly idle: TaskStruct;
  readonly rcu = new RcuCpu();
  vfreeList: KStack[] = [];
  vfreeWorkPending = false;
  drainWorkPending = false;
  /** Some of the pending work was queued from task context (4.10–5.17 free_thread_stack's vfree_atomic), not from an RCU callback. */
  workFromTask = false;

  constructor(
    readonly index: number,
    nrCached: number,
  ) {
    this.cachedStacks = new Array<KStack | null>(nrCached).fill(null);
    const idle = new TaskStruct();
    idle.pid = 0;
    idle.comm = `swapper/${index}`;
    idle.cpu = index;
    idle.state = TASK_RUNNING;
    idle.onCpu = true;
    idle.usage = 1;
    this.idle = idle;
    this.curr = idle;
  }
}

/** Events kept for a violation's history; a power of two (the ring index is masked). */
const HISTORY = 256;
const EMPTY_I32 = new Int32Array(0);

export class Kernel {
  readonly cfg: KernelConfig;
  readonly costs: CostTable;
  readonly cpus: PerCpu[];
  readonly tracer: Tracer;
  readonly mut: MutationFlags;
  readonly zone: BuddyZone;
  readonly vmap: VmapSpace;
  readonly rcu = new RcuState();
  readonly memcgs: Memcg[] = [];
  readonly stats = new KernelStats();
  readonly cpuStats: CpuStats[];
  readonly violations: Violation[] = [];
  readonly threadSize: number;
  /** Time of the entry point being executed; set by every public method. */
  nowNs = NS_ZERO;
  curCpu = 0;
  ctx: Ctx = 'task';
  /** Modelled ns spent by the model since construction (read around a call for its cost). */
  spentNs = NS_ZERO;
  /** spentNs when the current entry point began: events are stamped at nowNs plus the work done since. */
  private entrySpentNs = NS_ZERO;
  nrKernelStackKb = 0;
  nextReaderId = 1;
  /** ns a recorded tracepoint costs (0 unless the run models tracing being on). */
  readonly tracepointNs: number;
  /** pid → task (find_task_by_pid_ns); pids are allocated from it too (alloc_pid). */
  private readonly tasks = new PidTable(1000);
  private readonly stacks = new Map<number, KStack>();
  private nextStackId = 1;
  private readonly taskPool: TaskStruct[] = [];
  /** The history ring, allocated on the first event (many checker kernels live only a few steps). */
  private histTs: Float64Array | null = null;
  private histCpu = EMPTY_I32;
  private histPid = EMPTY_I32;
  private histStack = EMPTY_I32;
  private histKind: Uint8Array = new Uint8Array(0);
  private histHead = 0;
  private histLen = 0;

  constructor(opts: KernelOptions) {
    this.cfg = opts.config;
    this.costs = opts.costs;
    this.tracer = opts.tracer ?? NULL_TRACER;
    this.mut = mutationFlags(opts.mutations ?? []);
    this.tracepointNs = opts.traced ? opts.costs.tracepointNs : 0;
    if (opts.cpuCount < 1 || opts.cpuCount > 256) throw new RangeError(`cpuCount ${opts.cpuCount}: expected 1 to 256`);
    this.threadSize = 4096 << this.cfg.THREAD_SIZE_ORDER;
    this.cpus = [];
    this.cpuStats = [];
    for (let i = 0; i < opts.cpuCount; i++) {
      this.cpus.push(new PerCpu(i, this.cfg.NR_CACHED_STACKS));
      this.cpuStats.push(new CpuStats());
    }
    this.zone = new BuddyZone(this.cfg.ZONE_PAGES, opts.cpuCount);
    this.vmap = new VmapSpace(this.cfg.VMAP_POOLS);
    memcgCreate(this, 0); // id 0: the root, never charged
  }

  // ---------------------------------------------------------------- entry points

  /** A task that existed before the model started (trace replay): gets a stack silently. */
  adoptTask(tsNs: number, pid: number, comm: string, cpu: number, opts: { thread?: boolean; kthread?: boolean } = {}): void {
    this.enter(cpu, tsNs);
    if (this.tasks.has(pid)) return;
    const t = this.newTaskStruct();
    t.pid = pid;
    t.tgid = pid;
    t.comm = comm;
    t.cpu = cpu;
    t.state = TASK_RUNNING;
    t.autoreap = !!opts.thread;
    t.kthread = !!opts.kthread;
    t.usage = this.cfg.RCU_USERS ? 1 : 2;
    t.rcuUsers = this.cfg.RCU_USERS ? 2 : 0;
    const tracerWas = this.silenced;
    this.silenced = true;
    const s = this.cfg.VMAP_STACK ? this.silentVmalloc(cpu) : this.adoptPageStack(cpu);
    this.silenced = tracerWas;
    if (s) {
      s.ownerPid = pid;
      s.state = StackState.InUse;
      s.uses = 1;
      s.accounted = true;
      this.nrKernelStackKb += this.threadSize / 1024;
      t.stack = s;
      t.stackRefcount = this.cfg.THREAD_INFO_IN_TASK ? 1 : 0;
    }
    this.attachTask(t);
  }

  /**
   * Trace replay: `cpu`'s cache held `count` stacks before the trace began
   * (stacks vmalloc'd silently, as if released there earlier).
   */
  seedCache(cpu: number, tsNs: number, count: number): void {
    this.enter(cpu, tsNs);
    const cache = this.cpus[cpu].cachedStacks;
    this.silenced = true;
    for (let i = 0; i < cache.length && count > 0; i++) {
      if (cache[i]) continue;
      const s = this.silentVmalloc(cpu);
      if (!s) break;
      s.state = StackState.Cached;
      s.cpu = cpu;
      s.slot = i;
      s.uses = 1;
      cache[i] = s;
      this.cpus[cpu].cacheCount++;
      count--;
    }
    this.silenced = false;
  }

  /** kernel_clone(): copy_process on `cpu` (the parent's); returns the child pid or -ENOMEM. */
  kernelClone(cpu: number, tsNs: number, parentPid: number, args: CloneArgs): number {
    this.enter(cpu, tsNs);
    const parent = this.taskOrIdle(cpu, parentPid);
    return kernelClone(this, cpu, parent, args);
  }

  /** wake_up_new_task(): the child becomes runnable on `targetCpu`. */
  wakeUpNewTask(cpu: number, tsNs: number, pid: number, targetCpu: number): void {
    this.wakeUpNewTaskT(cpu, tsNs, this.mustTask(pid), targetCpu);
  }

  /** try_to_wake_up() of a sleeping task onto `targetCpu`. */
  wakeUp(cpu: number, tsNs: number, pid: number, targetCpu: number): void {
    this.wakeUpT(cpu, tsNs, this.mustTask(pid), targetCpu);
  }

  /** A migration decided by load balancing (sched_migrate_task). */
  migrateTask(cpu: number, tsNs: number, pid: number, destCpu: number): void {
    this.migrateTaskT(cpu, tsNs, this.mustTask(pid), destCpu);
  }

  /** do_exit() of the task current on `cpu`; the caller then switches away from it. */
  doExit(cpu: number, tsNs: number, pid: number, groupDead = true): void {
    this.doExitT(cpu, tsNs, this.mustTask(pid), groupDead);
  }

  /** wait4() reaping a zombie child: release_task() on the reaper's CPU. */
  releaseTask(cpu: number, tsNs: number, pid: number): void {
    this.releaseTaskT(cpu, tsNs, this.mustTask(pid));
  }

  /** __schedule() on `cpu` from the current task to `nextPid` (0 = idle). */
  contextSwitch(cpu: number, tsNs: number, nextPid: number, prevState: PrevState = 'S'): void {
    this.enter(cpu, tsNs);
    const prev = this.cpus[cpu].curr;
    const next = this.taskOrIdle(cpu, nextPid);
    contextSwitch(this, cpu, prev, next, prevState);
  }

  // Handle-based entry points for drivers that keep the task_struct they were
  // given (the simulator): the same as the pid-based ones without the pid
  // lookup. A handle to a freed task_struct is a driver bug, as an unknown pid is.

  /** kernelClone() from `parent`'s handle; returns the child's task_struct, or null for -ENOMEM. */
  kernelCloneT(cpu: number, tsNs: number, parent: TaskStruct, args: CloneArgs): TaskStruct | null {
    this.enter(cpu, tsNs);
    return kernelCloneTask(this, cpu, this.live(parent), args);
  }

  wakeUpNewTaskT(cpu: number, tsNs: number, t: TaskStruct, targetCpu: number): void {
    this.enter(cpu, tsNs);
    wakeUpNewTask(this, cpu, this.live(t), targetCpu);
  }

  wakeUpT(cpu: number, tsNs: number, t: TaskStruct, targetCpu: number): void {
    this.enter(cpu, tsNs);
    tryToWakeUp(this, cpu, this.live(t), targetCpu);
  }

  migrateTaskT(cpu: number, tsNs: number, t: TaskStruct, destCpu: number): void {
    this.enter(cpu, tsNs);
    setTaskCpu(this, cpu, this.live(t), destCpu);
  }

  doExitT(cpu: number, tsNs: number, t: TaskStruct, groupDead = true): void {
    this.enter(cpu, tsNs);
    doExit(this, cpu, this.live(t), groupDead);
  }

  releaseTaskT(cpu: number, tsNs: number, t: TaskStruct): void {
    this.enter(cpu, tsNs);
    releaseTask(this, cpu, this.live(t));
  }

  /** contextSwitch() to `next` (null = this CPU's idle task). */
  contextSwitchT(cpu: number, tsNs: number, next: TaskStruct | null, prevState: PrevState = 'S'): void {
    this.enter(cpu, tsNs);
    contextSwitch(this, cpu, this.cpus[cpu].curr, next === null ? this.cpus[cpu].idle : this.live(next), prevState);
  }

  /** The task_struct behind `pid` (the handle for the handle-based entry points); throws for an unknown pid. */
  taskHandle(pid: number): TaskStruct {
    return this.mustTask(pid);
  }

  /** A scheduler tick on `cpu` (HZ): RCU quiescent-state reporting and callback invocation. */
  tick(cpu: number, tsNs: number, idleOrUser: boolean): void {
    this.enter(cpu, tsNs);
    rcuTick(this, cpu, idleOrUser);
  }

  /** The RCU grace-period kthread runs (starts or ends a grace period). */
  rcuGpKthread(tsNs: number): void {
    this.enter(this.rcuGpCpu(), tsNs);
    rcuGpKthread(this);
  }

  /** Trace replay: `cpu`'s callbacks queued up to `upToNs` are proven ready (e.g. a later one ran there). */
  rcuGpCompletedUpTo(cpu: number, upToNs: number): void {
    rcuGpCompletedUpTo(this, cpu, upToNs);
  }

  /** RCU_SOFTIRQ on `cpu`: invoke its ready callbacks. Returns how many ran. */
  rcuCore(cpu: number, tsNs: number): number {
    this.enter(cpu, tsNs);
    return rcuCore(this, cpu);
  }

  /** Whether `cpu` has queued work (deferred vfree or the vmap drain) for a kworker. */
  workPending(cpu: number): boolean {
    const pc = this.cpus[cpu];
    return pc.vfreeWorkPending || pc.drainWorkPending;
  }

  /** Whether some of `cpu`'s pending work was queued from task context (PerCpu.workFromTask). */
  taskWorkPending(cpu: number): boolean {
    const pc = this.cpus[cpu];
    return pc.workFromTask && (pc.vfreeWorkPending || pc.drainWorkPending);
  }

  /** Stacks on every CPU's vfree_deferred list, waiting for a kworker. */
  queuedVfrees(): number {
    let n = 0;
    for (const pc of this.cpus) n += pc.vfreeList.length;
    return n;
  }

  /** A kworker on `cpu` runs its pending work items. */
  runWork(cpu: number, tsNs: number): void {
    this.enter(cpu, tsNs);
    const pc = this.cpus[cpu];
    if (pc.vfreeWorkPending) {
      pc.vfreeWorkPending = false;
      const list = pc.vfreeList;
      pc.vfreeList = [];
      this.spendFree(this.costs.workItemNs);
      delayedVfreeWork(this, cpu, list);
    }
    if (pc.drainWorkPending) {
      pc.drainWorkPending = false;
      this.spendFree(this.costs.workItemNs);
      // drain_vmap_area_work(): purge until under the threshold.
      purgeVmapAreaLazy(this, cpu);
    }
    // After the work: the vfrees above queue the drain from task context, and it has run too.
    pc.workFromTask = false;
  }

  /** A reader on `cpu` starts looking at `pid`'s stack (pin). Null if the task is gone. */
  stackReaderBegin(cpu: number, tsNs: number, kind: ReaderKind, pid: number, ctx: Ctx = 'task'): StackReader | null {
    this.enter(cpu, tsNs, ctx);
    const t = this.tasks.get(pid);
    return t ? stackReaderBegin(this, cpu, kind, t) : null;
  }

  stackReaderAccess(cpu: number, tsNs: number, r: StackReader, ctx: Ctx = 'task'): void {
    this.enter(cpu, tsNs, ctx);
    stackReaderAccess(this, cpu, r);
  }

  /** The reader unpins; the last put can release the stack here, on the reader's CPU and context. */
  stackReaderEnd(cpu: number, tsNs: number, r: StackReader, ctx: Ctx = 'task'): void {
    this.enter(cpu, tsNs, ctx);
    stackReaderEnd(this, cpu, r);
  }

  /** The current task on `cpu` overruns its stack by `bytes` below the bottom. */
  stackOverflow(cpu: number, tsNs: number, pid: number, bytes: number): void {
    this.enter(cpu, tsNs);
    const t = this.mustTask(pid);
    const s = t.stack;
    if (!s || bytes <= 0) return;
    if (s.vmapped) {
      this.violation('stack-overflow-guard', cpu, pid, s, `pid ${pid} overran its vmapped stack by ${bytes} B into the guard page: oops (kernel stack overflow, double fault)`);
    } else if (!this.cfg.THREAD_INFO_IN_TASK) {
      this.violation('thread-info-corrupted', cpu, pid, s, `pid ${pid} overran its stack by ${bytes} B into thread_info at the stack base: silent corruption`);
    }
  }

  /** CPU hotplug: `cpu` goes offline (its tasks must already be elsewhere). */
  cpuDown(ctlCpu: number, tsNs: number, cpu: number): void {
    this.enter(ctlCpu, tsNs);
    cpuDown(this, ctlCpu, cpu);
  }

  cpuUp(ctlCpu: number, tsNs: number, cpu: number): void {
    this.enter(ctlCpu, tsNs);
    cpuUp(this, ctlCpu, cpu);
  }

  memcgCreate(limitPages: number): number {
    return memcgCreate(this, limitPages);
  }

  setTaskMemcg(pid: number, memcg: number): void {
    this.mustTask(pid).memcg = memcg;
  }

  /** exchange_tids() in de_thread(): an exec by a non-leader thread takes the leader's pid. */
  exchangeTids(a: number, b: number): void {
    const ta = this.mustTask(a);
    const tb = this.mustTask(b);
    this.tasks.set(a, tb);
    this.tasks.set(b, ta);
    ta.pid = b;
    tb.pid = a;
    if (ta.stack && ta.stack.ownerPid === a) ta.stack.ownerPid = b;
    if (tb.stack && tb.stack.ownerPid === b) tb.stack.ownerPid = a;
  }

  /** Re-keys a task under another pid (trace replay learns the child pid after the stack was taken). */
  changePid(oldPid: number, newPid: number): void {
    const t = this.mustTask(oldPid);
    this.tasks.delete(oldPid);
    t.pid = newPid;
    if (t.tgid === oldPid) t.tgid = newPid;
    if (t.stack) t.stack.ownerPid = newPid;
    this.tasks.set(newPid, t);
  }

  /**
   * copy_process()'s CLONE_THREAD fields (kernel/fork.c, 6.18: tgid,
   * real_parent = current->real_parent, exit_signal -1 so exit_notify()
   * autoreaps), set once the replay learns the clone flags from task_newtask,
   * after the task_struct marker had the stack taken as if for a process.
   */
  setCloneThread(pid: number): void {
    const t = this.mustTask(pid);
    const parent = this.tasks.get(t.parentPid);
    if (parent !== undefined) {
      t.tgid = parent.tgid;
      t.parentPid = parent.parentPid;
    }
    t.autoreap = true;
  }

  /** The task's comm changed: begin_new_exec() → __set_task_comm() (fs/exec.c, 6.18); the replay learns it from the trace. */
  setComm(pid: number, comm: string): void {
    this.mustTask(pid).comm = comm;
  }

  // ---------------------------------------------------------------- queries

  hasTask(pid: number): boolean {
    return this.tasks.has(pid);
  }

  task(pid: number): Readonly<TaskStruct> | undefined {
    return this.tasks.get(pid);
  }

  currentPid(cpu: number): number {
    return this.cpus[cpu].curr.pid;
  }

  taskCount(): number {
    return this.tasks.size;
  }

  cacheOccupancy(cpu: number): number {
    return this.cpus[cpu].cacheCount;
  }

  /** The stack ids in each slot of `cpu`'s cache (0 = empty). */
  cacheSlots(cpu: number): number[] {
    return this.cpus[cpu].cachedStacks.map((s) => (s ? s.id : 0));
  }

  onlineCpus(): number {
    let n = 0;
    for (const c of this.cpus) if (c.online) n++;
    return n;
  }

  lazyMaxPages(): number {
    return this.cfg.LAZY_MAX_PAGES > 0 ? this.cfg.LAZY_MAX_PAGES : lazyMaxPages(this.onlineCpus());
  }

  stackBytes(): number {
    return this.stats.stackPages * 4096;
  }

  liveStacks(): number {
    return this.stacks.size;
  }

  describeStack(s: KStack): string {
    const owner = s.ownerPid ? `owned by pid ${s.ownerPid}` : 'owned by no task';
    const where = s.state === StackState.Cached ? ` in cpu ${s.cpu} slot ${s.slot}` : s.cpu >= 0 ? ` on cpu ${s.cpu}` : '';
    return `${STACK_STATE_NAMES[s.state]}${where}, ${owner}`;
  }

  // ---------------------------------------------------------------- checks

  /** Every stack in exactly one place; counts and refcounts consistent. Returns problems found. */
  checkInvariants(): string[] {
    const p: string[] = [];
    const cachedSeen = new Set<number>();
    for (const pc of this.cpus) {
      let n = 0;
      pc.cachedStacks.forEach((s, slot) => {
        if (!s) return;
        n++;
        if (cachedSeen.has(s.id)) p.push(`stack #${s.id} is in two cache slots`);
        cachedSeen.add(s.id);
        if (s.state !== StackState.Cached || s.cpu !== pc.index || s.slot !== slot) {
          p.push(`cpu ${pc.index} slot ${slot} holds stack #${s.id} in state ${this.describeStack(s)}`);
        }
        if (s.ownerPid !== 0) p.push(`cached stack #${s.id} still owned by pid ${s.ownerPid}`);
        if (this.cfg.MEMCG_CHARGE === 'assign' && s.memcg !== 0) p.push(`cached stack #${s.id} still charged to memcg ${s.memcg}`);
      });
      if (n !== pc.cacheCount) p.push(`cpu ${pc.index}: cache count ${pc.cacheCount} but ${n} slots full`);
      if (n > this.cfg.NR_CACHED_STACKS) p.push(`cpu ${pc.index}: ${n} cached stacks > NR_CACHED_STACKS`);
    }
    const owned = new Set<number>();
    let accountedKb = 0;
    for (const t of this.tasks.values()) {
      if (t.stackRefcount < 0) p.push(`pid ${t.pid}: stack_refcount ${t.stackRefcount}`);
      if (t.usage < 0 || t.rcuUsers < 0) p.push(`pid ${t.pid}: usage ${t.usage} rcu_users ${t.rcuUsers}`);
      const s = t.stack;
      if (!s) continue;
      if (owned.has(s.id)) p.push(`stack #${s.id} owned by two tasks`);
      owned.add(s.id);
      if (s.ownerPid !== t.pid) p.push(`pid ${t.pid} points at stack #${s.id} owned by pid ${s.ownerPid}`);
      if (s.state !== StackState.InUse && s.state !== StackState.Allocated && s.state !== StackState.DeadPinned) {
        p.push(`pid ${t.pid} points at stack #${s.id} in state ${this.describeStack(s)}`);
      }
    }
    let rcuPending = 0;
    let deferred = 0;
    let pages = 0;
    for (const s of this.stacks.values()) {
      if (s.accounted) accountedKb += this.threadSize / 1024;
      pages += s.pfns.length;
      if (s.state === StackState.RcuPending) rcuPending++;
      if (s.state === StackState.VfreeDeferred) deferred++;
      if (s.state === StackState.Cached && !cachedSeen.has(s.id)) p.push(`stack #${s.id} says CACHED but is in no slot`);
      if ((s.state === StackState.InUse || s.state === StackState.Allocated) && !owned.has(s.id)) {
        p.push(`stack #${s.id} is ${this.describeStack(s)} but no task points at it`);
      }
    }
    let listed = 0;
    for (const pc of this.cpus) listed += pc.vfreeList.length;
    if (listed !== deferred) p.push(`${deferred} stacks VFREE_DEFERRED but ${listed} on vfree_deferred lists`);
    if (rcuPending !== this.stats.rcuPendingStacks) p.push(`${rcuPending} stacks RCU_PENDING, counter says ${this.stats.rcuPendingStacks}`);
    if (pages !== this.stats.stackPages) p.push(`${pages} pages held by stacks, counter says ${this.stats.stackPages}`);
    let stackUse = 0;
    for (let i = 0; i < this.zone.nrPages; i++) if (this.zone.use[i] === PageUse.Stack) stackUse++;
    if (stackUse !== pages) p.push(`${stackUse} zone pages marked stack, stacks hold ${pages}`);
    if (accountedKb !== this.nrKernelStackKb) p.push(`NR_KERNEL_STACK_KB ${this.nrKernelStackKb}, accounted stacks make ${accountedKb}`);
    p.push(...this.zone.checkConservation(), ...this.vmap.checkConservation());
    return p;
  }

  /**
   * End of run: a stack that no task, cache slot, RCU callback or deferred list
   * can reach any more is a leak; so is a stack cached on an offline CPU.
   */
  checkLeaksAtEnd(tsNs: number): void {
    this.nowNs = tsNs;
    for (const s of this.stacks.values()) {
      if (s.state === StackState.Cached && !this.cpus[s.cpu].online) {
        this.violation('leak', s.cpu, 0, s, `stack #${s.id} is cached on offline cpu ${s.cpu}: leaked until it comes back (no free_vm_stack_cache)`);
      } else if (s.state === StackState.Releasing) {
        this.violation('leak', -1, 0, s, `stack #${s.id} was left inside free_thread_stack(): neither cached, queued nor freed`);
      } else if (s.state === StackState.DeadPinned) {
        this.violation('leak', -1, s.ownerPid, s, `stack #${s.id} of dead pid ${s.ownerPid} is still pinned at the end of the run`);
      } else if ((s.state === StackState.InUse || s.state === StackState.Allocated) && !this.tasks.has(s.ownerPid)) {
        this.violation('leak', -1, s.ownerPid, s, `stack #${s.id} ${this.describeStack(s)} but its task is gone`);
      }
    }
  }

  // ---------------------------------------------------------------- for the model's own files

  /** Sets the time, CPU and context of the entry point being executed. */
  private enter(cpu: number, tsNs: number, ctx: Ctx = 'task'): void {
    this.at(cpu, tsNs, ctx);
  }

  /**
   * Where and when the next model code runs, for drivers that call the
   * kernel's functions directly at finer grain than the entry points (the
   * interleaving explorer).
   */
  at(cpu: number, tsNs: number, ctx: Ctx = 'task'): void {
    if (cpu < 0 || cpu >= this.cpus.length) throw new RangeError(`cpu ${cpu}: the model has ${this.cpus.length} CPUs`);
    this.nowNs = tsNs;
    this.entrySpentNs = this.spentNs;
    this.curCpu = cpu;
    this.ctx = ctx;
  }

  private silenced = false;

  spend(ns: number): void {
    this.spentNs += ns;
  }

  /**
   * An event nobody listens to: still kept in the history ring that violations
   * report, and still paid for when the run models tracing being on.
   */
  note(cpu: number, name: KernelEventName, stackId: number): void {
    this.noteK(cpu, EK[name], stackId);
  }

  /** note() by event kind (EK.name): what hot paths call. */
  noteK(cpu: number, kind: number, stackId: number): void {
    if (this.silenced) return;
    if (this.tracepointNs > 0 && RECORDED_KIND[kind] === 1) this.spentNs += this.tracepointNs;
    if (this.histTs === null) this.allocHistory();
    const h = this.histHead;
    this.histTs![h] = this.eventTsNs();
    this.histCpu[h] = cpu;
    this.histPid[h] = cpu >= 0 ? this.cpus[cpu].curr.pid : -1;
    this.histStack[h] = stackId;
    this.histKind[h] = kind;
    this.histHead = (h + 1) & (HISTORY - 1);
    if (this.histLen < HISTORY) this.histLen++;
  }

  private allocHistory(): void {
    this.histTs = new Float64Array(HISTORY);
    this.histCpu = new Int32Array(HISTORY);
    this.histPid = new Int32Array(HISTORY);
    this.histStack = new Int32Array(HISTORY);
    this.histKind = new Uint8Array(HISTORY);
  }

  /** A tracepoint whose event is only built when someone listens still costs its time when traced. */
  untracedTracepoint(): void {
    this.spentNs += this.tracepointNs;
  }

  spendAlloc(ns: number): void {
    this.spentNs += ns;
    this.stats.stackAllocNs += ns;
  }

  spendFree(ns: number): void {
    this.spentNs += ns;
    this.stats.stackFreeNs += ns;
  }

  /**
   * An event's time: the entry point's time plus the modelled work done in it
   * so far, so a stack-sized alloc_vmap_area precedes task_newtask by the cost
   * of what lies between, as in a real trace.
   */
  eventTsNs(): number {
    return this.nowNs + (this.spentNs - this.entrySpentNs);
  }

  /** Whether anyone listens to events; hot paths build an event's fields only when true. */
  get tracing(): boolean {
    return this.tracer.enabled;
  }

  trace(cpu: number, name: KernelEventName, args: Record<string, number | string | boolean>): void {
    if (this.silenced) return;
    this.note(cpu, name, typeof args.stack === 'number' ? args.stack : 0);
    if (!this.tracer.enabled) return;
    const cur = cpu >= 0 ? this.cpus[cpu].curr : this.cpus[0].idle;
    this.tracer.emit({ tsNs: this.eventTsNs(), cpu, pid: cur.pid, comm: cur.comm, ctx: this.ctx, name, args });
  }

  violation(kind: ViolationKind, cpu: number, pid: number, s: KStack | null, message: string): void {
    if (s && kind === 'use-after-free') {
      if (s.reported) return; // one finding per stack reuse, not one per access
      s.reported = true;
    }
    const history: string[] = [];
    const histTs = this.histTs ?? new Float64Array(0);
    for (let i = 0; i < this.histLen; i++) {
      const h = (this.histHead - this.histLen + i + HISTORY) % HISTORY;
      const related = (s && this.histStack[h] === s.id) || this.histPid[h] === pid || this.histCpu[h] === cpu;
      if (!related) continue;
      history.push(`${histTs[h]} cpu${this.histCpu[h]} pid ${this.histPid[h]} ${EVENT_NAMES[this.histKind[h]]}${this.histStack[h] ? ` stack #${this.histStack[h]}` : ''}`);
    }
    this.violations.push({ kind, tsNs: this.eventTsNs(), cpu, pid, stack: s ? s.id : null, message, history: history.slice(-24) });
    this.trace(cpu, 'kstack_violation', { kind, pid, stack: s ? s.id : 0 });
  }

  /** alloc_pid(): cyclic between RESERVED_PIDS and pid_max, as the kernel hands them out. */
  allocPid(): number {
    const pid = this.tasks.alloc();
    if (pid === null) throw new ModelUsageError(`all ${PID_MAX_DEFAULT} pids are in use`);
    return pid;
  }

  newTaskStruct(): TaskStruct {
    const t = this.taskPool.pop();
    if (!t) return new TaskStruct();
    t.reset();
    return t;
  }

  /** kmem_cache_free(task_struct_cachep): a second free of the same object is a double free. */
  freeTaskStruct(t: TaskStruct): void {
    if (t.inPool) {
      this.violation('double-free', this.curCpu, t.pid, null, `task_struct of pid ${t.pid} freed twice (free_task on a freed task)`);
      return;
    }
    t.inPool = true;
    if (this.taskPool.length < 1024) this.taskPool.push(t);
  }

  attachTask(t: TaskStruct): void {
    this.tasks.set(t.pid, t);
  }

  detachTask(t: TaskStruct): void {
    if (this.tasks.get(t.pid) === t) this.tasks.delete(t.pid);
  }

  newStack(): KStack {
    const s = new KStack();
    s.id = this.nextStackId++;
    this.stacks.set(s.id, s);
    return s;
  }

  /** The stack no longer holds pages (its vmap area may still be lazy). */
  forgetStack(s: KStack): void {
    this.stacks.delete(s.id);
  }

  stackPagesChanged(delta: number): void {
    const st = this.stats;
    st.stackPages += delta;
    if (st.stackPages > st.peakStackPages) st.peakStackPages = st.stackPages;
  }

  rcuPendingChanged(delta: number): void {
    const st = this.stats;
    st.rcuPendingStacks += delta;
    if (st.rcuPendingStacks > st.peakRcuPendingStacks) st.peakRcuPendingStacks = st.rcuPendingStacks;
  }

  cacheOccupancyChanged(cpu: number, delta: number): void {
    this.cpus[cpu].cacheCount += delta;
  }

  queueDeferredVfree(cpu: number, s: KStack): void {
    const pc = this.cpus[cpu];
    pc.vfreeList.push(s);
    pc.vfreeWorkPending = true;
    if (this.ctx === 'task') pc.workFromTask = true;
    this.stats.vfreeDeferred++;
  }

  queueDrainWork(cpu: number): void {
    const pc = this.cpus[cpu];
    pc.drainWorkPending = true;
    if (this.ctx === 'task') pc.workFromTask = true;
  }

  /** The CPU whose context the GP kthread's events are attributed to. */
  rcuGpCpu(): number {
    for (const c of this.cpus) if (c.online) return c.index;
    return 0;
  }

  invokeRcuCallback(cpu: number, cb: RcuCallback): void {
    switch (cb.kind) {
      case RcuCbKind.ThreadStackFreeRcu:
        threadStackFreeRcu(this, cpu, cb.stack!);
        return;
      case RcuCbKind.DelayedPutTaskStruct:
        delayedPutTaskStruct(this, cpu, cb.task!);
        return;
      case RcuCbKind.DelayedFreeTask:
        delayedFreeTask(this, cpu, cb.task!);
        return;
    }
  }

  /** The task addressed by pid, or this CPU's idle task for pid 0. */
  private taskOrIdle(cpu: number, pid: number): TaskStruct {
    return pid === 0 ? this.cpus[cpu].idle : this.mustTask(pid);
  }

  /** A handle not to a freed task_struct (in the slab pool). */
  private live(t: TaskStruct): TaskStruct {
    if (t.inPool) throw new ModelUsageError(`task_struct of pid ${t.pid} is not a live task at ${this.nowNs} ns`);
    return t;
  }

  private mustTask(pid: number): TaskStruct {
    const t = this.tasks.get(pid);
    if (!t) throw new ModelUsageError(`no task with pid ${pid} at ${this.nowNs} ns`);
    return t;
  }

  /** A stack that predates the run: allocated without counting as a run's vmalloc or costing time. */
  private silentVmalloc(cpu: number): KStack | null {
    const spent = this.spentNs;
    const allocNs = this.stats.stackAllocNs;
    const s = vmallocStack(this, cpu);
    if (s) {
      this.stats.vmallocs--;
      this.cpuStats[cpu].vmallocs--;
    }
    this.spentNs = spent;
    this.stats.stackAllocNs = allocNs;
    return s;
  }

  private adoptPageStack(cpu: number): KStack | null {
    const got = this.zone.allocPages(this.cfg.THREAD_SIZE_ORDER, cpu, PageUse.Stack);
    if (!got) return null;
    const s = this.newStack();
    s.addr = got.pfn * 4096;
    for (let i = 0; i < 1 << this.cfg.THREAD_SIZE_ORDER; i++) s.pfns.push(got.pfn + i);
    this.stackPagesChanged(s.pfns.length);
    return s;
  }
}

/** A driver called the model in a way the kernel could not have been (a bug in the driver). */
export class ModelUsageError extends Error {}

export { TASK_DEAD };
