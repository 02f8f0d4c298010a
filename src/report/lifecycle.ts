// Reconstructs what the model's event stream says about every kernel stack:
// its state, which CPU's cache slot holds it, the RCU queue, and the counters
// the exporters draw (per-CPU cache occupancy, RCU-pending stacks, stack memory,
// vmap_lazy_nr). It reads only KernelEvents, so the simulator, the replay and a
// saved event log all feed it the same way, and it never touches the model.
//
// The model names a stack by `args.stack` everywhere except a cache miss (the
// fresh vmalloc has no id yet); the stack then surfaces at its owner's
// stack_release. Callers that hold the whole stream resolve those first with
// `resolveMissStacks`; a streaming caller sees the stack as `pid N` until then.
import type { KernelEvent } from '../kernel/events.ts';

/** State names as src/kernel/task.ts spells them, plus the two the events imply. */
export type StackStateName =
  | 'ALLOCATED'
  | 'IN_USE'
  | 'TASK_DEAD'
  | 'RELEASED'
  | 'CACHED'
  | 'RCU_PENDING'
  | 'FREED_LAZY'
  | 'PAGES_FREED'
  | 'PURGED';

export interface StackView {
  key: string;
  state: StackStateName;
  /** CPU whose cache (state CACHED) or RCU list (RCU_PENDING) holds it; else the CPU of the last change. */
  cpu: number;
  slot: number;
  ownerPid: number;
  ownerComm: string;
  uses: number;
}

/** One stack's state change, with what it was, so a viewer can step backwards. */
export interface StackChange {
  key: string;
  from: StackStateName | null;
  to: StackStateName;
  cpu: number;
  slot: number;
  ownerPid: number;
}

export interface Counters {
  cacheOccupancy: number[];
  rcuPending: number;
  /** Stack pages allocated by events seen so far (relative: stacks born before the run are not in it). */
  stackPagesDelta: number;
  vmapLazyPages: number;
}

const PAGE_KIB = 4;

export function eventIsStackTake(e: KernelEvent): boolean {
  return e.name === 'stack_cache_hit' || e.name === 'stack_cache_miss' || e.name === 'mm_page_alloc';
}

/**
 * For each cache miss, the id its stack carries later (at stack_release,
 * stack_pin, ...), found by its owner: index of the miss event → stack id.
 */
export function resolveMissStacks(events: readonly KernelEvent[]): Map<number, number> {
  const out = new Map<number, number>();
  const missAt = new Map<number, number>(); // cpu → index of the miss not yet given a task
  const missOfPid = new Map<number, number>(); // pid → index of its stack's miss
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.name === 'stack_cache_miss') missAt.set(e.cpu, i);
    else if (e.name === 'stack_cache_hit' || e.name === 'mm_page_alloc' || e.name === 'fork_failed') missAt.delete(e.cpu);
    else if (e.name === 'task_newtask') {
      const m = missAt.get(e.cpu);
      if (m !== undefined) missOfPid.set(Number(e.args.pid), m);
      missAt.delete(e.cpu);
    } else if (typeof e.args.stack === 'number' && typeof e.args.pid === 'number') {
      const m = missOfPid.get(e.args.pid);
      if (m !== undefined) {
        out.set(m, e.args.stack);
        missOfPid.delete(e.args.pid);
      }
    }
  }
  return out;
}

export function stackKey(id: number): string {
  return `#${id}`;
}

export class Lifecycle {
  readonly stacks = new Map<string, StackView>();
  /** cpu → slot → stack key ('' = empty). */
  readonly slots: string[][] = [];
  /** Stacks waiting for a grace period, in call_rcu order. */
  readonly rcuQueue: string[] = [];
  readonly counters: Counters = { cacheOccupancy: [], rcuPending: 0, stackPagesDelta: 0, vmapLazyPages: 0 };
  private readonly stackOfPid = new Map<number, string>();
  /** cpu → the stack taken by a fork whose task_newtask has not come yet. */
  private readonly taking = new Map<number, string>();
  private readonly pagesOf = new Map<string, number>();
  private index = -1;

  constructor(
    cpuCount: number,
    private readonly missIds: ReadonlyMap<number, number> = new Map(),
  ) {
    for (let c = 0; c < cpuCount; c++) this.ensureCpu(c);
  }

  /** Applies one event; returns the stack changes it caused (often none). */
  apply(e: KernelEvent): StackChange[] {
    this.index++;
    if (e.cpu >= 0) this.ensureCpu(e.cpu);
    const out: StackChange[] = [];
    const a = e.args;
    const id = typeof a.stack === 'number' ? stackKey(a.stack) : '';
    switch (e.name) {
      case 'stack_cache_hit':
        this.move(out, id, 'ALLOCATED', e.cpu, -1, 0, '');
        this.taking.set(e.cpu, id);
        break;
      case 'stack_cache_miss': {
        const resolved = this.missIds.get(this.index);
        const key = resolved !== undefined ? stackKey(resolved) : `miss@${this.index}`;
        this.taking.set(e.cpu, key);
        this.move(out, key, 'ALLOCATED', e.cpu, -1, 0, '');
        break;
      }
      case 'alloc_vmap_area': {
        const key = this.taking.get(e.cpu);
        const pages = Number(a.size) / 4096 - 1; // the guard page is never backed
        if (key !== undefined && a.failed === 0) this.pagesOf.set(key, pages);
        if (a.failed === 0) this.counters.stackPagesDelta += pages;
        break;
      }
      case 'mm_page_alloc':
        this.move(out, id, 'ALLOCATED', e.cpu, -1, 0, '');
        this.taking.set(e.cpu, id);
        this.pagesOf.set(id, 1 << Number(a.order));
        this.counters.stackPagesDelta += 1 << Number(a.order);
        break;
      case 'task_newtask': {
        const key = this.taking.get(e.cpu);
        this.taking.delete(e.cpu);
        if (key === undefined) break;
        const pid = Number(a.pid);
        this.stackOfPid.set(pid, key);
        this.move(out, key, 'IN_USE', e.cpu, -1, pid, String(a.comm));
        const s = this.stacks.get(key);
        if (s) s.uses++;
        break;
      }
      case 'fork_failed':
        this.taking.delete(e.cpu);
        break;
      case 'sched_process_exit': {
        const key = this.stackOfPid.get(Number(a.pid));
        if (key !== undefined && this.stacks.get(key)?.state === 'IN_USE') this.move(out, key, 'TASK_DEAD', e.cpu, -1);
        break;
      }
      case 'stack_release':
        this.rekey(Number(a.pid), id);
        this.stackOfPid.delete(Number(a.pid));
        this.move(out, id, 'RELEASED', e.cpu, -1, Number(a.pid));
        break;
      case 'stack_cache_put':
        this.move(out, id, 'CACHED', e.cpu, Number(a.slot));
        break;
      case 'stack_rcu_pending':
        this.move(out, id, 'RCU_PENDING', e.cpu, -1);
        break;
      case 'stack_vfree':
        this.move(out, id, 'FREED_LAZY', e.cpu, -1);
        this.counters.stackPagesDelta -= this.pagesOf.get(id) ?? 4;
        this.pagesOf.delete(id);
        break;
      case 'free_vmap_area_noflush':
        this.counters.vmapLazyPages = Number(a.nr_lazy);
        break;
      case 'purge_vmap_area_lazy':
        this.counters.vmapLazyPages = 0;
        for (const s of this.stacks.values()) if (s.state === 'FREED_LAZY') this.move(out, s.key, 'PURGED', e.cpu, -1);
        break;
      case 'mm_page_free':
        this.move(out, id, 'PAGES_FREED', e.cpu, -1);
        this.counters.stackPagesDelta -= this.pagesOf.get(id) ?? 1 << Number(a.order);
        this.pagesOf.delete(id);
        break;
      default:
        break;
    }
    return out;
  }

  /** A streaming caller learns a missed stack's id late: give its provisional entry the real key. */
  private rekey(pid: number, id: string): void {
    const prov = this.stackOfPid.get(pid);
    if (prov === undefined || prov === id || id === '' || this.stacks.has(id)) return;
    const s = this.stacks.get(prov);
    if (!s) return;
    this.stacks.delete(prov);
    s.key = id;
    this.stacks.set(id, s);
    const pages = this.pagesOf.get(prov);
    if (pages !== undefined) {
      this.pagesOf.delete(prov);
      this.pagesOf.set(id, pages);
    }
  }

  stackKiB(baselineKiB: number): number {
    return baselineKiB + this.counters.stackPagesDelta * PAGE_KIB;
  }

  private ensureCpu(cpu: number): void {
    while (this.slots.length <= cpu) {
      this.slots.push([]);
      this.counters.cacheOccupancy.push(0);
    }
  }

  private move(out: StackChange[], key: string, to: StackStateName, cpu: number, slot: number, ownerPid?: number, ownerComm?: string): void {
    if (key === '') return;
    let s = this.stacks.get(key);
    const from = s ? s.state : null;
    if (!s) {
      s = { key, state: to, cpu, slot: -1, ownerPid: 0, ownerComm: '', uses: 0 };
      this.stacks.set(key, s);
    }
    this.leave(s);
    s.state = to;
    s.cpu = cpu;
    s.slot = slot;
    if (ownerPid !== undefined) s.ownerPid = ownerPid;
    if (ownerComm !== undefined && ownerComm !== '') s.ownerComm = ownerComm;
    this.enter(s);
    out.push({ key, from, to, cpu, slot, ownerPid: s.ownerPid });
    // Freed stacks are forgotten so a long run holds only the live ones.
    if (to === 'PURGED' || to === 'PAGES_FREED') this.stacks.delete(key);
  }

  private leave(s: StackView): void {
    if (s.state === 'CACHED' && s.slot >= 0) {
      const row = this.slots[s.cpu];
      if (row[s.slot] === s.key) {
        row[s.slot] = '';
        this.counters.cacheOccupancy[s.cpu]--;
      }
    }
    if (s.state === 'RCU_PENDING') {
      const i = this.rcuQueue.indexOf(s.key);
      if (i >= 0) this.rcuQueue.splice(i, 1);
      this.counters.rcuPending--;
    }
  }

  private enter(s: StackView): void {
    if (s.state === 'CACHED' && s.slot >= 0) {
      this.ensureCpu(s.cpu);
      const row = this.slots[s.cpu];
      while (row.length <= s.slot) row.push('');
      row[s.slot] = s.key;
      this.counters.cacheOccupancy[s.cpu]++;
    }
    if (s.state === 'RCU_PENDING') {
      this.rcuQueue.push(s.key);
      this.counters.rcuPending++;
    }
  }
}
