// kernel/fork.c: stack allocation, caching and release, and the task creation
// path around them. Each function is named after the kernel function it models
// and cites the version(s) whose body it follows; where versions differ, a
// config knob picks the body (reference §1.2–1.6).
import { EK } from './events.ts';
import { PageUse } from '../mm/page_alloc.ts';
import { memcgCharge, memcgUncharge } from '../mm/memcontrol.ts';
import type { Kernel } from './kernel.ts';
import { callRcu, RcuCbKind } from './rcu.ts';
import { KStack, PF_KTHREAD, StackState, TASK_DEAD, TASK_NEW, TaskStruct } from './task.ts';
import { vfree, vfreeAtomic, vmallocStack } from '../mm/vmalloc.ts';

export interface CloneArgs {
  /** CLONE_THREAD: a thread of the parent's group (autoreaped at exit). */
  thread: boolean;
  comm?: string;
  /** The pid to give the child (trace replay); allocated by the model when absent. */
  pid?: number;
  kthread?: boolean;
  /** Fault injection: copy_process fails after dup_task_struct (e.g. copy_mm -ENOMEM). */
  failAfterDup?: boolean;
}

/**
 * kernel_clone() → copy_process(): returns the child pid, or a negative errno
 * (-12, ENOMEM) when the stack or a later step could not be had.
 */
export function kernelClone(k: Kernel, cpu: number, parent: TaskStruct, args: CloneArgs): number {
  k.stats.forks++;
  const p = dupTaskStruct(k, cpu, parent);
  if (!p) return dupTaskStructFailed(k, cpu, parent);
  return copyProcess(k, cpu, parent, p, args);
}

/** kernel_clone() returning the child's task_struct (null on -ENOMEM), for drivers that hold task handles. */
export function kernelCloneTask(k: Kernel, cpu: number, parent: TaskStruct, args: CloneArgs): TaskStruct | null {
  k.stats.forks++;
  const p = dupTaskStruct(k, cpu, parent);
  if (!p) {
    dupTaskStructFailed(k, cpu, parent);
    return null;
  }
  return copyProcess(k, cpu, parent, p, args) < 0 ? null : p;
}

/** copy_process() after dup_task_struct() failed: -ENOMEM. */
export function dupTaskStructFailed(k: Kernel, cpu: number, parent: TaskStruct): number {
  k.stats.forkFailures++;
  k.trace(cpu, 'fork_failed', { parent_pid: parent.pid, reason: 'dup_task_struct' });
  return -12;
}

/** copy_process() after dup_task_struct(): the child's identity, then success or bad_fork_free. */
export function copyProcess(k: Kernel, cpu: number, parent: TaskStruct, p: TaskStruct, args: CloneArgs): number {
  copyProcessInit(k, cpu, parent, p, args);
  if (args.failAfterDup) {
    badForkFree(k, cpu, p);
    return copyProcessFailed(k, cpu, parent);
  }
  return copyProcessDone(k, cpu, parent, p, args);
}

export function copyProcessInit(k: Kernel, cpu: number, parent: TaskStruct, p: TaskStruct, args: CloneArgs): void {
  k.spend(k.costs.cloneBaseNs + (args.thread ? 0 : k.costs.forkProcessExtraNs));
  p.pid = args.pid ?? k.allocPid();
  p.comm = args.comm ?? parent.comm;
  p.tgid = args.thread ? parent.tgid : p.pid;
  p.parentPid = args.thread ? parent.parentPid : parent.pid;
  p.autoreap = args.thread;
  p.flags = args.kthread ? PF_KTHREAD : 0;
  p.kthread = !!args.kthread;
  p.memcg = parent.memcg;
  p.cpu = cpu;
  p.state = TASK_NEW;
  p.forkTsNs = k.nowNs;
  if (p.stack) p.stack.ownerPid = p.pid;
}

export function copyProcessFailed(k: Kernel, cpu: number, parent: TaskStruct): number {
  k.stats.forkFailures++;
  k.trace(cpu, 'fork_failed', { parent_pid: parent.pid, reason: 'copy_process' });
  return -12;
}

/** The child is hashed (findable by pid) and the fork is traced. */
export function copyProcessDone(k: Kernel, cpu: number, parent: TaskStruct, p: TaskStruct, args: CloneArgs): number {
  k.attachTask(p);
  if (k.tracing) k.trace(cpu, 'task_newtask', { pid: p.pid, comm: p.comm, clone_flags: args.thread ? '3d0f00' : '1200000', oom_score_adj: 0 });
  else k.noteK(cpu, EK.task_newtask, 0);
  if (k.tracing) k.trace(cpu, 'sched_process_fork', { comm: parent.comm, pid: parent.pid, child_comm: p.comm, child_pid: p.pid });
  else k.noteK(cpu, EK.sched_process_fork, 0);
  return p.pid;
}

/**
 * dup_task_struct(): v4.9 takes the stack before arch_dup_task_struct() (and
 * restores the clobbered fields); ≥5.18 copies first (546c42b2c5c1). Either way
 * the stack is taken at the start of copy_process(), on the parent's CPU.
 */
export function dupTaskStruct(k: Kernel, cpu: number, orig: TaskStruct): TaskStruct | null {
  const tsk = dupTaskStructBegin(k, orig);
  const stack = allocThreadStackNode(k, cpu, tsk);
  if (!stack) {
    k.freeTaskStruct(tsk);
    return null;
  }
  dupTaskStructFinish(k, tsk, stack);
  return tsk;
}

/**
 * The task_struct itself (alloc_task_struct_node), before the stack; ≥5.18
 * copies the parent into it here, before taking the stack (546c42b2c5c1).
 */
export function dupTaskStructBegin(k: Kernel, orig: TaskStruct): TaskStruct {
  k.spend(k.costs.taskStructAllocNs);
  if (k.cfg.DUP_ORDER === 'copy-first') k.spend(k.costs.archDupTaskStructNs);
  const tsk = k.newTaskStruct();
  tsk.memcg = orig.memcg;
  return tsk;
}

/**
 * The stack is the child's: v4.9 copies the parent only now (arch_dup_task_struct
 * after the stack, then restores the clobbered stack fields); stack_refcount 1,
 * accounted, usage references set.
 */
export function dupTaskStructFinish(k: Kernel, tsk: TaskStruct, stack: KStack): void {
  if (k.cfg.DUP_ORDER === 'stack-first') k.spend(k.costs.archDupTaskStructNs);
  tsk.stack = stack;
  if (k.cfg.THREAD_INFO_IN_TASK) tsk.stackRefcount = 1;
  accountKernelStack(k, stack, +1);
  if (k.cfg.RCU_USERS) {
    // "One for the user space visible state that goes away when reaped. One for the scheduler."
    tsk.rcuUsers = 2;
    tsk.usage = 1;
  } else {
    // "One for us, one for whoever does the release_task() (usually parent)"
    tsk.usage = 2;
  }
}

/**
 * alloc_thread_stack_node(): the lowest non-empty slot of THIS CPU's cache, else
 * a fresh vmalloc (VMAP_STACK), else order-THREAD_SIZE_ORDER pages (≤4.8).
 */
export function allocThreadStackNode(k: Kernel, cpu: number, tsk: TaskStruct): KStack | null {
  const cfg = k.cfg;
  const c = k.costs;
  if (!cfg.VMAP_STACK) return allocPageStack(k, cpu, tsk);
  const n = cfg.NR_CACHED_STACKS;
  if (cacheScanIrqOff(k)) k.spendAlloc(c.irqSaveRestoreNs); // v4.9: local_irq_disable()
  for (let i = 0; i < n; i++) {
    if (cfg.CACHE_ATOMIC === 'xchg') k.spendAlloc(c.percpuXchgNs); // this_cpu_xchg(cached_stacks[i], NULL)
    const s = cacheSlotRead(k, cpu, i);
    if (!s) continue;
    cacheSlotClear(k, cpu, i);
    return takeCachedStack(k, cpu, tsk, s, i);
  }
  return allocThreadStackMiss(k, cpu, tsk);
}

/**
 * v4.9 scans the cache with irqs off (local_irq_disable on alloc,
 * local_irq_save on release): a release from IRQ context on this CPU cannot
 * land between a slot's read and its write. ≥4.11 needs no irq-off: each slot
 * is one this_cpu_xchg / this_cpu_cmpxchg. The cache-irq-unsafe mutation
 * drops the irq-off.
 */
export function cacheScanIrqOff(k: Kernel): boolean {
  return k.cfg.CACHE_ATOMIC === 'irq-off' && !k.mut.cacheIrqUnsafe;
}

/** this_cpu_read(cached_stacks[i]) (and the read half of ≥4.11's xchg / cmpxchg). */
export function cacheSlotRead(k: Kernel, cpu: number, slot: number): KStack | null {
  return k.cpus[cpu].cachedStacks[slot];
}

/** this_cpu_write(cached_stacks[i], NULL) (the write half of ≥4.11's xchg). */
export function cacheSlotClear(k: Kernel, cpu: number, slot: number): void {
  const cache = k.cpus[cpu].cachedStacks;
  if (cache[slot]) k.cacheOccupancyChanged(cpu, -1);
  cache[slot] = null;
}

/** alloc_thread_stack_node() when no slot held a stack: a fresh vmalloc, charged. */
export function allocThreadStackMiss(k: Kernel, cpu: number, tsk: TaskStruct): KStack | null {
  const cfg = k.cfg;
  k.stats.cacheMisses++;
  k.cpuStats[cpu].misses++;
  if (k.tracing) k.trace(cpu, 'stack_cache_miss', { cached: 0 });
  else k.noteK(cpu, EK.stack_cache_miss, 0);
  const s = vmallocStack(k, cpu);
  if (!s) return null;
  // 4.9–4.18: __GFP_ACCOUNT charged the allocating task's memcg, once, at vmalloc.
  // ≥4.19: memcg_charge_kernel_stack() on every assignment (9b6f7e163cd0).
  if (cfg.MEMCG_KMEM && !memcgCharge(k, tsk.memcg, s)) {
    vfree(k, cpu, s);
    return null;
  }
  s.uses = 1;
  return s;
}

export function takeCachedStack(k: Kernel, cpu: number, tsk: TaskStruct, s: KStack, slot: number): KStack | null {
  const cfg = k.cfg;
  k.stats.cacheHits++;
  k.cpuStats[cpu].hits++;
  if (k.tracing) k.trace(cpu, 'stack_cache_hit', { stack: s.id, slot, va: s.addr });
  else k.noteK(cpu, EK.stack_cache_hit, s.id);
  // "Clear stale pointers from reused stack." (e01e80634ecd, 4.17)
  if (cfg.ZERO_ON_REUSE) k.spendAlloc(k.costs.zeroStackNs);
  chargeColdStack(k, s.lastTouchNs);
  if (cfg.MEMCG_KMEM && cfg.MEMCG_CHARGE === 'assign' && !memcgCharge(k, tsk.memcg, s)) {
    // A charge failure on a hit vfree()s the cached stack and fails the fork.
    s.state = StackState.Allocated;
    vfree(k, cpu, s);
    return null;
  }
  s.state = StackState.Allocated;
  s.cpu = -1;
  s.slot = -1;
  s.uses++;
  s.reported = false;
  return s;
}

/** ≤4.8 (and VMAP_STACK=n): alloc_pages_node(node, THREADINFO_GFP, THREAD_SIZE_ORDER). */
function allocPageStack(k: Kernel, cpu: number, tsk: TaskStruct): KStack | null {
  const c = k.costs;
  const order = k.cfg.THREAD_SIZE_ORDER;
  const got = k.zone.allocPages(order, cpu, PageUse.Stack);
  k.spendAlloc(got?.slow ? c.pageAllocOrder2SlowNs : c.pageAllocOrder2FastNs);
  if (!got) {
    k.stats.pageAllocFailures++;
    return null;
  }
  if (got.slow) k.stats.pageAllocSlow++;
  chargeColdStack(k, k.zone.lastTouchNs(got.pfn));
  const s = k.newStack();
  s.vmapped = false;
  s.addr = got.pfn * 4096;
  s.pfns = [];
  for (let i = 0; i < 1 << order; i++) s.pfns.push(got.pfn + i);
  s.uses = 1;
  k.stackPagesChanged(s.pfns.length);
  k.trace(cpu, 'mm_page_alloc', { pfn: got.pfn, order, stack: s.id });
  // THREADINFO_GFP includes __GFP_ACCOUNT: the charge goes with the pages.
  if (k.cfg.MEMCG_KMEM && !memcgCharge(k, tsk.memcg, s)) {
    freePageStack(k, cpu, s);
    return null;
  }
  return s;
}

/**
 * A new task runs on a stack whose lines left the CPU caches: the price of
 * ≤4.8's RCU-delayed free, and what ac496bf48d97's "hopefully cache-hot,
 * TLB-hot stack" avoids.
 */
export function chargeColdStack(k: Kernel, lastTouchNs: number): void {
  if (k.nowNs - lastTouchNs > k.costs.stackHotWindowNs) {
    k.spendAlloc(k.costs.coldStackTouchNs);
    k.stats.coldStacks++;
  }
}

export function freePageStack(k: Kernel, cpu: number, s: KStack): void {
  const order = k.cfg.THREAD_SIZE_ORDER;
  for (const pfn of s.pfns) k.zone.setLastTouchNs(pfn, s.lastTouchNs);
  k.zone.freePagesAt(s.pfns[0], order, cpu);
  k.spendFree(k.costs.pageFreeOrder2Ns);
  k.stackPagesChanged(-s.pfns.length);
  if (s.memcg !== 0) memcgUncharge(k, s);
  k.trace(cpu, 'mm_page_free', { pfn: s.pfns[0], order, stack: s.id });
  s.state = StackState.PagesFreed;
  k.forgetStack(s);
}

/**
 * account_kernel_stack(): NR_KERNEL_STACK_KB (+ v4.9's MEMCG_KERNEL_STACK_KB stat).
 * v4.9 adds at the end of dup_task_struct and drops at release; ≥5.18 drops in do_exit.
 */
export function accountKernelStack(k: Kernel, s: KStack, account: 1 | -1): void {
  if (account === 1 && s.accounted) return;
  if (account === -1 && !s.accounted) return;
  s.accounted = account === 1;
  k.nrKernelStackKb += account * (k.threadSize / 1024);
  k.spend(k.costs.accountKernelStackNs);
}

/** exit_task_stack_account() (≥5.18, called from do_exit): stat and memcg uncharge. */
export function exitTaskStackAccount(k: Kernel, tsk: TaskStruct): void {
  const s = tsk.stack;
  if (!s) return;
  accountKernelStack(k, s, -1);
  if (k.cfg.VMAP_STACK && k.cfg.MEMCG_KMEM && k.cfg.MEMCG_CHARGE === 'assign') memcgUncharge(k, s);
}

/**
 * try_release_thread_stack_to_cache(): the lowest empty slot of the releasing
 * CPU (v4.9: irq-save read-then-write; ≥4.11: this_cpu_cmpxchg per slot).
 */
export function tryReleaseThreadStackToCache(k: Kernel, cpu: number, s: KStack): boolean {
  const cfg = k.cfg;
  const c = k.costs;
  if (!cacheReleaseAllowed(k, cpu)) return false;
  const n = cfg.NR_CACHED_STACKS;
  if (cacheScanIrqOff(k)) k.spendFree(c.irqSaveRestoreNs);
  for (let i = 0; i < n; i++) {
    if (cfg.CACHE_ATOMIC === 'xchg') k.spendFree(c.percpuXchgNs);
    if (cacheSlotRead(k, cpu, i)) continue;
    cacheSlotStore(k, cpu, i, s);
    return true;
  }
  return false;
}

/** An offlined CPU whose teardown already ran (free_vm_stack_cache) may not be refilled. */
export function cacheReleaseAllowed(k: Kernel, cpu: number): boolean {
  return k.cpus[cpu].online || !k.cfg.HOTPLUG_DRAIN;
}

/** this_cpu_write(cached_stacks[i], vm) (the write half of ≥4.11's cmpxchg): a blind store. */
export function cacheSlotStore(k: Kernel, cpu: number, slot: number, s: KStack): void {
  const cache = k.cpus[cpu].cachedStacks;
  if (!cache[slot]) k.cacheOccupancyChanged(cpu, +1);
  cache[slot] = s;
  s.state = StackState.Cached;
  s.cpu = cpu;
  s.slot = slot;
  s.ownerPid = 0;
  k.stats.cachePuts++;
  k.cpuStats[cpu].puts++;
  if (k.tracing) k.trace(cpu, 'stack_cache_put', { stack: s.id, slot, va: s.addr });
  else k.noteK(cpu, EK.stack_cache_put, s.id);
}

/**
 * free_thread_stack(): to this CPU's cache, else by the version's cache-full
 * path: v4.9 vfree() on the spot; 4.10–5.17 vfree_atomic(); ≥5.18
 * thread_stack_delayed_free() → call_rcu (e540bf3162e8).
 */
export function freeThreadStack(k: Kernel, cpu: number, tsk: TaskStruct): void {
  const s = freeThreadStackBegin(tsk);
  if (!s.vmapped) {
    freePageStack(k, cpu, s);
    return;
  }
  if (tryReleaseThreadStackToCache(k, cpu, s)) return;
  freeThreadStackCacheFull(k, cpu, s);
}

/** tsk->stack = NULL: the stack is in the releaser's hands. */
export function freeThreadStackBegin(tsk: TaskStruct): KStack {
  const s = tsk.stack!;
  tsk.stack = null;
  s.state = StackState.Releasing;
  s.ownerPid = 0;
  return s;
}

/** No cache slot was free (or the CPU is offline): the version's cache-full path. */
export function freeThreadStackCacheFull(k: Kernel, cpu: number, s: KStack): void {
  k.stats.cacheFull++;
  switch (k.cfg.CACHE_FULL) {
    case 'vfree':
      vfree(k, cpu, s);
      return;
    case 'vfree-atomic':
      vfreeAtomic(k, cpu, s);
      return;
    case 'rcu-retry':
      threadStackDelayedFree(k, cpu, s);
      return;
  }
}

/** thread_stack_delayed_free(): the rcu_head is written into the dead stack itself. */
export function threadStackDelayedFree(k: Kernel, cpu: number, s: KStack): void {
  s.state = StackState.RcuPending;
  s.cpu = cpu;
  s.ownerPid = 0;
  k.rcuPendingChanged(+1);
  if (k.tracing) k.trace(cpu, 'stack_rcu_pending', { stack: s.id, va: s.addr });
  else k.noteK(cpu, EK.stack_rcu_pending, s.id);
  callRcu(k, cpu, RcuCbKind.ThreadStackFreeRcu, s, null);
}

/** thread_stack_free_rcu(): a second chance at the cache of the CPU running the callback. */
export function threadStackFreeRcu(k: Kernel, cpu: number, s: KStack): void {
  k.rcuPendingChanged(-1);
  if (tryReleaseThreadStackToCache(k, cpu, s)) {
    k.stats.rcuRetryHits++;
    return;
  }
  // vfree() from softirq sees in_interrupt() and defers to vfree_atomic().
  vfree(k, cpu, s);
}

/** free_vm_stack_cache(): cpuhp teardown vfree()s an offlined CPU's cached stacks (≈4.11). */
export function freeVmStackCache(k: Kernel, ctlCpu: number, deadCpu: number): number {
  const cache = k.cpus[deadCpu].cachedStacks;
  let n = 0;
  for (let i = 0; i < cache.length; i++) {
    const s = cache[i];
    if (!s) continue;
    cache[i] = null;
    k.cacheOccupancyChanged(deadCpu, -1);
    s.state = StackState.Allocated; // in hand, about to be vfree'd
    vfree(k, ctlCpu, s);
    n++;
  }
  k.trace(ctlCpu, 'stack_cache_drain', { cpu: deadCpu, freed: n });
  return n;
}

/**
 * release_task_stack(): "Better to leak the stack than to free prematurely": a
 * release of a task that is not TASK_DEAD is refused (and reported).
 */
export function releaseTaskStack(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (releaseTaskStackBegin(k, cpu, tsk)) freeThreadStack(k, cpu, tsk);
}

/** release_task_stack() up to free_thread_stack(): the checks and the accounting. False: refused. */
export function releaseTaskStackBegin(k: Kernel, cpu: number, tsk: TaskStruct): boolean {
  const s = tsk.stack;
  if (tsk.state !== TASK_DEAD) {
    k.violation('release-not-dead', cpu, tsk.pid, s, `release_task_stack() of pid ${tsk.pid} whose state is not TASK_DEAD: WARN, stack leaked`);
    return false;
  }
  if (!s) {
    k.violation('double-free', cpu, tsk.pid, null, `release_task_stack() of pid ${tsk.pid} which has no stack`);
    return false;
  }
  k.stats.stackReleases++;
  if (k.tracing) k.trace(cpu, 'stack_release', { stack: s.id, pid: tsk.pid, refcount: tsk.stackRefcount });
  else k.noteK(cpu, EK.stack_release, s.id);
  if (k.cfg.STACK_ACCOUNT === 'release') {
    accountKernelStack(k, s, -1);
    // 4.19–5.17 uncharged in free_thread_stack; 4.9 never recharged, so never uncharged here.
    if (k.cfg.MEMCG_KMEM && k.cfg.MEMCG_CHARGE === 'assign') memcgUncharge(k, s);
  }
  return true;
}

/** put_task_stack(): the last reference releases the stack, on the CPU and in the context of the caller. */
export function putTaskStack(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (putTaskStackDec(k, cpu, tsk)) releaseTaskStack(k, cpu, tsk);
}

/**
 * refcount_dec_and_test(&tsk->stack_refcount): true when this put was the last
 * and the caller must release_task_stack(). A no-op without THREAD_INFO_IN_TASK.
 */
export function putTaskStackDec(k: Kernel, cpu: number, tsk: TaskStruct): boolean {
  if (!k.cfg.THREAD_INFO_IN_TASK) return false;
  if (tsk.stackRefcount <= 0) {
    k.violation('refcount-underflow', cpu, tsk.pid, tsk.stack, `put_task_stack() of pid ${tsk.pid} with stack_refcount ${tsk.stackRefcount}`);
    return false;
  }
  tsk.stackRefcount--;
  if (tsk.stackRefcount === 0) return true;
  if (tsk.state === TASK_DEAD && tsk.stack && !tsk.onCpu) tsk.stack.state = StackState.DeadPinned;
  return false;
}

/** try_get_task_stack(): pins only while the refcount is not already zero. */
export function tryGetTaskStack(k: Kernel, tsk: TaskStruct): KStack | null {
  if (!k.cfg.THREAD_INFO_IN_TASK) return tsk.stack; // the stack lives as long as the task_struct
  if (tsk.stackRefcount === 0) return null;
  tsk.stackRefcount++;
  return tsk.stack;
}

/**
 * free_task(): ≤4.8 frees thread_info and the stack with the task_struct;
 * with THREAD_INFO_IN_TASK the stack must already be gone (WARN_ON_ONCE).
 */
export function freeTask(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (!k.cfg.THREAD_INFO_IN_TASK) {
    if (tsk.stack) {
      tsk.state = TASK_DEAD;
      releaseTaskStack(k, cpu, tsk);
    }
  } else if (tsk.stackRefcount !== 0) {
    k.violation('leak', cpu, tsk.pid, tsk.stack, `free_task() of pid ${tsk.pid} with stack_refcount ${tsk.stackRefcount}: stack leaked`);
  }
  k.spend(k.costs.taskStructFreeNs);
  tsk.freed = true;
  k.detachTask(tsk);
  k.freeTaskStruct(tsk);
}

/** put_task_struct(): the last usage reference frees the task (__put_task_struct → free_task). */
export function putTaskStruct(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (tsk.usage <= 0) {
    k.violation('refcount-underflow', cpu, tsk.pid, tsk.stack, `put_task_struct() of pid ${tsk.pid} with usage ${tsk.usage}`);
    return;
  }
  tsk.usage--;
  if (tsk.usage === 0) freeTask(k, cpu, tsk);
}

/**
 * copy_process() bad_fork_free (6.x): WRITE_ONCE(p->__state, TASK_DEAD);
 * exit_task_stack_account(p); put_task_stack(p); delayed_free_task(p).
 * v4.9's bad_fork_free also sets TASK_DEAD and puts the stack before free_task().
 */
function badForkFree(k: Kernel, cpu: number, p: TaskStruct): void {
  if (badForkFreeBegin(k, p) && putTaskStackDec(k, cpu, p)) releaseTaskStack(k, cpu, p);
  badForkFreeFinish(k, cpu, p);
}

/** WRITE_ONCE(p->__state, TASK_DEAD) and the ≥5.18 accounting; true if put_task_stack() follows. */
export function badForkFreeBegin(k: Kernel, p: TaskStruct): boolean {
  p.state = TASK_DEAD;
  if (k.cfg.STACK_ACCOUNT === 'exit') exitTaskStackAccount(k, p);
  return k.cfg.THREAD_INFO_IN_TASK && !k.mut.noBadForkPut;
}

/** delayed_free_task(p): the task_struct goes one grace period later. */
export function badForkFreeFinish(k: Kernel, cpu: number, p: TaskStruct): void {
  p.usage = 1;
  p.rcuUsers = 0;
  k.attachTask(p);
  callRcu(k, cpu, RcuCbKind.DelayedFreeTask, null, p);
}

/** __delayed_free_task(): the RCU callback of a failed fork. */
export function delayedFreeTask(k: Kernel, cpu: number, tsk: TaskStruct): void {
  freeTask(k, cpu, tsk);
}

export { KStack, TaskStruct };
