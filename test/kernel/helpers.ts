// A tiny driver for unit tests: names CPUs and times explicitly, like every driver.
import { getPreset } from '../../src/config/index.ts';
import type { KernelConfig } from '../../src/config/knobs.ts';
import { defaultCosts } from '../../src/cost/table.ts';
import { ArrayTracer } from '../../src/kernel/events.ts';
import { Kernel } from '../../src/kernel/kernel.ts';
import type { Mutation } from '../../src/kernel/mutations.ts';

export function mkKernel(preset: string, over: Partial<KernelConfig> = {}, cpus = 2, mutations: Mutation[] = []) {
  const tracer = new ArrayTracer();
  const k = new Kernel({ config: { ...getPreset(preset), ZONE_PAGES: 1 << 14, ...over }, costs: defaultCosts(), cpuCount: cpus, tracer, mutations });
  return { k, tracer };
}

/** A thread created by `parent` on `cpu` that runs there and dies there; returns its pid. */
export function threadLife(k: Kernel, cpu: number, parent: number, t: number, dieOn = cpu): number {
  const c = k.kernelClone(cpu, t, parent, { thread: true });
  k.wakeUpNewTask(cpu, t + 1, c, dieOn);
  return c;
}

export function runAndDie(k: Kernel, cpu: number, pid: number, t: number, back: number): void {
  k.contextSwitch(cpu, t, pid, 'R');
  k.doExit(cpu, t + 1, pid, false);
  k.contextSwitch(cpu, t + 2, back, 'S');
}
