// One simulation: a config, a workload, N CPUs, a placement and a seed in; the
// result row of `kstack sim` out. Everything in the row is counted by the
// model or measured on the simulated clock.
import type { KernelConfig } from '../config/knobs.ts';
import { type CostTable, defaultCosts } from '../cost/table.ts';
import type { Tracer } from '../kernel/events.ts';
import { Kernel, type Violation } from '../kernel/kernel.ts';
import type { Mutation } from '../kernel/mutations.ts';
import { Sim, type SimParams } from './engine.ts';
import { parsePlacement } from './placement.ts';
import { Rng } from './rng.ts';
import { parseWorkload } from './workloads.ts';

export interface SimRequest {
  config: KernelConfig;
  workload: string;
  cpus: number;
  placement: string;
  ops: number;
  seed: number;
  costs?: CostTable;
  tracer?: Tracer;
  mutations?: readonly Mutation[];
  /** Model a run recorded with tracing on (each recorded tracepoint costs costs.tracepointNs). */
  traced?: boolean;
  sim?: Partial<SimParams>;
  /** Progress observer (ops done, ops requested); never changes the run. */
  onProgress?: (opsDone: number, ops: number) => void;
}

export interface SimResult {
  config: string;
  workload: string;
  cpus: number;
  placement: string;
  seed: number;
  traced: boolean;
  ops: number;
  usPerOp: number;
  simulatedUs: number;
  forks: number;
  forkFailures: number;
  stackCache: { hits: number; misses: number; hitRate: number; missRate: number };
  perCpu: { cpu: number; hits: number; misses: number; puts: number; vmallocs: number; vfrees: number }[];
  vmallocs: number;
  vfrees: number;
  purges: number;
  tlbFlushes: number;
  tlbFlushIpis: number;
  rcuRetryHits: number;
  coldStacks: number;
  peakStackKiB: number;
  peakRcuPendingStacks: number;
  stackAllocUs: number;
  stackFreeUs: number;
  nrKernelStackKbAtEnd: number;
  events: number;
  boundHit: string | null;
  invariantProblems: string[];
  violations: Violation[];
}

export const DEFAULT_SIM_PARAMS: SimParams = {
  cpuCount: 2,
  tickNs: 4_000_000, // HZ=250, as the reference machine
  sliceNs: 3_000_000, // EEVDF base slice
  wakeupIdleCpuNs: 0, // from the cost table
  ipiSendNs: 0, // from the cost table
  migrationCostNs: 500_000, // sysctl_sched_migration_cost default
  // Unrelated activity measured in the traces' command windows: 0.15 arrivals/ms/CPU,
  // 10 µs (80%) or 200 µs (20%) runs (docs/placement.md, background.py).
  backgroundPerMs: 0.15,
  backgroundShortNs: 10_000,
  backgroundLongNs: 200_000,
  backgroundLongShare: 0.2,
  maxSimNs: 3_600_000_000_000,
  maxEvents: 2_000_000_000,
};

export function runSim(req: SimRequest): SimResult {
  const costs = req.costs ?? defaultCosts();
  const k = new Kernel({ config: req.config, costs, cpuCount: req.cpus, tracer: req.tracer, mutations: req.mutations, traced: req.traced });
  const params: SimParams = {
    ...DEFAULT_SIM_PARAMS,
    wakeupIdleCpuNs: costs.wakeupIdleCpuNs,
    ipiSendNs: costs.ipiSendNs,
    ...req.sim,
    cpuCount: req.cpus,
  };
  const placement = parsePlacement(req.placement, req.cpus, !!req.traced);
  const sim = new Sim(k, placement, new Rng(req.seed, 'placement'), params);
  for (let c = 0; c < req.cpus; c++) sim.spawn(20 + c, `kworker/${c}:1`, kworkerBehaviour, c, { kworker: true });
  if (params.backgroundPerMs > 0) {
    const bgRng = new Rng(req.seed, 'background');
    for (let c = 0; c < req.cpus; c++) {
      const t = sim.spawn(40 + c, 'background', new Background(params, bgRng), c);
      t.pinnedCpu = c;
    }
  }
  const { w, params: wp } = parseWorkload(req.workload);
  // The workload runs in its own memory cgroup, as on the reference machine (cgroup v1, non-root).
  const memcg = k.memcgCreate(0);
  const startCpu = placement.name.startsWith('pin:') ? Number(placement.name.slice(4)) : 0;
  w.setup({ sim, ops: req.ops, costs, rng: new Rng(req.seed, 'workload'), startCpu }, wp);
  for (const t of sim.spawnedTasks()) if (!t.kworker) k.setTaskMemcg(t.pid, memcg);
  const invariantProblems: string[] = [];
  if (req.onProgress) {
    const cb = req.onProgress;
    sim.onProgress = (done) => cb(done, req.ops);
  }
  sim.run();
  k.checkLeaksAtEnd(sim.now);
  invariantProblems.push(...k.checkInvariants());
  const st = k.stats;
  const lookups = st.cacheHits + st.cacheMisses;
  const ops = Math.max(sim.opsDone, 1);
  const endNs = sim.workloadDone ? sim.workloadEndNs : sim.now;
  return {
    config: req.config.name,
    workload: req.workload,
    cpus: req.cpus,
    placement: placement.name,
    seed: req.seed,
    traced: !!req.traced,
    ops: sim.opsDone,
    usPerOp: round3(endNs / 1000 / ops),
    simulatedUs: round3(endNs / 1000),
    forks: st.forks,
    forkFailures: st.forkFailures,
    stackCache: {
      hits: st.cacheHits,
      misses: st.cacheMisses,
      hitRate: lookups ? round6(st.cacheHits / lookups) : 0,
      missRate: lookups ? round6(st.cacheMisses / lookups) : 0,
    },
    perCpu: k.cpuStats.map((c, cpu) => ({ cpu, hits: c.hits, misses: c.misses, puts: c.puts, vmallocs: c.vmallocs, vfrees: c.vfrees })),
    vmallocs: st.vmallocs,
    vfrees: st.vfrees,
    purges: st.purges,
    tlbFlushes: st.tlbFlushes,
    tlbFlushIpis: st.tlbFlushIpis,
    rcuRetryHits: st.rcuRetryHits,
    coldStacks: st.coldStacks,
    peakStackKiB: (st.peakStackPages * 4096) / 1024,
    peakRcuPendingStacks: st.peakRcuPendingStacks,
    stackAllocUs: round3(st.stackAllocNs / 1000),
    stackFreeUs: round3(st.stackFreeNs / 1000),
    nrKernelStackKbAtEnd: k.nrKernelStackKb,
    events: sim.events,
    boundHit: sim.boundHit,
    invariantProblems,
    violations: k.violations,
  };
}

/** Unrelated per-CPU activity: Poisson arrivals of short and long runs, pinned to its CPU. */
class Background {
  constructor(
    private readonly p: SimParams,
    private readonly rng: Rng,
  ) {}
  step(sim: Sim, t: import('./engine.ts').SimTask): void {
    if (sim.workloadDone) {
      sim.block(t);
      return;
    }
    if (t.pc === 0) {
      t.pc = 1;
      const gapNs = Math.max(1000, Math.round((-Math.log(1 - this.rng.next()) / this.p.backgroundPerMs) * 1e6));
      sim.sleep(t, gapNs);
      return;
    }
    t.pc = 0;
    sim.compute(t, this.rng.chance(this.p.backgroundLongShare) ? this.p.backgroundLongNs : this.p.backgroundShortNs);
  }
}

/** A per-CPU kworker: runs whatever work the model queued on its CPU, then sleeps. */
const kworkerBehaviour = {
  step(sim: Sim, t: import('./engine.ts').SimTask): void {
    if (t.pc === 1) {
      t.pc = 0;
      sim.block(t);
      return;
    }
    if (sim.k.workPending(t.cpu)) {
      const s0 = sim.k.spentNs;
      sim.k.runWork(t.cpu, sim.now);
      t.pc = 1;
      sim.compute(t, Math.max(1, sim.k.spentNs - s0));
      return;
    }
    sim.block(t);
  },
};

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
