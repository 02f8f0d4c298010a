// Where the simulated scheduler puts a new or woken task. The stack cache is
// per CPU, so placement alone decides much of its hit rate: a parent that
// forks on one CPU while its children die on another misses every time.
//
// `default` follows the 6.x CFS/EEVDF paths for a 2-CPU, one-LLC machine
// (kernel/sched/fair.c):
// - fork: select_task_rq_fair(WF_FORK) → sched_balance_find_dst_cpu() →
//   find_idlest_group(): the child goes to the group with more idle CPUs; the
//   local group wins ties. A CPU that went idle moments ago still carries its
//   PELT utilisation, so it only counts as idle once that has decayed
//   (`idleSettleNs`).
// - wakeup: wake_affine_idle() then select_idle_sibling(): a WF_SYNC wakeup
//   from a CPU running only the waker goes to the waker's CPU; otherwise the
//   previous CPU if idle, else the waker's CPU if idle, else the previous CPU.
import type { Sim, SimTask } from './engine.ts';

export interface Placement {
  readonly name: string;
  forkCpu(sim: Sim, parent: SimTask, child: SimTask): number;
  wakeCpu(sim: Sim, task: SimTask, wakerCpu: number, sync: boolean): number;
}

export interface DefaultPlacementParams {
  /** How long a CPU must have been idle before fork balancing sees it as idle. */
  idleSettleNs: number;
}

export const DEFAULT_PLACEMENT_PARAMS: DefaultPlacementParams = { idleSettleNs: 0 };

export class DefaultPlacement implements Placement {
  readonly name = 'default';
  constructor(private readonly p: DefaultPlacementParams = DEFAULT_PLACEMENT_PARAMS) {}

  forkCpu(sim: Sim, parent: SimTask): number {
    const local = parent.cpu;
    let best = local;
    let bestIdle = this.idleForBalance(sim, local) ? 1 : 0;
    for (const c of sim.cpus) {
      if (c.index === local || !c.online) continue;
      const idle = this.idleForBalance(sim, c.index) ? 1 : 0;
      if (idle > bestIdle) {
        best = c.index;
        bestIdle = idle;
      }
    }
    return best;
  }

  wakeCpu(sim: Sim, task: SimTask, wakerCpu: number, sync: boolean): number {
    const prev = sim.cpus[task.cpu].online ? task.cpu : wakerCpu;
    const waker = sim.cpus[wakerCpu];
    if (sync && waker.nrRunning <= 1) return wakerCpu;
    if (isIdle(sim, prev)) return prev;
    if (isIdle(sim, wakerCpu)) return wakerCpu;
    for (const c of sim.cpus) if (c.online && isIdle(sim, c.index)) return c.index;
    return prev;
  }

  private idleForBalance(sim: Sim, cpu: number): boolean {
    const c = sim.cpus[cpu];
    return isIdle(sim, cpu) && sim.now - c.idleSinceNs >= this.p.idleSettleNs;
  }
}

function isIdle(sim: Sim, cpu: number): boolean {
  const c = sim.cpus[cpu];
  return c.online && c.curr === null && c.rq.length === c.rqHead;
}

/** `pin:N`: every task on CPU N, as under `taskset -c N`. */
export class PinnedPlacement implements Placement {
  readonly name: string;
  constructor(private readonly cpu: number) {
    this.name = `pin:${cpu}`;
  }
  forkCpu(): number {
    return this.cpu;
  }
  wakeCpu(): number {
    return this.cpu;
  }
}

export class PlacementError extends Error {}

export function parsePlacement(spec: string, cpuCount: number): Placement {
  if (spec === 'default') return new DefaultPlacement();
  const m = /^pin:(\d+)$/.exec(spec);
  if (m) {
    const cpu = Number(m[1]);
    if (cpu >= cpuCount) throw new PlacementError(`--placement ${spec}: only CPUs 0-${cpuCount - 1} exist`);
    return new PinnedPlacement(cpu);
  }
  throw new PlacementError(`--placement ${spec}: expected 'default' or 'pin:CPU'`);
}
