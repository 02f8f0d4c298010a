// The discrete-event simulator: N CPUs each running one task at a time from a
// FIFO run queue, with the kernel model underneath. Tasks run workload
// behaviours (workloads.ts); where a task or a woken task goes is the placement
// policy's decision (placement.ts); everything else — stacks, caches, RCU,
// vmalloc — is the model's. Time is integer nanoseconds; a CPU's clock advances
// by its task's compute and by the cost model's price of every kernel call.
import type { Kernel } from '../kernel/kernel.ts';
import type { TaskStruct } from '../kernel/task.ts';
import type { CloneArgs, PrevState, ReaderKind, StackReader } from '../kernel/kernel.ts';
import type { Ctx } from '../kernel/events.ts';
import type { Placement } from './placement.ts';
import { EventQueue } from './queue.ts';
import type { Rng } from './rng.ts';

export enum TState {
  Runnable = 0,
  Running = 1,
  Blocked = 2,
  Dead = 3,
}

enum Next {
  None = 0,
  Compute = 1,
  Block = 2,
  Exit = 3,
  Yield = 4,
  Migrate = 5,
}

const PROGRESS_EVENTS = 1 << 16;

/**
 * Stored first into fields that hold simulated nanoseconds. Such a field starts
 * at a small integer (a V8 Smi) and passes 2^31 about 2.1 simulated seconds
 * into a run, when V8 would switch it to a double representation and
 * deoptimise every function that touches it, mid-run. Storing a double first,
 * in the constructor, makes the field a double from the start; the real
 * initial value is stored right after, so no value changes.
 */
const DOUBLE_SEED = 0.5;

/** PELT: a running share that halves every 32 ms (y^32 = 1/2 per 1024 µs period). */
const UTIL_DECAY_PER_NS = Math.LN2 / 32_000_000;

/**
 * The task's PELT-like utilisation now. Run time is only accumulated on the hot
 * path (utilRunNs); the decay is folded in here, when placement asks, treating
 * the run time since the last fold as spread over the interval (exact for the
 * sub-millisecond intervals between a parent's forks).
 */
export function taskUtil(t: SimTask, nowNs: number, runningNow: boolean): number {
  const dt = nowNs - t.utilUpdatedNs;
  if (dt <= 0) return t.util;
  const ran = t.utilRunNs + (runningNow ? nowNs - t.runStartNs : 0);
  const decay = Math.exp(-dt * UTIL_DECAY_PER_NS);
  t.util = t.util * decay + Math.min(1, ran / dt) * (1 - decay);
  t.utilUpdatedNs = nowNs;
  t.utilRunNs = runningNow ? -(nowNs - t.runStartNs) : 0;
  return t.util;
}

export interface Behaviour {
  /** Called whenever the task runs; must end with compute(), block(), exit() or yield(). */
  step(sim: Sim, t: SimTask): void;
}

export class SimTask {
  /** The model's task_struct for this task (handle for the kernel's handle-based entry points). */
  kt: TaskStruct | null = null;
  state = TState.Runnable;
  cpu = 0;
  next = Next.None;
  nextNs = 0;
  gen = 0;
  runStartNs = 0;
  /** Behaviour registers. */
  pc = 0;
  i = 0;
  /** Children not yet exited (bounded by what is alive, not by the run's length). */
  readonly liveChildren: Set<SimTask> | null;
  /** Children of this task that have exited (joinable / reapable). */
  exitedChildren = 0;
  exited = false;
  reaped = false;
  /** Who waits for this task's exit (pthread_join / wait4). */
  waiter: SimTask | null = null;
  /** For readers and message passing: generic slots. */
  reader: StackReader | null = null;
  mailbox = 0;
  peer: SimTask | null = null;
  kworker = false;
  /** Affinity: -1 = any CPU, else the only CPU allowed (taskset, per-CPU kthreads). */
  pinnedCpu = -1;
  /** PELT-like running share with a 32 ms half-life (the kernel's y^32 = 1/2); see taskUtil(). */
  util = 0;
  utilUpdatedNs = 0;
  /** Run time accumulated since utilUpdatedNs. */
  utilRunNs = 0;
  /** When it last ran (task_hot(): recently-run tasks are not pulled by newidle balance). */
  lastRanNs = Number.NEGATIVE_INFINITY;
  /** Queued on a remote idle CPU's wake list (ttwu_queue_wakelist) until its IPI lands: not pullable. */
  wakingUntilNs = 0;
  /**
   * When it was made runnable, on the clock of the CPU that did it. That CPU's
   * clock may be ahead of the CPU picking the task up (kernel costs advance a
   * CPU's clock within one step), and a task must never run before it exists.
   */
  readyAtNs = 0;

  // Assigned only here and in reinit() (a released task object reused for a new clone).
  pid: number;
  comm: string;
  behaviour: Behaviour;
  parent: SimTask | null;
  thread: boolean;

  constructor(
    pid: number,
    comm: string,
    behaviour: Behaviour,
    parent: SimTask | null,
    thread: boolean,
    /** Only workloads that look at a parent's children (stack readers) keep the set. */
    trackChildren = false,
  ) {
    this.nextNs = this.runStartNs = this.util = this.utilUpdatedNs = this.utilRunNs = this.wakingUntilNs = this.readyAtNs = DOUBLE_SEED;
    this.nextNs = this.runStartNs = this.util = this.utilUpdatedNs = this.utilRunNs = this.wakingUntilNs = this.readyAtNs = 0;
    this.pid = pid;
    this.comm = comm;
    this.behaviour = behaviour;
    this.parent = parent;
    this.thread = thread;
    this.liveChildren = trackChildren ? new Set() : null;
  }

  /**
   * Makes a released task object (Sim.releaseTask) a new clone: every field as
   * the constructor leaves it, except gen. Events still queued for the old
   * task carry a gen at most the old gen + 1 (a pending timer), so moving gen
   * two past it means none of them can match the new task.
   */
  reinit(pid: number, comm: string, behaviour: Behaviour, parent: SimTask | null, thread: boolean): void {
    this.state = TState.Runnable;
    this.cpu = 0;
    this.next = Next.None;
    this.nextNs = 0;
    this.gen += 2;
    this.runStartNs = 0;
    this.pc = 0;
    this.i = 0;
    this.exitedChildren = 0;
    this.exited = false;
    this.reaped = false;
    this.waiter = null;
    this.reader = null;
    this.mailbox = 0;
    this.peer = null;
    this.kworker = false;
    this.pinnedCpu = -1;
    this.util = 0;
    this.utilUpdatedNs = 0;
    this.utilRunNs = 0;
    this.lastRanNs = Number.NEGATIVE_INFINITY;
    this.wakingUntilNs = 0;
    this.readyAtNs = 0;
    this.pid = pid;
    this.comm = comm;
    this.behaviour = behaviour;
    this.parent = parent;
    this.thread = thread;
  }
}

enum Ev {
  SegEnd = 0,
  WakeIpi = 1,
  Tick = 2,
  Timer = 3,
  Call = 4,
}

/**
 * Pending events' payloads, in parallel arrays indexed by an event id (the
 * queue orders ids): no object per event, and ids are reused once handled.
 */
class SimEvents {
  kind = new Uint8Array(64);
  cpu = new Int32Array(64);
  gen = new Float64Array(64);
  task: (SimTask | null)[] = new Array<SimTask | null>(64).fill(null);
  fn: (((sim: Sim) => void) | null)[] = new Array<((sim: Sim) => void) | null>(64).fill(null);
  private free = new Int32Array(64);
  private nFree = 0;
  private used = 0;

  alloc(kind: Ev, cpu: number, task: SimTask | null, gen: number, fn: ((sim: Sim) => void) | null): number {
    let id: number;
    if (this.nFree > 0) id = this.free[--this.nFree];
    else {
      if (this.used === this.kind.length) this.grow();
      id = this.used++;
    }
    this.kind[id] = kind;
    this.cpu[id] = cpu;
    this.gen[id] = gen;
    this.task[id] = task;
    this.fn[id] = fn;
    return id;
  }

  release(id: number): void {
    this.task[id] = null;
    this.fn[id] = null;
    this.free[this.nFree++] = id;
  }

  private grow(): void {
    const cap = this.kind.length * 2;
    const kind = new Uint8Array(cap);
    kind.set(this.kind);
    const cpu = new Int32Array(cap);
    cpu.set(this.cpu);
    const gen = new Float64Array(cap);
    gen.set(this.gen);
    const free = new Int32Array(cap);
    free.set(this.free);
    this.kind = kind;
    this.cpu = cpu;
    this.gen = gen;
    this.free = free;
    for (let i = this.task.length; i < cap; i++) {
      this.task.push(null);
      this.fn.push(null);
    }
  }
}

export class SimCpu {
  curr: SimTask | null = null;
  /**
   * The FIFO run queue is rq[rqHead..rqTail). Slots are reused: the indices go
   * back to 0 whenever it empties (nearly always, at a few tasks per CPU), so
   * neither end moves memory in the usual case.
   */
  private rq: (SimTask | null)[] = [];
  private rqHead = 0;
  private rqTail = 0;
  ipiPending = false;
  idleSinceNs = 0;
  stolenNs = 0;
  online = true;
  kworker: SimTask | null = null;
  /** When this CPU last had a task running (for placement heuristics). */
  lastBusyNs = 0;
  /** This CPU's own clock: events on it are handled no earlier, so its trace is in time order. */
  clockNs = 0;
  /** When this CPU last came out of idle (busy_for() in the placement rules). */
  busySinceNs = 0;
  isIdle = true;

  constructor(readonly index: number) {
    this.idleSinceNs = this.stolenNs = this.lastBusyNs = this.clockNs = this.busySinceNs = DOUBLE_SEED;
    this.idleSinceNs = this.stolenNs = this.lastBusyNs = this.clockNs = this.busySinceNs = 0;
  }

  get nrRunning(): number {
    return this.rqTail - this.rqHead + (this.curr ? 1 : 0);
  }

  /** Tasks waiting in the run queue. */
  get queued(): number {
    return this.rqTail - this.rqHead;
  }

  /** The i-th waiting task, 0 = the head (i < queued). */
  queuedAt(i: number): SimTask {
    return this.rq[this.rqHead + i]!;
  }

  enqueue(t: SimTask, nowNs: number): void {
    t.readyAtNs = nowNs;
    if (this.rqTail === this.rq.length && this.rqHead > 0) {
      // Full to the end with free slots in front: slide the waiting tasks down.
      this.rq.copyWithin(0, this.rqHead, this.rqTail);
      this.rq.fill(null, this.rqTail - this.rqHead, this.rqTail);
      this.rqTail -= this.rqHead;
      this.rqHead = 0;
    }
    this.rq[this.rqTail++] = t;
  }

  /** The head of the run queue if it is runnable by `nowNs`. */
  dequeue(nowNs = Number.POSITIVE_INFINITY): SimTask | null {
    if (this.rqHead === this.rqTail) return null;
    const t = this.rq[this.rqHead]!;
    if (t.readyAtNs > nowNs) return null;
    this.rq[this.rqHead++] = null;
    if (this.rqHead === this.rqTail) this.rqHead = this.rqTail = 0;
    return t;
  }

  /** Removes the i-th waiting task (0 = the head); the others keep their order. */
  removeQueuedAt(i: number): void {
    const at = this.rqHead + i;
    this.rq.copyWithin(at, at + 1, this.rqTail);
    this.rq[--this.rqTail] = null;
    if (this.rqHead === this.rqTail) this.rqHead = this.rqTail = 0;
  }
}

export interface SimParams {
  cpuCount: number;
  /** HZ=250: a tick every 4 ms (the reference machine's config). */
  tickNs: number;
  /** EEVDF base slice: a task that has run this long is preempted at a tick if others wait. */
  sliceNs: number;
  /** Latency from a remote wakeup to the idle CPU running the task (IPI + idle exit). */
  wakeupIdleCpuNs: number;
  /** Stop the run when simulated time passes this (a bound, reported if hit). */
  maxSimNs: number;
  /** Stop after this many scheduler events (a bound, reported if hit). */
  maxEvents: number;
  /** Extra time a waker spends sending the IPI that wakes another, idle CPU. */
  ipiSendNs: number;
  /** sysctl_sched_migration_cost: newidle balance leaves tasks that ran this recently. */
  migrationCostNs: number;
  /** Unrelated background tasks: arrivals per ms per CPU (0 = none), and their run times. */
  backgroundPerMs: number;
  backgroundShortNs: number;
  backgroundLongNs: number;
  backgroundLongShare: number;
}

export class Sim {
  readonly cpus: SimCpu[];
  now = 0;
  opsDone = 0;
  events = 0;
  boundHit: string | null = null;
  workloadDone = false;
  workloadEndNs = 0;
  private readonly q = new EventQueue();
  private readonly evs = new SimEvents();
  private readonly spawned: SimTask[] = [];

  constructor(
    readonly k: Kernel,
    readonly placement: Placement,
    readonly rng: Rng,
    readonly params: SimParams,
  ) {
    this.now = this.workloadEndNs = DOUBLE_SEED;
    this.now = this.workloadEndNs = 0;
    this.cpus = [];
    for (let i = 0; i < params.cpuCount; i++) this.cpus.push(new SimCpu(i));
    for (let i = 0; i < params.cpuCount; i++) {
      // Ticks are staggered so CPUs do not all tick at the same instant.
      this.push(Math.floor((params.tickNs * (i + 1)) / (params.cpuCount + 1)), 3, this.ev(Ev.Tick, i, null, 0));
    }
  }

  // ------------------------------------------------------------ setup

  /** A task that exists at the start (a workload's main thread), runnable on `cpu`. */
  spawn(pid: number, comm: string, behaviour: Behaviour, cpu: number, opts: { kworker?: boolean; kthread?: boolean; trackChildren?: boolean } = {}): SimTask {
    this.k.adoptTask(this.now, pid, comm, cpu, { kthread: opts.kworker || opts.kthread });
    const t = new SimTask(pid, comm, behaviour, null, false, opts.trackChildren);
    t.kt = this.k.taskHandle(pid);
    t.cpu = cpu;
    t.kworker = !!opts.kworker;
    this.spawned.push(t);
    if (opts.kworker) {
      t.state = TState.Blocked;
      t.pinnedCpu = cpu;
      this.cpus[cpu].kworker = t;
      return t;
    }
    this.makeRunnable(t, cpu, cpu);
    return t;
  }

  /** Called every PROGRESS_EVENTS events with the ops done so far (observation only). */
  onProgress: ((opsDone: number) => void) | null = null;

  /** Runs until the workload is done and the kernel has settled, or a bound is hit. */
  run(): void {
    const p = this.params;
    const q = this.q;
    while (q.size > 0) {
      if (this.onProgress && (this.events & (PROGRESS_EVENTS - 1)) === 0) this.onProgress(this.opsDone);
      const t = q.peekTime();
      if (t > p.maxSimNs) {
        this.boundHit = `simulated time passed ${p.maxSimNs} ns`;
        break;
      }
      if (this.events >= p.maxEvents) {
        this.boundHit = `${p.maxEvents} scheduler events`;
        break;
      }
      if (this.workloadDone && this.settled()) break;
      const id = q.pop();
      const cpu = this.evs.cpu[id];
      const c = this.cpus[cpu];
      // An event on a CPU waits for that CPU's clock (its kernel work in progress).
      this.now = Math.max(t, c.clockNs);
      this.events++;
      if (this.handle(id, cpu)) this.evs.release(id);
      if (this.now > c.clockNs) c.clockNs = this.now;
    }
  }

  // ------------------------------------------------------------ behaviour primitives

  /** Run for `ns` of task time (user work, or kernel work the model does not itemise). */
  compute(t: SimTask, ns: number): void {
    t.next = Next.Compute;
    t.nextNs = ns;
  }

  /** Sleep until woken (futex wait, wait4, read on an empty socket). */
  block(t: SimTask): void {
    t.next = Next.Block;
  }

  /** sched_exec(): move the running task to `cpu` (it continues its behaviour there). */
  migrate(t: SimTask, cpu: number): void {
    t.next = Next.Migrate;
    t.nextNs = cpu;
  }

  /** sched_yield()-like: go to the back of the run queue. */
  yield(t: SimTask): void {
    t.next = Next.Yield;
  }

  /** do_exit(); for a thread, its joiner is woken first (exit_mm → CLONE_CHILD_CLEARTID futex wake). */
  exit(t: SimTask): void {
    t.next = Next.Exit;
  }

  /** Reused for every clone (the model reads it during the call only): no allocation per fork. */
  private readonly cloneArgs: CloneArgs = { thread: false, comm: undefined };

  /** clone(): the child goes where the placement policy puts it. Null when the fork failed. */
  clone(parent: SimTask, behaviour: Behaviour, opts: { thread: boolean; comm?: string }): SimTask | null {
    const cpu = parent.cpu;
    const s0 = this.k.spentNs;
    const args = this.cloneArgs;
    args.thread = opts.thread;
    args.comm = opts.comm;
    const kt = this.k.kernelCloneT(cpu, this.now, parent.kt!, args);
    this.advance(s0);
    if (kt === null) return null;
    const pid = kt.pid;
    const comm = opts.comm ?? parent.comm;
    const pooled = this.taskPool.pop();
    let child: SimTask;
    if (pooled) {
      pooled.reinit(pid, comm, behaviour, parent, opts.thread);
      child = pooled;
    } else {
      child = new SimTask(pid, comm, behaviour, parent, opts.thread);
    }
    child.kt = kt;
    parent.liveChildren?.add(child);
    const target = this.placement.forkCpu(this, parent, child);
    const s1 = this.k.spentNs;
    this.k.wakeUpNewTaskT(cpu, this.now, kt, target);
    this.advance(s1);
    this.makeRunnable(child, target, cpu);
    return child;
  }

  /** Dead task objects the workload has let go of (releaseTask), reused by clone(). */
  private readonly taskPool: SimTask[] = [];

  /**
   * The workload holds no reference to `t` any more (a joined or reaped child):
   * its object may be reused for a later clone. Only a dead task without a
   * children set qualifies; the simulator itself keeps none to a dead task
   * except in stale events, which its gen rules out (SimTask.reinit).
   */
  releaseTask(t: SimTask): void {
    if (t.state !== TState.Dead || t.liveChildren !== null || t.kworker) return;
    if (!t.thread && !t.reaped) return;
    if (this.taskPool.length < 1024) this.taskPool.push(t);
  }

  /** Wake `target` if it sleeps; `sync` marks a waker about to sleep (WF_SYNC). */
  wake(waker: SimTask, target: SimTask, sync: boolean): void {
    if (target.state !== TState.Blocked) return;
    const from = waker.cpu;
    const dest = target.pinnedCpu >= 0 ? target.pinnedCpu : this.placement.wakeCpu(this, target, from, sync);
    const s0 = this.k.spentNs;
    this.k.wakeUpT(from, this.now, target.kt!, dest);
    this.advance(s0);
    this.makeRunnable(target, dest, from);
  }

  /** wait4() reaping: release_task() on the reaper's CPU. */
  reap(parent: SimTask, child: SimTask): void {
    if (child.reaped || child.thread) return;
    child.reaped = true;
    const s0 = this.k.spentNs;
    this.k.releaseTaskT(parent.cpu, this.now, child.kt!);
    this.advance(s0);
  }

  readerBegin(t: SimTask, kind: ReaderKind, targetPid: number, ctx: Ctx = 'task'): StackReader | null {
    const s0 = this.k.spentNs;
    const r = this.k.stackReaderBegin(t.cpu, this.now, kind, targetPid, ctx);
    this.advance(s0);
    return r;
  }

  readerAccess(t: SimTask, r: StackReader): void {
    this.k.stackReaderAccess(t.cpu, this.now, r);
  }

  readerEnd(t: SimTask, r: StackReader, ctx: Ctx = 'task'): void {
    const s0 = this.k.spentNs;
    this.k.stackReaderEnd(t.cpu, this.now, r, ctx);
    this.advance(s0);
  }

  /** Calls `fn` at `atNs` (workload timers: hotplug, periodic readers). */
  at(atNs: number, fn: (sim: Sim) => void): void {
    this.push(atNs, 2, this.evs.alloc(Ev.Call, 0, null, 0, fn));
  }

  /** Wake `t` from its sleep after `ns` (nanosleep / timer). */
  sleep(t: SimTask, ns: number): void {
    t.next = Next.Block;
    this.push(this.now + ns, 1, this.ev(Ev.Timer, t.cpu, t, t.gen + 1));
  }

  opDone(n = 1): void {
    this.opsDone += n;
  }

  finishWorkload(): void {
    if (this.workloadDone) return;
    this.workloadDone = true;
    this.workloadEndNs = this.now;
  }

  /** The tasks the setup created (a workload's main tasks, kworkers, background), alive or not. */
  spawnedTasks(): readonly SimTask[] {
    return this.spawned;
  }

  /** Takes `cpu` offline: its tasks move to `to`, then the model runs the cpuhp teardown. */
  offline(cpu: number, to: number): void {
    const c = this.cpus[cpu];
    if (!c.online) return;
    c.online = false;
    if (c.curr) {
      const cur = c.curr;
      cur.gen++;
      const s0 = this.k.spentNs;
      this.k.contextSwitch(cpu, this.now, 0, 'R+');
      this.advance(s0);
      c.curr = null;
      cur.state = TState.Runnable;
      c.enqueue(cur, this.now);
    }
    for (let t = c.dequeue(); t; t = c.dequeue()) {
      if (t.kworker) continue;
      this.k.migrateTaskT(to, this.now, t.kt!, to);
      t.cpu = to;
      this.cpus[to].enqueue(t, this.now);
      this.kickIfIdle(to, to);
    }
    if (c.kworker && c.kworker.state === TState.Runnable) c.kworker.state = TState.Blocked;
    const s0 = this.k.spentNs;
    this.k.cpuDown(to, this.now, cpu);
    this.advance(s0);
    this.afterKernelWork(to);
  }

  online(cpu: number, ctl: number): void {
    const c = this.cpus[cpu];
    if (c.online) return;
    c.online = true;
    this.k.cpuUp(ctl, this.now, cpu);
    c.idleSinceNs = this.now;
  }

  // ------------------------------------------------------------ internals

  private settled(): boolean {
    if (this.k.rcu.pending > 0) return false;
    for (const c of this.cpus) {
      if (c.curr || c.queued > 0) return false;
      if (this.k.workPending(c.index)) return false;
    }
    return true;
  }

  private push(tsNs: number, prio: number, id: number): void {
    this.q.push(tsNs, prio, id);
  }

  private ev(kind: Ev, cpu: number, task: SimTask | null, gen: number): number {
    return this.evs.alloc(kind, cpu, task, gen, null);
  }

  private advance(spentBefore: number): void {
    this.now += this.k.spentNs - spentBefore;
  }

  private makeRunnable(t: SimTask, cpu: number, fromCpu: number): void {
    t.state = TState.Runnable;
    t.cpu = cpu;
    const c = this.cpus[cpu];
    c.enqueue(t, this.now);
    if (cpu !== fromCpu && !c.curr) t.wakingUntilNs = this.now + this.params.ipiSendNs + this.params.wakeupIdleCpuNs;
    this.kickIfIdle(cpu, fromCpu);
  }

  private kickIfIdle(cpu: number, fromCpu: number): void {
    const c = this.cpus[cpu];
    if (c.curr || c.ipiPending || !c.online) return;
    c.ipiPending = true;
    const remote = cpu !== fromCpu;
    const delay = remote ? this.params.wakeupIdleCpuNs : 0;
    // The waker pays for the IPI in its own path (smp_send_reschedule / ttwu_queue_wakelist).
    if (remote) this.now += this.params.ipiSendNs;
    this.push(this.now + delay, 0, this.ev(Ev.WakeIpi, cpu, null, 0));
  }

  /** Handles event `id` on `cpu`; returns whether the id can be reused (false: it was queued again). */
  private handle(id: number, cpu: number): boolean {
    const evs = this.evs;
    switch (evs.kind[id] as Ev) {
      case Ev.SegEnd: {
        const t = evs.task[id]!;
        if (t.gen !== evs.gen[id] || t.state !== TState.Running) return true;
        const c = this.cpus[cpu];
        if (c.stolenNs > 0) {
          // Softirq work (RCU callbacks) ran on this CPU meanwhile: the task finishes later.
          const stolen = c.stolenNs;
          c.stolenNs = 0;
          this.push(this.now + stolen, 1, id);
          return false;
        }
        this.dispatch(cpu);
        return true;
      }
      case Ev.WakeIpi: {
        const c = this.cpus[cpu];
        c.ipiPending = false;
        if (c.curr || !c.online) return true;
        this.switchFrom(cpu, 'R');
        return true;
      }
      case Ev.Tick:
        this.tick(cpu);
        this.push(this.now + this.params.tickNs, 3, id);
        return false;
      case Ev.Timer: {
        const t = evs.task[id]!;
        if (t.state !== TState.Blocked || t.gen + 1 !== evs.gen[id]) return true;
        const dest = t.pinnedCpu >= 0 ? t.pinnedCpu : this.placement.wakeCpu(this, t, t.cpu, false);
        const s0 = this.k.spentNs;
        this.k.wakeUpT(dest, this.now, t.kt!, dest);
        this.advance(s0);
        this.makeRunnable(t, dest, dest);
        return true;
      }
      case Ev.Call: {
        const fn = evs.fn[id]!;
        fn(this);
        return true;
      }
    }
  }

  private tick(cpu: number): void {
    const c = this.cpus[cpu];
    if (!c.online) return;
    const s0 = this.k.spentNs;
    this.k.tick(cpu, this.now, c.curr === null);
    if (cpu === 0) this.k.rcuGpKthread(this.now);
    const spent = this.k.spentNs - s0;
    if (c.curr) c.stolenNs += spent;
    this.afterKernelWork(cpu);
    // Preempt a task that used its slice while others wait (R+).
    const cur = c.curr;
    if (cur && c.queued > 0 && this.now - cur.runStartNs >= this.params.sliceNs) {
      cur.utilRunNs += this.now - cur.runStartNs;
      cur.lastRanNs = this.now;
      cur.gen++;
      cur.state = TState.Runnable;
      c.curr = null;
      c.enqueue(cur, this.now);
      this.switchTo(cpu, 'R+');
    }
  }

  /** Work the model queued (vfree_atomic, vmap drain) wakes that CPU's kworker. */
  private afterKernelWork(cpu: number): void {
    if (!this.k.workPending(cpu)) return;
    const kw = this.cpus[cpu].kworker;
    if (kw && kw.state === TState.Blocked) {
      const s0 = this.k.spentNs;
      this.k.wakeUpT(cpu, this.now, kw.kt!, cpu);
      this.advance(s0);
      this.makeRunnable(kw, cpu, cpu);
    }
  }

  /** The CPU is idle and has work: switch from idle to its run queue. */
  private switchFrom(cpu: number, prevState: PrevState): void {
    const c = this.cpus[cpu];
    if (c.queued === 0) return;
    this.switchTo(cpu, prevState);
  }

  /** Pick the next task on `cpu` (the current one has left) and run it. */
  private switchTo(cpu: number, prevState: PrevState): void {
    const c = this.cpus[cpu];
    let next = c.dequeue(this.now);
    if (!next) next = this.newidleBalance(cpu);
    const s0 = this.k.spentNs;
    this.k.contextSwitchT(cpu, this.now, next ? next.kt : null, prevState);
    this.advance(s0);
    this.afterKernelWork(cpu);
    if (!next) {
      c.curr = null;
      c.isIdle = true;
      c.idleSinceNs = this.now;
      // The kworker may have just been made runnable by the final switch; a task
      // made runnable by a CPU whose clock is ahead is picked up at its ready time.
      if (c.queued > 0) {
        const head = c.queuedAt(0);
        if (head.readyAtNs <= this.now) this.switchTo(cpu, 'R');
        else if (!c.ipiPending) {
          c.ipiPending = true;
          this.push(head.readyAtNs, 0, this.ev(Ev.WakeIpi, cpu, null, 0));
        }
      }
      return;
    }
    if (c.isIdle) {
      c.isIdle = false;
      c.busySinceNs = this.now;
    }
    c.curr = next;
    next.state = TState.Running;
    next.cpu = cpu;
    next.runStartNs = this.now;
    c.lastBusyNs = this.now;
    this.dispatch(cpu);
  }

  /**
   * newidle_balance(): a CPU about to go idle pulls the first task queued on
   * another CPU that is not cache-hot (has not run within migration_cost) and
   * may run here.
   */
  private newidleBalance(cpu: number): SimTask | null {
    if (!this.cpus[cpu].online) return null;
    for (const o of this.cpus) {
      if (o.index === cpu) continue;
      for (let i = 0; i < o.queued; i++) {
        const t = o.queuedAt(i);
        if (t.pinnedCpu >= 0 && t.pinnedCpu !== cpu) continue;
        if (!this.placement.mayRunOn(t, cpu)) continue;
        if (this.now - t.lastRanNs < this.params.migrationCostNs) continue;
        if (t.wakingUntilNs > this.now || t.readyAtNs > this.now) continue;
        o.removeQueuedAt(i);
        const s0 = this.k.spentNs;
        this.k.migrateTaskT(cpu, this.now, t.kt!, cpu);
        this.advance(s0);
        return t;
      }
    }
    return null;
  }

  /** Run the current task's behaviour until it computes, blocks, yields, migrates or exits. */
  private dispatch(cpu: number): void {
    const c = this.cpus[cpu];
    const t = c.curr;
    if (!t) return;
    t.next = Next.None;
    t.behaviour.step(this, t);
    c.lastBusyNs = this.now;
    if ((t.next as Next) !== Next.Compute) {
      t.utilRunNs += this.now - t.runStartNs;
      t.lastRanNs = this.now;
    }
    switch (t.next as Next) {
      case Next.Compute:
        t.gen++;
        this.push(this.now + t.nextNs, 1, this.ev(Ev.SegEnd, cpu, t, t.gen));
        return;
      case Next.Block:
        t.state = TState.Blocked;
        c.curr = null;
        this.switchTo(cpu, 'S');
        return;
      case Next.Yield:
        t.state = TState.Runnable;
        c.curr = null;
        c.enqueue(t, this.now);
        this.switchTo(cpu, 'R');
        return;
      case Next.Exit:
        this.doExit(cpu, t);
        return;
      case Next.Migrate: {
        const dest = t.nextNs;
        t.state = TState.Runnable;
        c.curr = null;
        const s0 = this.k.spentNs;
        this.k.migrateTaskT(cpu, this.now, t.kt!, dest);
        this.advance(s0);
        this.switchTo(cpu, 'R+');
        this.makeRunnable(t, dest, cpu);
        return;
      }
      default:
        throw new Error(`behaviour of pid ${t.pid} returned without compute/block/exit/yield/migrate`);
    }
  }

  private doExit(cpu: number, t: SimTask): void {
    const c = this.cpus[cpu];
    const parent = t.parent;
    // exit_mm → mm_release: the joiner of a thread is woken before exit_notify.
    if (t.thread && t.waiter) this.wake(t, t.waiter, false);
    t.exited = true;
    if (parent) {
      parent.exitedChildren++;
      parent.liveChildren?.delete(t);
    }
    const s0 = this.k.spentNs;
    this.k.doExitT(cpu, this.now, t.kt!, !t.thread);
    this.advance(s0);
    // exit_notify → do_notify_parent: SIGCHLD wakes a waiting parent with WF_SYNC.
    if (!t.thread && t.waiter) this.wake(t, t.waiter, true);
    t.state = TState.Dead;
    c.curr = null;
    this.switchTo(cpu, 'S');
  }
}
