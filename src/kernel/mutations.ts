// Known bugs the model can be run with, each a one-line departure from the
// kernel: the interleaving explorer must find every one of them, and the
// stack-readers workload must turn a missing pin into a use-after-free.
import type { ReaderKind } from './task_stack.ts';

export const MUTATIONS = {
  'no-pin-stack-trace': 'save_stack_trace_tsk() walks the stack without try_get_task_stack()',
  'no-pin-wchan': 'get_wchan() walks the stack without try_get_task_stack()',
  'no-pin-syscall': 'collect_syscall() reads the registers without try_get_task_stack()',
  'no-pin-kthread': 'to_live_kthread() returns the on-stack struct kthread without try_get_task_stack()',
  'early-free-without-refcount': 'finish_task_switch() frees a dead task\'s stack ignoring pinners (no stack_refcount)',
  'cache-irq-unsafe': 'the 4.9 cache slot scan runs with irqs on, so an IRQ-context release can race it',
  'no-hotplug-drain': 'no free_vm_stack_cache() cpuhp teardown: an offlined CPU keeps its cached stacks',
  'double-put': 'a stack reader runs its put path (put_task_stack, put_task_struct) twice',
  'no-bad-fork-put': 'copy_process() failure path frees the task without put_task_stack()',
} as const;

export type Mutation = keyof typeof MUTATIONS;

export interface MutationFlags {
  noPin: ReadonlySet<ReaderKind>;
  earlyFreeWithoutRefcount: boolean;
  cacheIrqUnsafe: boolean;
  noHotplugDrain: boolean;
  doublePut: boolean;
  noBadForkPut: boolean;
}

export function isMutation(name: string): name is Mutation {
  return Object.hasOwn(MUTATIONS, name);
}

export function mutationFlags(ms: readonly Mutation[]): MutationFlags {
  const noPin = new Set<ReaderKind>();
  if (ms.includes('no-pin-stack-trace')) noPin.add('stack-trace');
  if (ms.includes('no-pin-wchan')) noPin.add('wchan');
  if (ms.includes('no-pin-syscall')) noPin.add('syscall');
  if (ms.includes('no-pin-kthread')) noPin.add('kthread');
  return {
    noPin,
    earlyFreeWithoutRefcount: ms.includes('early-free-without-refcount'),
    cacheIrqUnsafe: ms.includes('cache-irq-unsafe'),
    noHotplugDrain: ms.includes('no-hotplug-drain'),
    doublePut: ms.includes('double-put'),
    noBadForkPut: ms.includes('no-bad-fork-put'),
  };
}
