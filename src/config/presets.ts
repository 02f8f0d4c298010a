// Named kernel versions as knob settings. Each preset cites the commit that
// made it differ from the one before (see ../shared/reference/kernel-stack-lifecycle.md §1.5).
import type { KernelConfig } from './knobs.ts';

const ZONE_PAGES_DEFAULT = 1 << 18; // 1 GiB of 4 KiB pages: plenty for stacks, small enough to fragment.

/** Linux 4.8: order-2 page stacks with thread_info at their base, freed with the task_struct. */
const linux48: KernelConfig = {
  name: 'linux-4.8',
  THREAD_INFO_IN_TASK: false,
  VMAP_STACK: false,
  NR_CACHED_STACKS: 0,
  THREAD_SIZE_ORDER: 2,
  STACK_FREE: 'rcu',
  CACHE_FULL: 'vfree',
  CACHE_ATOMIC: 'irq-off',
  ZERO_ON_REUSE: false,
  MEMCG_KMEM: true,
  MEMCG_CHARGE: 'alloc',
  STACK_ACCOUNT: 'release',
  HOTPLUG_DRAIN: false,
  RCU_USERS: false,
  DUP_ORDER: 'stack-first',
  LAZY_MAX_PAGES: 0,
  VMAP_PURGE: 'sync',
  VFREE_IN_IRQ_DEFERS: true,
  ZONE_PAGES: ZONE_PAGES_DEFAULT,
  VMAP_POOLS: false,
  KTHREAD_ON_STACK: true,
};

/** The 4.9 series without ac496bf48d97 (its last patch): vmapped, refcounted, freed early, no cache. */
const linux49nocache: KernelConfig = {
  ...linux48,
  name: 'linux-4.9-nocache',
  THREAD_INFO_IN_TASK: true,
  VMAP_STACK: true,
  STACK_FREE: 'early',
};

/** v4.9.0: two-slot per-CPU cache, irq-off scan, synchronous vfree when full, no memset on reuse. */
const linux49: KernelConfig = { ...linux49nocache, name: 'linux-4.9', NR_CACHED_STACKS: 2 };

/** 4.10: vfree_atomic() for the cache-full path (0f110a9b956c); drain work instead of sync purge; kmalloc'd struct kthread. */
const linux410: KernelConfig = {
  ...linux49,
  name: 'linux-4.10',
  CACHE_FULL: 'vfree-atomic',
  VMAP_PURGE: 'work',
  KTHREAD_ON_STACK: false, // 1da5c46fa965 "kthread: Make struct kthread kmalloc'ed"
};

/** ≈4.14: cpuhp drain of the cache, per-CPU xchg/cmpxchg slots. */
const linux414: KernelConfig = { ...linux410, name: 'linux-4.14', HOTPLUG_DRAIN: true, CACHE_ATOMIC: 'xchg' };

/** 4.19: memset on reuse (4.17, e01e80634ecd) and per-assignment memcg charge (9b6f7e163cd0). */
const linux419: KernelConfig = { ...linux414, name: 'linux-4.19', ZERO_ON_REUSE: true, MEMCG_CHARGE: 'assign' };

/**
 * 5.18 as released: cache-full release through call_rcu with a cache retry in the
 * callback (e540bf3162e8), accounting and memcg uncharge in do_exit (1a03d3f13ffe),
 * task copied before the stack is taken (546c42b2c5c1); rcu_users since 5.4; it
 * already had 4.17's memset, 4.19's per-assignment charge and the cpuhp drain.
 */
const linux518: KernelConfig = {
  ...linux419,
  name: 'linux-5.18',
  CACHE_FULL: 'rcu-retry',
  STACK_ACCOUNT: 'exit',
  DUP_ORDER: 'copy-first',
  RCU_USERS: true,
};

/** 6.18, what the reference machine runs: 5.18 plus vmap nodes and their size-class pools (6.9). */
const linux618: KernelConfig = { ...linux518, name: 'linux-6.18', VMAP_POOLS: true };

export const PRESETS: Readonly<Record<string, KernelConfig>> = {
  'linux-4.8': linux48,
  'linux-4.9-nocache': linux49nocache,
  'linux-4.9': linux49,
  'linux-4.10': linux410,
  'linux-4.14': linux414,
  'linux-4.19': linux419,
  'linux-5.18': linux518,
  'linux-6.18': linux618,
};

export const DEFAULT_PRESET = 'linux-6.18';
