// The cost model: one table of nanoseconds per kernel primitive. Configs differ
// only in which primitives they execute, never in what a primitive costs, so a
// difference in modelled time between two configs is a difference in behaviour.
// Every value names its source; docs/costs.md has the derivations. The stack
// primitives are 2016-era bare-metal x86 (~3 GHz) figures, where the published
// deltas were measured; base costs that cancel between configs (clone, exit,
// futex, switch) were measured on the reference machine (Linux 6.18, 2 vCPUs).

export interface CostEntry {
  ns: number;
  source: string;
}

export const COSTS = {
  // Buddy allocator (mm/page_alloc.c).
  pageAllocOrder0Ns: { ns: 60, source: 'Gorman 2016-04-12 "Optimise page alloc/free fast paths v2": alloc-odr0 157-168 cycles/page (mmtests pagealloc-micro)' },
  pageFreeOrder0Ns: { ns: 30, source: 'Gorman 2016-04-12, same table: free-odr0 79-95 cycles' },
  pageAllocOrder2FastNs: { ns: 80, source: 'Gorman 2016-04-12, same table: alloc-odr2 218-233 cycles (zone freelist under zone->lock)' },
  pageFreeOrder2Ns: { ns: 55, source: 'Gorman 2016-04-12, same table: free-odr2 152-159 cycles' },
  pageAllocOrder2SlowNs: { ns: 50000, source: 'derived order of magnitude for direct compaction/reclaim (docs/costs.md); not in the calibration' },
  // vmalloc (mm/vmalloc.c).
  vmapAreaAllocNs: { ns: 250, source: 'derived from Rezki 2019 (1-page vmalloc+vfree 994 ns) and the 6.19 fast-path numbers (p:1 640 ns, p:4 1044 ns)' },
  vmapAreaFreeNs: { ns: 120, source: 'derived: find_vmap_area + free_vmap_area_noflush + two kfree' },
  vmStructAllocNs: { ns: 80, source: 'derived: two slab fast paths + setup_vmalloc_vm + find_vm_area (v4.9)' },
  mapPageNs: { ns: 45, source: 'derived: 20 ns PTE install + 25 ns first-touch dTLB miss on the new VA' },
  unmapPageNs: { ns: 15, source: 'derived: ptep_get_and_clear, lazy (no flush)' },
  purgeBaseNs: { ns: 1000, source: 'derived (docs/costs.md)' },
  purgePerAreaNs: { ns: 200, source: 'derived: rb_erase/merge + kfree per area; cf. Rezki 2019 busy-tree change' },
  tlbFlushAllCpuNs: { ns: 2000, source: 'x86 arch/x86/mm/tlb.c "Each single flush is about 100 ns"; IPI 1-2 µs on bare metal' },
  tlbFlushIpiRemoteNs: { ns: 1000, source: 'derived: IRQ + full flush + refill on each remote CPU; Amit ATC\'17' },
  vfreeAtomicDeferNs: { ns: 150, source: 'derived: llist_add + queue_work_on' },
  workItemNs: { ns: 1000, source: 'derived: kworker wakeup + two switches + process_one_work' },
  // Stack cache (kernel/fork.c).
  zeroStackNs: { ns: 150, source: 'derived at 32 B/cycle (Skylake); measured here 63 ns; Kees Cook e01e80634ecd: no meaningful change' },
  coldStackTouchNs: { ns: 300, source: 'derived: 32-48 cold stack lines × 6-10 ns (range 200-500); measured cold 16 KiB memset 1513 vs 84 ns hot' },
  stackHotWindowNs: {
    ns: 1_000_000,
    source: 'derived: a stack last used longer ago than this is out of a 1-2 MiB L2 on a busy core; an RCU grace period (≥4 ms at HZ=250) always exceeds it',
  },
  percpuXchgNs: { ns: 3, source: 'derived: un-LOCKed %gs cmpxchg' },
  irqSaveRestoreNs: { ns: 10, source: 'Brouer 2017: preempt_disable instead of local_irq_save saved 29 cycles at 4 GHz' },
  // RCU (kernel/rcu/tree.c).
  callRcuNs: { ns: 40, source: 'measured here ~90 ns in a VM (perf: __call_rcu_common); bare metal ~40' },
  rcuCallbackNs: { ns: 30, source: 'derived: rcu_do_batch per-callback overhead' },
  // memcg (mm/memcontrol.c) and vmstat.
  memcgChargePageNs: { ns: 120, source: 'derived: cgroup v1 kmem page_counter charge (hierarchical, unbatched); measured here ~250 per page' },
  memcgUnchargePageNs: { ns: 100, source: 'derived: cgroup v1 kmem+memory counters; measured here ~35 (6.x)' },
  accountKernelStackNs: { ns: 30, source: 'derived: 4 × mod_*_page_state; measured here ~115 (VM)' },
  // Task lifecycle base costs (kernel/fork.c, kernel/exit.c, kernel/futex, kernel/sched).
  taskStructAllocNs: { ns: 120, source: 'derived: the kmem_cache_alloc_node share of a measured 285 ns for alloc + arch_dup_task_struct (perf, reference machine)' },
  archDupTaskStructNs: { ns: 130, source: 'derived: the rest of that 285 ns, a ~10 KiB task_struct memcpy at ~32 B/cycle (arch_dup_task_struct)' },
  taskStructFreeNs: { ns: 150, source: 'measured here (perf, slab free in the RCU callback)' },
  cloneBaseNs: { ns: 1900, source: 'measured here: kernel_clone minus stack/task_struct/perf shares of a 7.1 µs raw clone cycle' },
  exitBaseNs: { ns: 1400, source: 'measured here: do_exit minus stack/futex/perf shares' },
  futexWakeNs: { ns: 200, source: 'measured here: FUTEX_WAKE with no waiter 93 ns + ttwu' },
  futexWaitNs: { ns: 200, source: 'measured here: same-CPU futex hop 741 ns = wait + wake + switch' },
  contextSwitchNs: { ns: 340, source: 'measured here: futex hop 741 ns, pipe hop 878 ns' },
  tracepointNs: {
    ns: 1500,
    source: 'measured on the reference machine: tbench loop pinned 24.0 µs/op while traced (pthread-loop-pin0.meta.json: 0.48 s / 20,000) vs 8.8 µs/op untraced, ~10 enabled tracepoints per op; charged only in --traced runs',
  },
  wakeupIdleCpuNs: {
    ns: 18000,
    source: 'measured on the reference machine (nested VM, halted vCPU): idle-CPU sched_wakeup to switch-in, medians 17-20 µs in the six traces (docs/placement.md); bare metal with C1 exit ~3 µs',
  },
  ipiSendNs: {
    ns: 10000,
    source: 'measured on the reference machine: a dying thread whose waker-side IPI targets the other, idle CPU reaches its final switch 19 µs after exit vs 7-10 µs locally (docs/placement.md)',
  },
  threadRunNs: { ns: 1700, source: 'measured here: tbench loop pinned 8771 ns minus raw clone 7.1 µs (glibc 2.36 thread start/exit)' },
  forkProcessExtraNs: { ns: 52000, source: 'measured here: tbench fork pinned 60.8 µs minus thread loop 8.8 µs' },
  execNs: { ns: 570000, source: 'measured here: tbench forkexec pinned 627 µs minus fork 61 µs' },
  waitNs: { ns: 400, source: 'derived: futex wait + reap bookkeeping' },
} satisfies Record<string, CostEntry>;

export type CostName = keyof typeof COSTS;

/** Plain numbers for the hot paths, resolved once per run (with `--cost K=V` overrides). */
export type CostTable = Record<CostName, number>;

export function defaultCosts(overrides: Partial<CostTable> = {}): CostTable {
  const t = {} as CostTable;
  for (const k of Object.keys(COSTS) as CostName[]) t[k] = overrides[k] ?? COSTS[k].ns;
  return t;
}
