// The kernel paths of src/kernel, cut at the points where the kernel can
// really interleave: each `yield` announces the next atomic step, and the code
// between two yields calls the same model primitives the simulator's
// monolithic paths call in sequence (src/kernel/fork.ts, task_stack.ts).
import { doExit, releaseTask } from '../kernel/exit.ts';
import {
  allocThreadStackMiss,
  cacheReleaseAllowed,
  cacheScanIrqOff,
  cacheSlotClear,
  cacheSlotRead,
  cacheSlotStore,
  type CloneArgs,
  copyProcessDone,
  copyProcessFailed,
  copyProcessInit,
  badForkFreeBegin,
  badForkFreeFinish,
  dupTaskStructBegin,
  dupTaskStructFailed,
  dupTaskStructFinish,
  freePageStack,
  freeThreadStackBegin,
  freeThreadStackCacheFull,
  putTaskStackDec,
  putTaskStruct,
  releaseTaskStackBegin,
  takeCachedStack,
} from '../kernel/fork.ts';
import { freeVmStackCache } from '../kernel/fork.ts';
import { cpuDown } from '../kernel/hotplug.ts';
import { rcuCore, rcuGpKthread, rcuReportQs } from '../kernel/rcu.ts';
import { contextSwitch, finishTaskSwitchStackRef, finishTaskSwitchTaskRef, wakeUpNewTask } from '../kernel/sched/core.ts';
import {
  type ReaderKind,
  READER_FUNCTIONS,
  type StackReader,
  stackReaderAccess,
  stackReaderBegin,
  stackReaderLastTouch,
  stackReaderUnpin,
} from '../kernel/task_stack.ts';
import { EXIT_ZOMBIE, type KStack, type TaskStruct } from '../kernel/task.ts';
import type { Body, Exec, Step, Thread } from './exec.ts';
import { Steps, strId, strOf, Texts } from './labels.ts';

// Every label and note below is built by its template once per distinct text
// (labels.ts): the same steps are announced again on every re-executed path.
const CMPXCHG_RELEASE = new Steps((i, id) => `this_cpu_cmpxchg(cached_stacks[${i}], NULL, stack #${id})`);
const READ_RELEASE = new Steps((i, id, irqOff) => `${i === 0 && irqOff ? 'local_irq_save(); ' : ''}this_cpu_read(cached_stacks[${i}]) to release stack #${id}`);
const WRITE_RELEASE = new Steps((i, id, irqOff) => `this_cpu_write(cached_stacks[${i}], stack #${id})${irqOff ? '; local_irq_restore()' : ''}`);
const CACHE_FULL = new Steps((id, mode) => `cache full: ${strOf(mode) === 'rcu-retry' ? 'call_rcu(thread_stack_free_rcu)' : strOf(mode)}(stack #${id})`);
const SCHED_SWITCH = new Steps((prev, next) => `schedule(): sched_switch pid ${prev} (TASK_DEAD) → ${next === 0 ? 'idle' : `pid ${next}`}; finish_task_switch()`);
const FTS_PUT_STACK = new Steps((pid) => `finish_task_switch(): put_task_stack(pid ${pid})`);
const FTS_PUT_TASK = new Steps((pid, rcuUser) => `finish_task_switch(): ${rcuUser ? 'put_task_struct_rcu_user' : 'put_task_struct'}(pid ${pid})`);
const DO_EXIT = new Steps((pid) => `do_exit(pid ${pid}): exit_notify(), __state = TASK_DEAD`);
const WAIT4 = new Texts((pid) => `wait4(): release_task(pid ${pid})`);
const READER_BEGIN = new Steps((fn, pid, noPin) => `${strOf(fn)}(pid ${pid}): get_task_struct(), ${noPin ? 'reads tsk->stack with no pin' : 'try_get_task_stack()'}`);
const READER_WALK = new Steps((fn, id, pid) => `${strOf(fn)}: walk stack #${id} of pid ${pid}`);
const READER_PUT_STACK = new Steps((pid, touches) => `${touches ? 'wait_for_completion(&kthread->exited); ' : ''}put_task_stack(pid ${pid})`);
const PUT_TASK_STRUCT = new Steps((pid) => `put_task_struct(pid ${pid})`);
const FORK_BEGIN = new Steps((pid, fails) => `copy_process() by pid ${pid}: dup_task_struct()${fails ? ' (copy_mm will fail)' : ''}`);
const XCHG_ALLOC = new Steps((i) => `this_cpu_xchg(cached_stacks[${i}], NULL)`);
const READ_ALLOC = new Steps((i, irqOff) => `${i === 0 && irqOff ? 'local_irq_disable(); ' : ''}this_cpu_read(cached_stacks[${i}]) for a new stack`);
const WRITE_ALLOC = new Steps((i, id, irqOff) => `this_cpu_write(cached_stacks[${i}], NULL), take stack #${id}${irqOff ? '; local_irq_enable()' : ''}`);
const CACHE_MISS: Step = { label: 'cache miss: vmalloc a new stack' };
const BAD_FORK_FREE = new Steps((pid) => `bad_fork_free: __state = TASK_DEAD, put_task_stack(pid ${pid})`);
const DELAYED_FREE = new Steps((pid) => `delayed_free_task(pid ${pid}): call_rcu()`);
const FORK_DONE = new Steps((pid) => `copy_process(): pid ${pid} hashed; wake_up_new_task()`);
const NOTE_STACK = new Texts((id) => `→ stack #${id}`);
const NOTE_PINNED = new Texts((id, rc) => `→ pinned stack #${id}, stack_refcount ${rc}`);
const NOTE_REFCOUNT = new Texts((rc) => `→ stack_refcount ${rc}`);
const NOTE_USAGE = new Texts((usage) => `→ usage ${usage}`);

/** The reader's kernel function as the labels name it (its first word), as a string id. */
const READER_FN = new Map<ReaderKind, number>();

function readerFn(kind: ReaderKind): number {
  let fn = READER_FN.get(kind);
  if (fn === undefined) {
    fn = strId(READER_FUNCTIONS[kind].split(' ')[0]);
    READER_FN.set(kind, fn);
  }
  return fn;
}

/**
 * release_task_stack() → free_thread_stack() after the caller's put hit zero:
 * the dec-and-test and the release checks are one step (nobody can pin a stack
 * whose refcount is zero), then the cache scan slot by slot.
 */
export function* releaseStack(x: Exec, self: Thread, cpu: number, tsk: TaskStruct): Body {
  const k = x.k;
  if (!releaseTaskStackBegin(k, cpu, tsk)) return;
  const s = freeThreadStackBegin(tsk);
  if (!s.vmapped) {
    freePageStack(k, cpu, s);
    return;
  }
  yield* cacheRelease(x, self, cpu, s);
}

/** try_release_thread_stack_to_cache(), then the cache-full path. */
export function* cacheRelease(x: Exec, self: Thread, cpu: number, s: KStack): Body {
  const k = x.k;
  const n = k.cfg.NR_CACHED_STACKS;
  if (cacheReleaseAllowed(k, cpu)) {
    if (k.cfg.CACHE_ATOMIC === 'xchg') {
      for (let i = 0; i < n; i++) {
        yield CMPXCHG_RELEASE.get(i, s.id);
        if (cacheSlotRead(k, cpu, i)) {
          self.note = '→ slot taken';
          continue;
        }
        cacheSlotStore(k, cpu, i, s);
        return;
      }
    } else {
      const irqOff = cacheScanIrqOff(k);
      for (let i = 0; i < n; i++) {
        yield READ_RELEASE.get(i, s.id, irqOff ? 1 : 0);
        self.irqOff = irqOff;
        const cur = cacheSlotRead(k, cpu, i);
        self.note = cur ? NOTE_STACK.get(cur.id) : '→ NULL';
        if (cur) continue;
        yield WRITE_RELEASE.get(i, s.id, irqOff ? 1 : 0);
        cacheSlotStore(k, cpu, i, s);
        self.irqOff = false;
        return;
      }
      self.irqOff = false;
    }
  }
  yield CACHE_FULL.get(s.id, strId(k.cfg.CACHE_FULL));
  freeThreadStackCacheFull(k, cpu, s);
}

/**
 * __schedule() away from a TASK_DEAD task, then finish_task_switch(). The
 * explorer holds one extra stack reference across the sched_switch step
 * (contextSwitch runs finish_task_switch's put_task_stack inside it) and drops
 * it as the next step, so the final put and the release it may start are
 * steps of their own. The CPU stays non-preemptible (no quiescent state)
 * from do_exit's preempt_disable() to the end of finish_task_switch().
 */
export function* finalSwitch(x: Exec, self: Thread, cpu: number, prev: TaskStruct, next: TaskStruct): Body {
  const k = x.k;
  yield SCHED_SWITCH.get(prev.pid, next.pid);
  // Preemption stays off from do_task_dead() to the end of finish_task_switch(): no quiescent state.
  self.noQs = true;
  contextSwitch(k, cpu, prev, next, 'S', false);
  if (k.cfg.STACK_FREE === 'early' && k.cfg.THREAD_INFO_IN_TASK) {
    yield FTS_PUT_STACK.get(prev.pid);
    finishTaskSwitchStackRef(k, prev);
    if (putTaskStackDec(k, cpu, prev)) {
      self.note = '→ last reference';
      yield* releaseStack(x, self, cpu, prev);
    } else self.note = NOTE_REFCOUNT.get(prev.stackRefcount);
  }
  yield FTS_PUT_TASK.get(prev.pid, k.cfg.RCU_USERS ? 1 : 0);
  finishTaskSwitchTaskRef(k, cpu, prev);
  self.noQs = false;
}

/** do_exit() of the task current on `cpu` up to do_task_dead(): from here preemption is off. */
export function* exitTask(x: Exec, self: Thread, cpu: number, tsk: TaskStruct): Body {
  yield DO_EXIT.get(tsk.pid);
  doExit(x.k, cpu, tsk, true);
  self.noQs = true;
}

/** wait4() in the parent: release_task() once the child is a zombie. */
export function* reap(x: Exec, _self: Thread, cpu: number, tsk: TaskStruct): Body {
  yield { label: WAIT4.get(tsk.pid), guard: isZombie, arg: tsk };
  releaseTask(x.k, cpu, tsk);
}

/**
 * A reader of another task's stack: get_task_struct() + try_get_task_stack()
 * (one step: both are single atomic operations on the target, taken in the
 * caller's own order), the walk, then put_task_stack() and put_task_struct().
 * A /proc reader finds the task by pid (`lookup`); an interrupt-context walker
 * (perf, sysrq) is handed a task it may not find again after release_task().
 */
export function* stackReader(x: Exec, self: Thread, cpu: number, kind: ReaderKind, target: TaskStruct, lookup = true): Body {
  const k = x.k;
  const fn = readerFn(kind);
  // The walker holds the task as it was when handed over: under RCU (a task-list walk) a task
  // freed since cannot be found, so a task_struct recycled for another task is not it.
  const targetGen = target.gen;
  yield READER_BEGIN.get(fn, target.pid, k.mut.noPin.has(kind) ? 1 : 0);
  // The pid lookup (get_pid_task) fails once release_task() unhashed the task; kthread_stop holds its own reference.
  if (target.freed || target.gen !== targetGen || (lookup && target.released && kind !== 'kthread')) {
    self.note = '→ no such task';
    return;
  }
  const r = stackReaderBegin(k, cpu, kind, target, targetGen);
  if (!r) return;
  self.note = r.stack ? (r.pinned ? NOTE_PINNED.get(r.stack.id, target.stackRefcount) : NOTE_STACK.get(r.stack.id)) : '→ no stack';
  if (r.stack && kind !== 'kthread') {
    yield READER_WALK.get(fn, r.stack.id, target.pid);
    stackReaderAccess(k, cpu, r);
  }
  yield* stackReaderRelease(x, self, cpu, r);
  // The double-put mutation, as stackReaderEnd() in task_stack.ts applies it: the put path runs twice.
  if (k.mut.doublePut && r.pinned) yield* stackReaderRelease(x, self, cpu, r);
}

function* stackReaderRelease(x: Exec, self: Thread, cpu: number, r: StackReader): Body {
  const k = x.k;
  const touches = r.kind === 'kthread' && r.stack !== null && k.cfg.KTHREAD_ON_STACK;
  if (r.pinned || touches) {
    yield READER_PUT_STACK.get(r.target.pid, touches ? 1 : 0);
    stackReaderLastTouch(k, cpu, r);
    if (stackReaderUnpin(k, cpu, r)) {
      self.note = '→ last reference';
      yield* releaseStack(x, self, cpu, r.target);
    } else if (r.pinned) self.note = NOTE_REFCOUNT.get(r.target.stackRefcount);
  }
  yield PUT_TASK_STRUCT.get(r.target.pid);
  putTaskStruct(k, cpu, r.target);
  self.note = r.target.freed ? '→ free_task()' : NOTE_USAGE.get(r.target.usage);
}

/**
 * copy_process() → dup_task_struct() → alloc_thread_stack_node(): the cache
 * scan slot by slot (v4.9: read then write under local_irq_disable; ≥4.11 one
 * this_cpu_xchg per slot), then the rest of the fork. Returns via `out.child`.
 */
export function* fork(x: Exec, self: Thread, cpu: number, parent: TaskStruct, args: CloneArgs, out: { child: TaskStruct | null }): Body {
  const k = x.k;
  yield FORK_BEGIN.get(parent.pid, args.failAfterDup ? 1 : 0);
  k.stats.forks++;
  const tsk = dupTaskStructBegin(k, parent);
  let stack: KStack | null = null;
  const n = k.cfg.NR_CACHED_STACKS;
  if (k.cfg.CACHE_ATOMIC === 'xchg') {
    for (let i = 0; i < n && !stack; i++) {
      yield XCHG_ALLOC.get(i);
      const s = cacheSlotRead(k, cpu, i);
      self.note = s ? NOTE_STACK.get(s.id) : '→ NULL';
      if (!s) continue;
      cacheSlotClear(k, cpu, i);
      stack = takeCachedStack(k, cpu, tsk, s, i);
    }
  } else {
    const irqOff = cacheScanIrqOff(k);
    for (let i = 0; i < n && !stack; i++) {
      yield READ_ALLOC.get(i, irqOff ? 1 : 0);
      self.irqOff = irqOff;
      const s = cacheSlotRead(k, cpu, i);
      self.note = s ? NOTE_STACK.get(s.id) : '→ NULL';
      if (!s) continue;
      yield WRITE_ALLOC.get(i, s.id, irqOff ? 1 : 0);
      cacheSlotClear(k, cpu, i);
      stack = takeCachedStack(k, cpu, tsk, s, i);
      self.irqOff = false;
    }
    self.irqOff = false;
  }
  if (!stack) {
    yield CACHE_MISS;
    stack = allocThreadStackMiss(k, cpu, tsk);
  }
  if (!stack) {
    k.freeTaskStruct(tsk);
    dupTaskStructFailed(k, cpu, parent);
    return;
  }
  dupTaskStructFinish(k, tsk, stack);
  copyProcessInit(k, cpu, parent, tsk, args);
  x.track(tsk);
  if (args.failAfterDup) {
    yield BAD_FORK_FREE.get(tsk.pid);
    if (badForkFreeBegin(k, tsk) && putTaskStackDec(k, cpu, tsk)) {
      self.note = '→ last reference';
      yield* releaseStack(x, self, cpu, tsk);
    }
    yield DELAYED_FREE.get(tsk.pid);
    badForkFreeFinish(k, cpu, tsk);
    copyProcessFailed(k, cpu, parent);
    return;
  }
  yield FORK_DONE.get(tsk.pid);
  copyProcessDone(k, cpu, parent, tsk, args);
  wakeUpNewTask(k, cpu, tsk, cpu);
  out.child = tsk;
}

// The guards are module-level functions of (exec, thread, the step's arg), not
// closures: a closure per yield (and the __name call tsx adds to each) was a
// measurable part of the explorer's time.

function isZombie(_x: Exec, _self: Thread, tsk: unknown): boolean {
  return (tsk as TaskStruct).exitState === EXIT_ZOMBIE;
}

/** A grace period only matters while a callback waits for it; without this bound the kthread would cycle for ever. */
function rcuWaiting(x: Exec): boolean {
  const k = x.k;
  const done = k.rcu.gpCompleted;
  for (const pc of k.cpus) {
    const r = pc.rcu;
    for (let i = r.head; i < r.cbs.length; i++) if (r.cbs[i].gpNeeded > done) return true;
  }
  return false;
}

function rcuGpCanStart(x: Exec): boolean {
  return x.k.rcu.gpRequested && rcuWaiting(x);
}

function rcuGpCanEnd(x: Exec): boolean {
  return x.k.rcu.readersInside === 0 && rcuWaiting(x) && x.quiescentPossible();
}

const RCU_GP_INIT: Step = { label: 'rcu_gp_init(): a grace period starts', guard: rcuGpCanStart };
const RCU_GP_END: Step = { label: 'every CPU passed a quiescent state: rcu_gp_cleanup(), the grace period ends', guard: rcuGpCanEnd };

/** The RCU grace-period kthread: start a requested grace period; end it once no CPU holds one up. */
export function* rcuGp(x: Exec): Body {
  const k = x.k;
  const rcu = k.rcu;
  for (;;) {
    if (!rcu.gpInProgress) {
      yield RCU_GP_INIT;
      rcuGpKthread(k);
    } else {
      yield RCU_GP_END;
      // rcu_report_qs_rdp() from each CPU's tick: none is in a read-side or non-preemptible region.
      for (const pc of k.cpus) rcuReportQs(k, pc.index);
      rcuGpKthread(k);
    }
  }
}

/** RCU_SOFTIRQ of the thread's CPU has a batch of callbacks whose grace period is over. */
function rcuReady(x: Exec, self: Thread): boolean {
  const r = x.k.cpus[self.spec.cpu].rcu;
  return r.head < r.cbs.length && r.cbs[r.head].gpNeeded <= x.k.rcu.gpCompleted;
}

const RCU_BATCH: Step = { label: 'RCU_SOFTIRQ: rcu_do_batch()', guard: rcuReady };

/** RCU_SOFTIRQ on `cpu` (the thread's CPU): rcu_do_batch() invokes the ready callbacks, one batch per step. */
export function* rcuSoftirq(x: Exec, self: Thread, cpu: number): Body {
  const k = x.k;
  const r = k.cpus[cpu].rcu;
  for (;;) {
    self.between = true;
    yield RCU_BATCH;
    self.between = false;
    const names: string[] = [];
    for (let i = r.head; i < r.cbs.length && r.cbs[i].gpNeeded <= k.rcu.gpCompleted; i++) {
      const cb = r.cbs[i];
      names.push(cb.stack ? `thread_stack_free_rcu(stack #${cb.stack.id})` : `${cb.kind === 2 ? 'delayed_put_task_struct' : '__delayed_free_task'}(pid ${cb.task!.pid})`);
    }
    self.note = `→ ${names.join(', ')}`;
    rcuCore(k, cpu);
  }
}

interface HotplugWait {
  cpu: number;
  /** The thread whose end makes the CPU quiet (its dying task's final switch). */
  quietThread: number;
}

function hotplugReady(x: Exec, _self: Thread, arg: unknown): boolean {
  const w = arg as HotplugWait;
  return x.k.cpus[w.cpu].curr.pid === 0 && x.threads[w.quietThread].done;
}

/** cpuhp teardown of `cpu` from `ctlCpu`, once that CPU is idle and thread `quietThread` (its contexts) is done. */
export function* hotplugDown(x: Exec, _self: Thread, ctlCpu: number, cpu: number, quietThread: number): Body {
  const k = x.k;
  const wait: HotplugWait = { cpu, quietThread };
  yield { label: `cpu_down(${cpu}): cpuhp teardown${k.cfg.HOTPLUG_DRAIN && !k.mut.noHotplugDrain ? ', free_vm_stack_cache()' : ''}`, guard: hotplugReady, arg: wait };
  cpuDown(k, ctlCpu, cpu);
}

export { freeVmStackCache };
