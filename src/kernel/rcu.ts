// Tree RCU reduced to what decides when a stack's or task_struct's callback runs
// (kernel/rcu/tree.c): per-CPU FIFO callback lists tagged with the grace period
// they wait for; a grace period starts when the GP kthread sees a request
// (rcu_gp_kthread → rcu_gp_init), ends once every online CPU has reported a
// quiescent state (context switch, idle or user mode, noted at the tick:
// rcu_sched_clock_irq → rcu_core → rcu_report_qs_rdp; idle CPUs by the GP
// kthread's force-quiescent-state scan), and a CPU invokes its ready callbacks
// in RCU_SOFTIRQ (rcu_do_batch). Callback latency is therefore an outcome of
// ticks, context switches and idleness, not a constant.
//
// A trace replay cannot see grace periods, only their effects; it drives the
// same lists through rcuGpCompletedUpTo() + rcuCore(), per CPU: a
// sched_process_free (a delayed_put_task_struct callback) shows that its own
// CPU's earlier callbacks have run, and the replay driver
// (src/replay/driver.ts, crossProof) estimates from it which other CPUs'
// callbacks are ready too.
import { NS_ZERO } from './ns.ts';
import type { Kernel } from './kernel.ts';
import type { KStack, TaskStruct } from './task.ts';

export enum RcuCbKind {
  /** thread_stack_free_rcu (kernel/fork.c, ≥5.18) */
  ThreadStackFreeRcu = 1,
  /** delayed_put_task_struct (kernel/exit.c) */
  DelayedPutTaskStruct = 2,
  /** __delayed_free_task (kernel/fork.c, copy_process failure) */
  DelayedFreeTask = 3,
}

export interface RcuCallback {
  kind: RcuCbKind;
  stack: KStack | null;
  task: TaskStruct | null;
  queuedNs: number;
  /** Completed-GP count at which this callback is ready. */
  gpNeeded: number;
  cpu: number;
}

export class RcuCpu {
  cbs: RcuCallback[] = [];
  head = 0;
  /** A quiescent state passed since the current GP started (rdp->cpu_no_qs cleared). */
  passedQs = false;
  /** This CPU still owes the current GP a quiescent state (its bit in rnp->qsmask). */
  qsPending = false;

  get length(): number {
    return this.cbs.length - this.head;
  }

  push(cb: RcuCallback): void {
    this.cbs.push(cb);
  }

  /** Drops invoked entries from the front once they dominate the array. */
  compact(): void {
    if (this.head > 64 && this.head * 2 > this.cbs.length) {
      this.cbs = this.cbs.slice(this.head);
      this.head = 0;
    }
  }
}

export class RcuState {
  /** Completed grace periods (rcu_state.gp_seq >> 2, in effect). */
  gpCompleted = 0;
  gpInProgress = false;
  gpRequested = false;
  gpStartNs = NS_ZERO;
  /** Readers inside rcu_read_lock() (any CPU); a GP cannot end while any is inside. */
  readersInside = 0;
  /** Callbacks queued but not yet invoked (all CPUs). */
  pending = 0;
  /** Per CPU: a trace proved that this CPU's callbacks queued up to this time are ready. */
  provenReadyNs: number[] = [];
  /** Invoked callbacks for reuse: call_rcu is on every task's exit path. */
  readonly cbPool: RcuCallback[] = [];
}

/** call_rcu(): queue on this CPU, waiting for a GP that starts after now. */
export function callRcu(k: Kernel, cpu: number, kind: RcuCbKind, stack: KStack | null, task: TaskStruct | null): void {
  const rcu = k.rcu;
  const gpNeeded = rcu.gpCompleted + (rcu.gpInProgress ? 2 : 1);
  const cb = rcu.cbPool.pop() ?? { kind, stack, task, queuedNs: NS_ZERO, gpNeeded, cpu };
  cb.kind = kind;
  cb.stack = stack;
  cb.task = task;
  cb.queuedNs = k.nowNs;
  cb.gpNeeded = gpNeeded;
  cb.cpu = cpu;
  k.cpus[cpu].rcu.push(cb);
  rcu.pending++;
  if (!rcu.gpInProgress) rcu.gpRequested = true;
  k.spend(k.costs.callRcuNs);
}

/** rcu_note_context_switch(): a context switch is a quiescent state for this CPU. */
export function rcuNoteContextSwitch(k: Kernel, cpu: number): void {
  k.cpus[cpu].rcu.passedQs = true;
}

/** The GP kthread: start a requested GP, or end one whose CPUs have all reported. */
export function rcuGpKthread(k: Kernel): void {
  const rcu = k.rcu;
  if (rcu.gpInProgress) {
    rcuForceQuiescentState(k);
    if (rcu.readersInside > 0) return;
    for (const c of k.cpus) if (c.online && c.rcu.qsPending) return;
    rcu.gpInProgress = false;
    rcu.gpCompleted++;
    k.trace(k.rcuGpCpu(), 'rcu_gp_end', { gp: rcu.gpCompleted, durNs: k.nowNs - rcu.gpStartNs });
    // rcu_gp_cleanup(): another GP is needed if callbacks still wait for one.
    if (rcu.pending > 0) rcu.gpRequested = true;
  }
  if (!rcu.gpInProgress && rcu.gpRequested) {
    rcu.gpRequested = false;
    rcu.gpInProgress = true;
    rcu.gpStartNs = k.nowNs;
    for (const c of k.cpus) {
      c.rcu.qsPending = c.online;
      c.rcu.passedQs = false;
    }
    k.trace(k.rcuGpCpu(), 'rcu_gp_start', { gp: rcu.gpCompleted + 1 });
  }
}

/** rcu_gp_fqs(): idle CPUs (extended quiescent state) are reported on their behalf. */
function rcuForceQuiescentState(k: Kernel): void {
  for (const c of k.cpus) {
    if (c.online && c.rcu.qsPending && c.curr.pid === 0) c.rcu.qsPending = false;
  }
}

/**
 * rcu_sched_clock_irq() + rcu_core() on one CPU's tick: report a noted QS (or
 * idle/user mode), then invoke the callbacks whose GP has completed.
 */
export function rcuTick(k: Kernel, cpu: number, idleOrUser: boolean): void {
  const r = k.cpus[cpu].rcu;
  if (r.passedQs || idleOrUser) rcuReportQs(k, cpu);
  rcuCore(k, cpu);
}

/** rcu_report_qs_rdp(): `cpu` reports its quiescent state for the current grace period. */
export function rcuReportQs(k: Kernel, cpu: number): void {
  const r = k.cpus[cpu].rcu;
  if (k.rcu.gpInProgress && r.qsPending) r.qsPending = false;
}

/**
 * The trace shows that `cpu`'s callbacks queued up to `tsNs` are ready. It is
 * per CPU: a CPU invokes callbacks only once it has itself noticed the end of
 * their grace period (rcu_advance_cbs() in note_gp_changes()), so the replay
 * sets it when that CPU's own RCU softirq could have run them.
 */
export function rcuGpCompletedUpTo(k: Kernel, cpu: number, tsNs: number): void {
  const p = k.rcu.provenReadyNs;
  if (!(tsNs <= p[cpu])) p[cpu] = tsNs;
}

/** rcu_core() → rcu_do_batch(): invoke this CPU's ready callbacks in FIFO order. */
export function rcuCore(k: Kernel, cpu: number): number {
  const r = k.cpus[cpu].rcu;
  if (r.length === 0) return 0;
  const saved = k.ctx;
  k.ctx = 'softirq';
  let n = 0;
  const proven = k.rcu.provenReadyNs[cpu] ?? -1;
  while (r.head < r.cbs.length) {
    const cb = r.cbs[r.head];
    if (cb.gpNeeded > k.rcu.gpCompleted && cb.queuedNs > proven) break;
    r.head++;
    k.rcu.pending--;
    n++;
    k.spend(k.costs.rcuCallbackNs);
    k.invokeRcuCallback(cpu, cb);
    cb.stack = null;
    cb.task = null;
    if (k.rcu.cbPool.length < 4096) k.rcu.cbPool.push(cb);
  }
  r.compact();
  k.ctx = saved;
  return n;
}

/**
 * rcutree_migrate_callbacks(): an offlined CPU's callbacks move to the end of
 * the control CPU's list, keeping their grace-period requirements.
 */
export function rcuMigrateCallbacks(k: Kernel, from: number, to: number): void {
  const src = k.cpus[from].rcu;
  const dst = k.cpus[to].rcu;
  for (let i = src.head; i < src.cbs.length; i++) {
    const cb = src.cbs[i];
    cb.cpu = to;
    dst.push(cb);
  }
  src.cbs = [];
  src.head = 0;
  src.qsPending = false;
}
