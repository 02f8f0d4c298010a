// Kconfig-style knobs. A config is data: every behavioural difference between
// kernel versions that the model encodes is one knob here, selected by a preset
// (presets.ts) and overridable with `--set K=V` or a real `.config` (kconfig.ts).
import { InputError } from '../errors.ts';

/** How a released stack that finds the per-CPU cache full is disposed of. */
export type CacheFullPolicy =
  /** v4.9: synchronous vfree() in finish_task_switch (free_thread_stack, v4.9). */
  | 'vfree'
  /** 4.10–5.17: vfree_atomic(): llist_add + schedule_work (0f110a9b956c). */
  | 'vfree-atomic'
  /** ≥5.18: call_rcu(thread_stack_free_rcu), which retries the cache (e540bf3162e8). */
  | 'rcu-retry';

export interface KernelConfig {
  /** Preset this config was derived from, plus overrides, e.g. `linux-6.18+NR_CACHED_STACKS=4`. */
  name: string;
  /** thread_info lives in task_struct (15f4eae70d36, 4.9) instead of at the stack base. */
  THREAD_INFO_IN_TASK: boolean;
  /** Stacks are vmalloc'd with a guard page (4.9) instead of order-N buddy pages. */
  VMAP_STACK: boolean;
  /** Per-CPU cached stacks (NR_CACHED_STACKS in kernel/fork.c); 0 disables the cache. */
  NR_CACHED_STACKS: number;
  /** THREAD_SIZE = PAGE_SIZE << THREAD_SIZE_ORDER; x86_64: 2 (16 KiB), 3 with KASAN. */
  THREAD_SIZE_ORDER: number;
  /**
   * When a dead task's stack is released: `early` = at its final finish_task_switch
   * (68f24b08ee89, needs THREAD_INFO_IN_TASK); `rcu` = with the task_struct, after
   * the RCU grace period that delayed_put_task_struct waits for (≤4.8).
   */
  STACK_FREE: 'early' | 'rcu';
  CACHE_FULL: CacheFullPolicy;
  /** Slot scan: `irq-off` read-then-write (v4.9) or this_cpu_xchg/cmpxchg (≥4.11). */
  CACHE_ATOMIC: 'irq-off' | 'xchg';
  /** memset(THREAD_SIZE) of a reused cached stack (e01e80634ecd, 4.17). */
  ZERO_ON_REUSE: boolean;
  /** Kernel stacks are charged to the memory cgroup. */
  MEMCG_KMEM: boolean;
  /**
   * `alloc`: __GFP_ACCOUNT at vmalloc only, never recharged on reuse (4.9–4.18);
   * `assign`: memcg_charge_kernel_stack on every assignment (9b6f7e163cd0, 4.19).
   */
  MEMCG_CHARGE: 'alloc' | 'assign';
  /** NR_KERNEL_STACK_KB and memcg uncharge: at stack `release` (4.9) or in do_exit (`exit`, 1a03d3f13ffe, 5.18). */
  STACK_ACCOUNT: 'release' | 'exit';
  /** cpuhp teardown free_vm_stack_cache() drains an offlined CPU's cache (≈4.11). */
  HOTPLUG_DRAIN: boolean;
  /** task_struct.rcu_users (3fbd7ee285b2, 5.4): call_rcu by the last of release_task / finish_task_switch. */
  RCU_USERS: boolean;
  /** dup_task_struct order: stack allocated before (`stack-first`, 4.9) or after arch_dup_task_struct (`copy-first`, 546c42b2c5c1, 5.18). */
  DUP_ORDER: 'stack-first' | 'copy-first';
  /** lazy_max_pages(); 0 = the kernel's fls(num_online_cpus()) * (32 MiB / PAGE_SIZE). */
  LAZY_MAX_PAGES: number;
  /** Lazy purge: `sync` try_purge_vmap_area_lazy in the freeing context (4.9), `work` drain_vmap_work (≥4.10). */
  VMAP_PURGE: 'sync' | 'work';
  /** vfree() from interrupt context is deferred (vfree_atomic) to a per-CPU work item (all versions ≥4.9). */
  VFREE_IN_IRQ_DEFERS: boolean;
  /** Pages in the modelled zone (buddy allocator); 4 KiB each. */
  ZONE_PAGES: number;
  /** ≥6.9 vmap nodes: purged areas refill per-node size-class pools that allocation tries first (72210662c5a2). */
  VMAP_POOLS: boolean;
  /** struct kthread lives on the kthread's stack, so kthread_stop() must pin it (≤4.9; kmalloc'd since 4.10, 1da5c46fa965). */
  KTHREAD_ON_STACK: boolean;
}

export type KnobName = Exclude<keyof KernelConfig, 'name'>;

interface KnobSpec {
  kind: 'bool' | 'int' | 'enum';
  values?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
}

export const KNOBS: Record<KnobName, KnobSpec> = {
  THREAD_INFO_IN_TASK: { kind: 'bool', doc: 'thread_info inside task_struct, not at the stack base' },
  VMAP_STACK: { kind: 'bool', doc: 'vmalloc stacks with a guard page (else order-N buddy pages)' },
  NR_CACHED_STACKS: { kind: 'int', min: 0, max: 64, doc: 'per-CPU cached stacks (0 = no cache)' },
  THREAD_SIZE_ORDER: { kind: 'int', min: 1, max: 4, doc: 'THREAD_SIZE = 4 KiB << order (2 = 16 KiB)' },
  STACK_FREE: { kind: 'enum', values: ['early', 'rcu'], doc: 'release at final switch, or with task_struct after RCU' },
  CACHE_FULL: { kind: 'enum', values: ['vfree', 'vfree-atomic', 'rcu-retry'], doc: 'cache-full release path' },
  CACHE_ATOMIC: { kind: 'enum', values: ['irq-off', 'xchg'], doc: 'slot scan with irqs off or per-CPU xchg' },
  ZERO_ON_REUSE: { kind: 'bool', doc: 'memset a reused cached stack' },
  MEMCG_KMEM: { kind: 'bool', doc: 'charge kernel stacks to the memcg' },
  MEMCG_CHARGE: { kind: 'enum', values: ['alloc', 'assign'], doc: 'charge once at vmalloc, or on every assignment' },
  STACK_ACCOUNT: { kind: 'enum', values: ['release', 'exit'], doc: 'NR_KERNEL_STACK_KB dropped at release or in do_exit' },
  HOTPLUG_DRAIN: { kind: 'bool', doc: 'free_vm_stack_cache() on CPU offline' },
  RCU_USERS: { kind: 'bool', doc: 'task_struct rcu_users (5.4+)' },
  DUP_ORDER: { kind: 'enum', values: ['stack-first', 'copy-first'], doc: 'dup_task_struct order' },
  LAZY_MAX_PAGES: { kind: 'int', min: 0, max: 1 << 30, doc: 'lazy vmap purge threshold in pages (0 = kernel formula)' },
  VMAP_PURGE: { kind: 'enum', values: ['sync', 'work'], doc: 'lazy purge synchronously or from drain_vmap_work' },
  VFREE_IN_IRQ_DEFERS: { kind: 'bool', doc: 'vfree() in interrupt context defers to a work item' },
  ZONE_PAGES: { kind: 'int', min: 1024, max: 1 << 26, doc: 'pages in the modelled buddy zone' },
  KTHREAD_ON_STACK: { kind: 'bool', doc: 'struct kthread on the kthread stack (≤4.9)' },
  VMAP_POOLS: { kind: 'bool', doc: 'purged vmap areas go to size-class pools reused first (6.9+)' },
};

export class ConfigError extends InputError {}

/** Parses one `K=V` override against the knob table. */
export function parseKnobValue(name: string, raw: string): [KnobName, KernelConfig[KnobName]] {
  if (!(name in KNOBS)) {
    throw new ConfigError(`unknown knob '${name}'; known: ${Object.keys(KNOBS).join(', ')}`);
  }
  const knob = name as KnobName;
  const spec = KNOBS[knob];
  if (spec.kind === 'bool') {
    if (/^(y|yes|true|1|on)$/i.test(raw)) return [knob, true];
    if (/^(n|no|false|0|off)$/i.test(raw)) return [knob, false];
    throw new ConfigError(`${knob}=${raw}: expected y or n`);
  }
  if (spec.kind === 'int') {
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${knob}=${raw}: expected a whole number`);
    const v = Number(raw);
    if (v < (spec.min ?? 0) || v > (spec.max ?? Number.MAX_SAFE_INTEGER)) {
      throw new ConfigError(`${knob}=${raw}: expected ${spec.min} to ${spec.max}`);
    }
    return [knob, v];
  }
  if (!spec.values!.includes(raw)) {
    throw new ConfigError(`${knob}=${raw}: expected one of ${spec.values!.join(', ')}`);
  }
  return [knob, raw as KernelConfig[KnobName]];
}

/** Rejects combinations the kernel's Kconfig cannot produce. */
export function validateConfig(c: KernelConfig): void {
  if (c.STACK_FREE === 'early' && !c.THREAD_INFO_IN_TASK) {
    throw new ConfigError(
      `${c.name}: STACK_FREE=early needs THREAD_INFO_IN_TASK=y (a stack holding thread_info cannot die before its task_struct)`,
    );
  }
  if (c.NR_CACHED_STACKS > 0 && !c.VMAP_STACK) {
    throw new ConfigError(`${c.name}: NR_CACHED_STACKS>0 needs VMAP_STACK=y (the cache holds vm_structs)`);
  }
  if (c.CACHE_FULL === 'rcu-retry' && c.STACK_FREE !== 'early') {
    throw new ConfigError(`${c.name}: CACHE_FULL=rcu-retry needs STACK_FREE=early`);
  }
}
