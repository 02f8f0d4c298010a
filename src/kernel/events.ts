// The model's output interface: events shaped like the kernel's tracepoints, plus
// model-only events for what the kernel does not trace (a cache hit, a pin). A run
// of the model and a real trace can be diffed line by line, written as ftrace text
// (src/trace/ftrace-writer.ts) and exported to Perfetto.
//
// Hot paths call `tracer.enabled` first, so a run without listeners builds no
// event objects at all.

export type KernelEventName =
  // Real tracepoints (include/trace/events/{sched,task,vmalloc,kmem}.h).
  | 'task_newtask'
  | 'sched_process_fork'
  | 'sched_wakeup_new'
  | 'sched_wakeup'
  | 'sched_switch'
  | 'sched_migrate_task'
  | 'sched_process_exit'
  | 'sched_process_free'
  | 'alloc_vmap_area'
  | 'free_vmap_area_noflush'
  | 'purge_vmap_area_lazy'
  | 'mm_page_alloc'
  | 'mm_page_free'
  | 'rcu_utilization'
  | 'cpuhp_enter'
  // Model-only: stack cache and lifecycle.
  | 'stack_cache_hit'
  | 'stack_cache_miss'
  | 'stack_cache_put'
  | 'stack_rcu_pending'
  | 'stack_vfree'
  | 'stack_release'
  | 'stack_pin'
  | 'stack_unpin'
  | 'stack_pin_failed'
  | 'stack_access'
  | 'stack_cache_drain'
  | 'rcu_gp_start'
  | 'rcu_gp_end'
  | 'memcg_charge'
  | 'fork_failed'
  | 'kstack_violation';

/** Each event name as a small integer (the history ring stores these, not strings). */
export const EK = {
  task_newtask: 0,
  sched_process_fork: 1,
  sched_wakeup_new: 2,
  sched_wakeup: 3,
  sched_switch: 4,
  sched_migrate_task: 5,
  sched_process_exit: 6,
  sched_process_free: 7,
  alloc_vmap_area: 8,
  free_vmap_area_noflush: 9,
  purge_vmap_area_lazy: 10,
  mm_page_alloc: 11,
  mm_page_free: 12,
  rcu_utilization: 13,
  cpuhp_enter: 14,
  stack_cache_hit: 15,
  stack_cache_miss: 16,
  stack_cache_put: 17,
  stack_rcu_pending: 18,
  stack_vfree: 19,
  stack_release: 20,
  stack_pin: 21,
  stack_unpin: 22,
  stack_pin_failed: 23,
  stack_access: 24,
  stack_cache_drain: 25,
  rcu_gp_start: 26,
  rcu_gp_end: 27,
  memcg_charge: 28,
  fork_failed: 29,
  kstack_violation: 30,
} as const satisfies Record<KernelEventName, number>;

/** EK's inverse: an event kind's name. */
export const EVENT_NAMES: readonly KernelEventName[] = Object.keys(EK) as KernelEventName[];

/** Execution context of the event (the irq-info flags column). */
export type Ctx = 'task' | 'softirq' | 'hardirq';

export interface KernelEvent {
  tsNs: number;
  cpu: number;
  /** The task current on `cpu` (0 = idle). */
  pid: number;
  comm: string;
  ctx: Ctx;
  name: KernelEventName;
  /** Fields in the tracepoint's TP_printk order. */
  args: Record<string, number | string | boolean>;
}

export interface Tracer {
  readonly enabled: boolean;
  emit(e: KernelEvent): void;
}

export const NULL_TRACER: Tracer = { enabled: false, emit() {} };

/** Collects every event in memory (tests, small runs). */
export class ArrayTracer implements Tracer {
  readonly enabled = true;
  readonly events: KernelEvent[] = [];
  emit(e: KernelEvent): void {
    this.events.push(e);
  }
}

/** Fans out to several tracers; enabled if any is. */
export class TeeTracer implements Tracer {
  readonly enabled: boolean;
  constructor(private readonly sinks: Tracer[]) {
    this.enabled = sinks.some((s) => s.enabled);
  }
  emit(e: KernelEvent): void {
    for (const s of this.sinks) if (s.enabled) s.emit(e);
  }
}
