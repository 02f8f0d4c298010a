// include/linux/sched/task_stack.h and its four users in the 4.9 series: code
// that looks at ANOTHER task's stack must pin it with try_get_task_stack() and
// drop it with put_task_stack(), because with THREAD_INFO_IN_TASK the stack is
// freed the moment its task is dead and switched out. The last put runs
// release_task_stack() on the reader's CPU, in the reader's context.
//
// A reader is split into begin (pin), access (the walk / the read) and end
// (unpin) so that drivers can interleave other CPUs between them.
import { putTaskStackDec, putTaskStruct, releaseTaskStack, tryGetTaskStack } from './fork.ts';
import type { Kernel } from './kernel.ts';
import { type KStack, StackState, type TaskStruct } from './task.ts';

export type ReaderKind = 'stack-trace' | 'wchan' | 'syscall' | 'kthread';

export const READER_KINDS: readonly ReaderKind[] = ['stack-trace', 'wchan', 'syscall', 'kthread'];

/** The kernel function each reader kind models. */
export const READER_FUNCTIONS: Record<ReaderKind, string> = {
  'stack-trace': 'save_stack_trace_tsk (arch/x86/kernel/stacktrace.c, 1959a60182f4), as /proc/PID/stack',
  wchan: 'get_wchan (arch/x86/kernel/process.c, 74327a3e884a), as /proc/PID/wchan',
  syscall: 'collect_syscall (lib/syscall.c, aa1f1a639621), as /proc/PID/syscall',
  kthread: 'kthread_stop → to_live_kthread (kernel/kthread.c, v4.9)',
};

export interface StackReader {
  id: number;
  kind: ReaderKind;
  target: TaskStruct;
  /** The stack pointer the reader will dereference (tsk->stack as read at begin). */
  stack: KStack | null;
  pinned: boolean;
}

/**
 * get_task_struct(target) as the /proc file or kthread_stop() does, then
 * try_get_task_stack(); a reader whose mutation drops the pin reads tsk->stack raw.
 * Returns null when the task_struct is already gone (the pid lookup failed).
 */
export function stackReaderBegin(k: Kernel, cpu: number, kind: ReaderKind, target: TaskStruct, targetGen = target.gen): StackReader | null {
  // A freed task_struct, or one the slab has since handed to a new task, is not the task the reader was given.
  if (target.freed || target.gen !== targetGen || target.inPool) return null;
  target.usage++;
  const skipPin = k.mut.noPin.has(kind);
  let stack: KStack | null;
  let pinned = false;
  if (skipPin) {
    stack = target.stack;
  } else {
    stack = tryGetTaskStack(k, target);
    pinned = stack !== null && k.cfg.THREAD_INFO_IN_TASK;
  }
  const r: StackReader = { id: k.nextReaderId++, kind, target, stack, pinned };
  if (stack) k.trace(cpu, pinned ? 'stack_pin' : 'stack_access', { reader: kind, pid: target.pid, stack: stack.id, refcount: target.stackRefcount });
  else k.trace(cpu, 'stack_pin_failed', { reader: kind, pid: target.pid });
  // kthread_stop(): set_bit(KTHREAD_SHOULD_STOP, &kthread->flags), the struct on the kthread's stack (≤4.9).
  if (kind === 'kthread' && stack) {
    if (k.cfg.KTHREAD_ON_STACK) checkStackAccess(k, cpu, r, 'set_bit(KTHREAD_SHOULD_STOP)');
    target.kthreadShouldStop = true;
  }
  return r;
}

/** The walk (stack trace, wchan frame walk, syscall regs read) over the target's stack. */
export function stackReaderAccess(k: Kernel, cpu: number, r: StackReader): void {
  if (!r.stack || r.kind === 'kthread') return;
  checkStackAccess(k, cpu, r, READER_FUNCTIONS[r.kind].split(' ')[0]);
}

/**
 * put_task_stack() + put_task_struct(). For kthread_stop, the waiter first
 * touches the exited completion, which lives on the kthread's stack (≤4.9).
 */
export function stackReaderEnd(k: Kernel, cpu: number, r: StackReader): void {
  stackReaderPutPath(k, cpu, r);
  // Known bug `double-put`: the reader runs its put path twice.
  if (k.mut.doublePut && r.pinned) stackReaderPutPath(k, cpu, r);
}

function stackReaderPutPath(k: Kernel, cpu: number, r: StackReader): void {
  stackReaderLastTouch(k, cpu, r);
  if (stackReaderUnpin(k, cpu, r)) releaseTaskStack(k, cpu, r.target);
  putTaskStruct(k, cpu, r.target);
}

/** kthread_stop(): wait_for_completion(&kthread->exited), on the kthread's stack (≤4.9). */
export function stackReaderLastTouch(k: Kernel, cpu: number, r: StackReader): void {
  if (r.kind === 'kthread' && r.stack && k.cfg.KTHREAD_ON_STACK) {
    checkStackAccess(k, cpu, r, 'wait_for_completion(&kthread->exited)');
  }
}

/** put_task_stack()'s dec-and-test; true when the caller must release the stack (the last put). */
export function stackReaderUnpin(k: Kernel, cpu: number, r: StackReader): boolean {
  if (!r.pinned) return false;
  k.trace(cpu, 'stack_unpin', { reader: r.kind, pid: r.target.pid, stack: r.stack!.id, refcount: r.target.stackRefcount - 1 });
  return putTaskStackDec(k, cpu, r.target);
}

/**
 * The shadow check (KASAN-like): the stack must still be the target's own,
 * live or pinned. Reading a stack that was cached, handed to another task, or
 * vfree'd is a use-after-free.
 */
export function checkStackAccess(k: Kernel, cpu: number, r: StackReader, what: string): boolean {
  const s = r.stack!;
  k.stats.stackAccesses++;
  const live =
    (s.state === StackState.InUse || s.state === StackState.Allocated || s.state === StackState.DeadPinned) &&
    s.ownerPid === r.target.pid &&
    r.target.stack === s;
  if (live) return true;
  k.violation(
    'use-after-free',
    cpu,
    r.target.pid,
    s,
    `${what} by a ${r.kind} reader on cpu ${cpu} touched stack #${s.id} of pid ${r.target.pid}, which is ${k.describeStack(s)}`,
  );
  return false;
}
