// The cost model: one table of nanoseconds per kernel primitive. Configs differ
// only in which primitives they execute, never in what a primitive costs, so a
// difference in modelled time between two configs is a difference in behaviour.
// Every value names its source; docs/costs.md has the derivations.

export interface CostEntry {
  ns: number;
  source: string;
}

export const COSTS = {
  // Buddy allocator (mm/page_alloc.c).
  pageAllocOrder0Ns: { ns: 0, source: '' },
  pageFreeOrder0Ns: { ns: 0, source: '' },
  pageAllocOrder2FastNs: { ns: 0, source: '' },
  pageFreeOrder2Ns: { ns: 0, source: '' },
  pageAllocOrder2SlowNs: { ns: 0, source: '' },
  // vmalloc (mm/vmalloc.c).
  vmapAreaAllocNs: { ns: 0, source: '' },
  vmapAreaFreeNs: { ns: 0, source: '' },
  vmStructAllocNs: { ns: 0, source: '' },
  mapPageNs: { ns: 0, source: '' },
  unmapPageNs: { ns: 0, source: '' },
  purgeBaseNs: { ns: 0, source: '' },
  purgePerAreaNs: { ns: 0, source: '' },
  tlbFlushAllCpuNs: { ns: 0, source: '' },
  tlbFlushIpiRemoteNs: { ns: 0, source: '' },
  vfreeAtomicDeferNs: { ns: 0, source: '' },
  workItemNs: { ns: 0, source: '' },
  // Stack cache (kernel/fork.c).
  zeroStackNs: { ns: 0, source: '' },
  coldStackTouchNs: { ns: 0, source: '' },
  percpuXchgNs: { ns: 0, source: '' },
  irqSaveRestoreNs: { ns: 0, source: '' },
  // RCU (kernel/rcu/tree.c).
  callRcuNs: { ns: 0, source: '' },
  rcuCallbackNs: { ns: 0, source: '' },
  // memcg (mm/memcontrol.c) and vmstat.
  memcgChargePageNs: { ns: 0, source: '' },
  memcgUnchargePageNs: { ns: 0, source: '' },
  accountKernelStackNs: { ns: 0, source: '' },
  // Task lifecycle base costs (kernel/fork.c, kernel/exit.c, kernel/futex, kernel/sched).
  taskStructAllocNs: { ns: 0, source: '' },
  taskStructFreeNs: { ns: 0, source: '' },
  cloneBaseNs: { ns: 0, source: '' },
  exitBaseNs: { ns: 0, source: '' },
  futexWakeNs: { ns: 0, source: '' },
  futexWaitNs: { ns: 0, source: '' },
  contextSwitchNs: { ns: 0, source: '' },
  wakeupIdleCpuNs: { ns: 0, source: '' },
  threadRunNs: { ns: 0, source: '' },
  forkProcessExtraNs: { ns: 0, source: '' },
  execNs: { ns: 0, source: '' },
  waitNs: { ns: 0, source: '' },
} satisfies Record<string, CostEntry>;

export type CostName = keyof typeof COSTS;

/** Plain numbers for the hot paths, resolved once per run (with `--cost K=V` overrides). */
export type CostTable = Record<CostName, number>;

export function defaultCosts(overrides: Partial<CostTable> = {}): CostTable {
  const t = {} as CostTable;
  for (const k of Object.keys(COSTS) as CostName[]) t[k] = overrides[k] ?? COSTS[k].ns;
  return t;
}
