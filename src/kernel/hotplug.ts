// kernel/cpu.c as the stack cache sees it: taking a CPU down runs the cpuhp
// teardown callbacks on the control CPU — fork's free_vm_stack_cache (≈4.11+,
// "fork:vm_stack_cache"), RCU's callback migration, the page allocator's pcp
// drain — and lowers num_online_cpus(), hence lazy_max_pages().
import { delayedVfreeWork } from '../mm/vmalloc.ts';
import { freeVmStackCache } from './fork.ts';
import type { Kernel } from './kernel.ts';
import { rcuMigrateCallbacks } from './rcu.ts';

export function cpuDown(k: Kernel, ctlCpu: number, cpu: number): void {
  const pc = k.cpus[cpu];
  if (!pc.online) return;
  if (ctlCpu === cpu) throw new RangeError(`cpu ${cpu} cannot take itself down`);
  if (pc.curr.pid !== 0) throw new RangeError(`cpu ${cpu} still runs pid ${pc.curr.pid}; migrate it first`);
  pc.online = false;
  k.trace(ctlCpu, 'cpuhp_enter', { cpu, target: 'offline', fun: 'free_vm_stack_cache' });
  if (k.cfg.HOTPLUG_DRAIN && !k.mut.noHotplugDrain) freeVmStackCache(k, ctlCpu, cpu);
  rcuMigrateCallbacks(k, cpu, ctlCpu);
  // The dead CPU's workqueue pool is unbound: its pending vfree work runs elsewhere.
  if (pc.vfreeList.length > 0) {
    const list = pc.vfreeList;
    pc.vfreeList = [];
    pc.vfreeWorkPending = false;
    pc.workFromTask = false;
    delayedVfreeWork(k, ctlCpu, list);
  }
  if (pc.drainWorkPending) {
    pc.drainWorkPending = false;
    k.queueDrainWork(ctlCpu);
  }
  k.zone.drainPcp(cpu);
}

export function cpuUp(k: Kernel, ctlCpu: number, cpu: number): void {
  const pc = k.cpus[cpu];
  if (pc.online) return;
  pc.online = true;
  pc.rcu.qsPending = false;
  k.trace(ctlCpu, 'cpuhp_enter', { cpu, target: 'online', fun: 'free_vm_stack_cache' });
}
