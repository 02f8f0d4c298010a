// struct task_struct, the parts of it that decide when a kernel stack lives and
// dies (include/linux/sched.h), and the model's kernel stack object: the
// vm_struct of a vmapped stack (mm/vmalloc.c) or the order-N page block of a
// ≤4.8 stack, with the state it is in (reference §6.3).
import { NS_ZERO } from './ns.ts';

/** task_struct::__state values the model uses (include/linux/sched.h, 6.x values). */
export const TASK_RUNNING = 0x0000;
export const TASK_INTERRUPTIBLE = 0x0001;
export const TASK_UNINTERRUPTIBLE = 0x0002;
export const TASK_DEAD = 0x0080;
export const TASK_NEW = 0x0800;

/** task_struct::exit_state. */
export const EXIT_ZOMBIE = 0x0020;
export const EXIT_DEAD = 0x0010;

/** task_struct::flags. */
export const PF_EXITING = 0x00000004;
export const PF_KTHREAD = 0x00200000;

/** Where a stack is in its life (one state at a time; the shadow map checks accesses against it). */
export enum StackState {
  /** Bound to a task in dup_task_struct, task not yet woken. */
  Allocated = 1,
  /** Owned by a live (or dying, not yet switched out) task. */
  InUse = 2,
  /** Owner is dead and switched out; a pinner still holds it (refcount > 0). */
  DeadPinned = 3,
  /** In a per-CPU cache slot; owned by no task. */
  Cached = 4,
  /** ≥5.18: cache was full, call_rcu(thread_stack_free_rcu) pending. */
  RcuPending = 5,
  /** vfree_atomic(): on a CPU's vfree_deferred llist awaiting delayed_vfree_work. */
  VfreeDeferred = 6,
  /** vfree'd: pages back in the buddy allocator, vmap area lazy until purged. */
  FreedLazy = 7,
  /** ≤4.8: order-N pages freed with the task_struct (no vmap area). */
  PagesFreed = 8,
  /** Fully gone: area purged (vmap) — kept only for history. */
  Purged = 9,
  /** Inside free_thread_stack(): no task owns it; about to be cached, RCU-queued or freed. */
  Releasing = 10,
}

export const STACK_STATE_NAMES: Record<StackState, string> = {
  [StackState.Allocated]: 'ALLOCATED',
  [StackState.InUse]: 'IN_USE',
  [StackState.DeadPinned]: 'DEAD_PINNED',
  [StackState.Cached]: 'CACHED',
  [StackState.RcuPending]: 'RCU_PENDING',
  [StackState.VfreeDeferred]: 'VFREE_DEFERRED',
  [StackState.FreedLazy]: 'FREED_LAZY',
  [StackState.PagesFreed]: 'PAGES_FREED',
  [StackState.Purged]: 'PURGED',
  [StackState.Releasing]: 'RELEASING',
};

/** A kernel stack: a vm_struct (vmapped) or an order-N page block (≤4.8). */
export class KStack {
  /** Model-wide unique id, for histories and the shadow map. */
  id = 0;
  state: StackState = StackState.Allocated;
  /** VA offset from VMALLOC_START of the vmap area (vmapped), or the head pfn × PAGE_SIZE (pages). */
  addr = 0;
  /** Bytes of the vmap area including the guard page (0 for page stacks). */
  areaBytes = 0;
  /** Physical page frames backing the stack. */
  pfns: number[] = [];
  vmapped = false;
  /** Task whose stack this is (or was last), by pid; 0 when none. */
  ownerPid = 0;
  /** CPU and slot when Cached; CPU when RcuPending / VfreeDeferred. */
  cpu = -1;
  slot = -1;
  /** memcg id the pages are charged to (0 = none). */
  memcg = 0;
  /** Counted in NR_KERNEL_STACK_KB. */
  accounted = false;
  /** Times this vm area was handed to a new task (1 = fresh). */
  uses = 0;
  /** When its last owner last ran on it (its final switch): decides whether a reuse is cache-cold. */
  lastTouchNs = Number.NEGATIVE_INFINITY;
  /** A reader walked it while it was not the live owner's: already reported once. */
  reported = false;
}

export class TaskStruct {
  pid = 0;
  tgid = 0;
  comm = '';
  /** real_parent's pid (0 for tasks whose parent is outside the model). */
  parentPid = 0;
  flags = 0;
  state = TASK_NEW;
  exitState = 0;
  /** Reaped by nobody: a thread of a group, or a child of a parent ignoring SIGCHLD. */
  autoreap = false;
  /** task_struct::usage */
  usage = 0;
  /** task_struct::rcu_users (5.4+) */
  rcuUsers = 0;
  /** task_struct::stack_refcount (THREAD_INFO_IN_TASK) */
  stackRefcount = 0;
  stack: KStack | null = null;
  /** CPU the task is on (task_cpu(), thread_info::cpu). */
  cpu = 0;
  /** Currently executing on its CPU (task_struct::on_cpu). */
  onCpu = false;
  memcg = 0;
  /** release_task() has run (the task is unhashed; its pid is no longer findable). */
  released = false;
  /** The RCU callback delayed_put_task_struct has run and the task_struct is freed. */
  freed = false;
  /** ≤4.8 / kthreads of 4.9: kthread struct lives on the stack (to_live_kthread). */
  kthread = false;
  /** kthread_should_stop() bit, stored on the kthread's stack in 4.9. */
  kthreadShouldStop = false;
  forkTsNs = NS_ZERO;
  /**
   * Bumped each time the slab hands this object out again: a holder of a stale
   * pointer (one that took no reference) can tell the task it meant is gone.
   */
  gen = 0;
  /** On the task_struct slab's free list (freeing it again is a double free). */
  inPool = false;

  /** Back to a fresh task_struct (the slab hands out recycled objects). */
  reset(): void {
    this.gen++;
    this.inPool = false;
    this.pid = 0;
    this.tgid = 0;
    this.comm = '';
    this.parentPid = 0;
    this.flags = 0;
    this.state = TASK_NEW;
    this.exitState = 0;
    this.autoreap = false;
    this.usage = 0;
    this.rcuUsers = 0;
    this.stackRefcount = 0;
    this.stack = null;
    this.cpu = 0;
    this.onCpu = false;
    this.memcg = 0;
    this.released = false;
    this.freed = false;
    this.kthread = false;
    this.kthreadShouldStop = false;
    this.forkTsNs = NS_ZERO;
  }
}
