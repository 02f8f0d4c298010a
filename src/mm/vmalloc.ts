// The vmalloc address space as it concerns kernel stacks (mm/vmalloc.c):
// - free KVA in a tree ordered by address, augmented with the largest free block
//   below each node, searched for the lowest-address fit (find_vmap_lowest_match,
//   ≥5.2; the model uses the same policy for 4.9, whose cached-hole search also
//   returned the lowest fit);
// - every area carries a guard page (__get_vm_area_node adds PAGE_SIZE unless
//   VM_NO_GUARD), so a 16 KiB stack is a 20 KiB area at 16 KiB alignment and
//   consecutive stacks land 32 KiB apart;
// - vfree()d areas are lazy (free_vmap_area_noflush: PTEs cleared, no TLB flush)
//   until vmap_lazy_nr passes lazy_max_pages(), when one purge flushes the TLB for
//   the whole range once and returns the KVA (__purge_vmap_area_lazy);
// - ≥6.9 (vmap nodes, 72210662c5a2): purged areas refill size-class pools with
//   list_add (so the pool hands out the highest address first), which
//   node_alloc() tries before the global tree.
import { EK } from '../kernel/events.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { type KStack, StackState } from '../kernel/task.ts';
import { memcgUncharge } from './memcontrol.ts';
import { PAGE_SIZE, PageUse } from './page_alloc.ts';

/** VMALLOC_START on x86_64 with 4-level paging; addresses are kept as offsets from it. */
export const VMALLOC_START = 0xffffc90000000000n;
export const VMALLOC_END = 0xffffe8ffffffffffn;
/** VMALLOC_END - VMALLOC_START + 1: 32 TiB. */
const VMALLOC_BYTES = 32 * 1024 * 1024 * 1024 * 1024;
/** MAX_VA_SIZE_PAGES: pools exist for areas up to this many pages (mm/vmalloc.c, 6.9). */
const MAX_VA_SIZE_PAGES = 256;

const NIL = 0;

/** An augmented treap over free blocks [start, end), keyed by start, in flat arrays. */
class FreeTree {
  private start: number[] = [0];
  private end: number[] = [0];
  private left: number[] = [0];
  private right: number[] = [0];
  private prio: number[] = [0];
  /** Largest block size in the subtree (subtree_max_size in the kernel's augmented rb-tree). */
  private maxSize: number[] = [0];
  private freeNodes: number[] = [];
  private root = NIL;
  private prioState = 0x9e3779b9;
  count = 0;

  insert(start: number, end: number): void {
    const n = this.newNode(start, end);
    this.split(this.root, start);
    const l = this.splitL;
    const r = this.splitR;
    this.root = this.merge(this.merge(l, n), r);
    this.count++;
  }

  remove(start: number): void {
    this.split(this.root, start);
    const l = this.splitL;
    this.split(this.splitR, start + 1);
    const mid = this.splitL;
    const rest = this.splitR;
    if (mid === NIL) throw new Error(`vmap free tree: no block at ${start}`);
    this.freeNodes.push(mid);
    this.root = this.merge(l, rest);
    this.count--;
  }

  /** find_vmap_lowest_match(): the lowest-address block that holds `size` at `align`, or NIL. */
  lowestMatch(size: number, align: number): number {
    return this.lowest(this.root, size, align);
  }

  /** The free block ending exactly at `addr` (the left merge neighbour), or NIL. */
  endingAt(addr: number): number {
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      if (this.start[n] < addr) {
        best = n;
        n = this.right[n];
      } else n = this.left[n];
    }
    return best !== NIL && this.end[best] === addr ? best : NIL;
  }

  /** The free block starting exactly at `addr` (the right merge neighbour), or NIL. */
  startingAt(addr: number): number {
    let n = this.root;
    while (n !== NIL) {
      if (this.start[n] === addr) return n;
      n = addr < this.start[n] ? this.left[n] : this.right[n];
    }
    return NIL;
  }

  startOf(n: number): number {
    return this.start[n];
  }

  endOf(n: number): number {
    return this.end[n];
  }

  totalFree(): number {
    let sum = 0;
    const stack = [this.root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === NIL) continue;
      sum += this.end[n] - this.start[n];
      stack.push(this.left[n], this.right[n]);
    }
    return sum;
  }

  private lowest(n: number, size: number, align: number): number {
    if (n === NIL || this.maxSize[n] < size) return NIL;
    const l = this.lowest(this.left[n], size, align);
    if (l !== NIL) return l;
    // is_within_this_va()
    const aligned = Math.ceil(this.start[n] / align) * align;
    if (aligned + size <= this.end[n]) return n;
    return this.lowest(this.right[n], size, align);
  }

  private newNode(start: number, end: number): number {
    // Deterministic priorities (xorshift32): the tree shape never depends on anything external.
    let x = this.prioState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.prioState = x >>> 0;
    const n = this.freeNodes.pop() ?? this.start.length;
    this.start[n] = start;
    this.end[n] = end;
    this.left[n] = NIL;
    this.right[n] = NIL;
    this.prio[n] = this.prioState;
    this.maxSize[n] = end - start;
    return n;
  }

  private update(n: number): void {
    let m = this.end[n] - this.start[n];
    const l = this.left[n];
    const r = this.right[n];
    if (l !== NIL && this.maxSize[l] > m) m = this.maxSize[l];
    if (r !== NIL && this.maxSize[r] > m) m = this.maxSize[r];
    this.maxSize[n] = m;
  }

  /** split() results, in fields so the hot path allocates nothing. */
  private splitL = NIL;
  private splitR = NIL;

  /** Splits into keys < key (splitL) and keys >= key (splitR). */
  private split(n: number, key: number): void {
    if (n === NIL) {
      this.splitL = NIL;
      this.splitR = NIL;
      return;
    }
    if (this.start[n] < key) {
      this.split(this.right[n], key);
      this.right[n] = this.splitL;
      this.update(n);
      this.splitL = n;
      return;
    }
    this.split(this.left[n], key);
    this.left[n] = this.splitR;
    this.update(n);
    this.splitR = n;
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.prio[a] > this.prio[b]) {
      this.right[a] = this.merge(this.right[a], b);
      this.update(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]);
    this.update(b);
    return b;
  }
}

export interface VmapArea {
  start: number;
  bytes: number;
}

export interface PurgeResult {
  start: number;
  end: number;
  areas: number;
}

export class VmapSpace {
  private readonly free = new FreeTree();
  /** Lazily freed areas awaiting purge, in free order (the purge sorts them by address). */
  private lazyStart: number[] = [];
  private lazyBytes: number[] = [];
  /** Size-class pools, index = pages - 1 (vn->pool[], one vmap node modelled). */
  private readonly pools: VmapArea[][] = [];
  /** vmap_lazy_nr: pages in lazily freed areas (guard page included). */
  lazyPages = 0;
  busyAreas = 0;
  busyBytes = 0;

  constructor(private readonly usePools: boolean) {
    this.free.insert(0, VMALLOC_BYTES);
  }

  /** alloc_vmap_area(): a pool hit first (≥6.9), else the lowest fit in the free tree. */
  alloc(bytes: number, align: number): VmapArea | null {
    const fromPool = this.usePools ? this.poolTake(bytes, align) : null;
    if (fromPool) {
      this.busyAreas++;
      this.busyBytes += bytes;
      return fromPool;
    }
    const fit = this.free.lowestMatch(bytes, align);
    if (fit === NIL) return null;
    const fs = this.free.startOf(fit);
    const fe = this.free.endOf(fit);
    const start = Math.ceil(fs / align) * align;
    // adjust_va_to_fit_type(): FL, LE, RE or NE fit.
    this.free.remove(fs);
    if (start > fs) this.free.insert(fs, start);
    if (start + bytes < fe) this.free.insert(start + bytes, fe);
    this.busyAreas++;
    this.busyBytes += bytes;
    return { start, bytes };
  }

  /** free_vmap_area_noflush(): the area goes lazy; returns vmap_lazy_nr after it. */
  freeLazy(start: number, bytes: number): number {
    this.busyAreas--;
    this.busyBytes -= bytes;
    this.lazyStart.push(start);
    this.lazyBytes.push(bytes);
    this.lazyPages += bytes / PAGE_SIZE;
    return this.lazyPages;
  }

  /** __purge_vmap_area_lazy(): one TLB flush over [min start, max end), then the KVA is reusable. */
  purge(): PurgeResult | null {
    if (this.lazyStart.length === 0) return null;
    const areas: VmapArea[] = this.lazyStart.map((start, i) => ({ start, bytes: this.lazyBytes[i] }));
    areas.sort((a, b) => a.start - b.start);
    this.lazyStart = [];
    this.lazyBytes = [];
    const start = areas[0].start;
    const end = areas[areas.length - 1].start + areas[areas.length - 1].bytes;
    for (const va of areas) {
      this.lazyPages -= va.bytes / PAGE_SIZE;
      if (this.usePools && this.poolAdd(va)) continue;
      this.mergeIntoFree(va);
    }
    return { start, end, areas: areas.length };
  }

  lazyAreaCount(): number {
    return this.lazyStart.length;
  }

  /** Bytes in the free tree plus pools plus lazy plus busy must equal the whole space. */
  checkConservation(): string[] {
    let pooled = 0;
    for (const p of this.pools) if (p) for (const va of p) pooled += va.bytes;
    const lazy = this.lazyPages * PAGE_SIZE;
    const total = this.free.totalFree() + pooled + lazy + this.busyBytes;
    return total === VMALLOC_BYTES ? [] : [`vmalloc space: ${total} bytes accounted, expected ${VMALLOC_BYTES}`];
  }

  private poolTake(bytes: number, align: number): VmapArea | null {
    const pool = this.pools[bytes / PAGE_SIZE - 1];
    if (!pool || pool.length === 0) return null;
    // node_pool_del_va(): list_first_entry, taken only if aligned, else rotated to the tail.
    const va = pool[pool.length - 1];
    if (va.start % align !== 0) {
      pool.pop();
      pool.unshift(va);
      return null;
    }
    pool.pop();
    return va;
  }

  private poolAdd(va: VmapArea): boolean {
    const idx = va.bytes / PAGE_SIZE - 1;
    if (idx >= MAX_VA_SIZE_PAGES) return false;
    if (!this.pools[idx]) this.pools[idx] = [];
    this.pools[idx].push(va); // list_add: head insertion, so the last purged (highest) is taken first
    return true;
  }

  /** merge_or_add_vmap_area(): coalesce with the free neighbours on either side. */
  private mergeIntoFree(va: VmapArea): void {
    let start = va.start;
    let end = va.start + va.bytes;
    const before = this.free.endingAt(start);
    if (before !== NIL) {
      start = this.free.startOf(before);
      this.free.remove(start);
    }
    const after = this.free.startingAt(end);
    if (after !== NIL) {
      const afterStart = this.free.startOf(after);
      end = this.free.endOf(after);
      this.free.remove(afterStart);
    }
    this.free.insert(start, end);
  }
}

/** Formats a model VA offset as the kernel address (hex, as in free_vmap_area_noflush). */
export function vaHex(offset: number): string {
  return `0x${(VMALLOC_START + BigInt(offset)).toString(16)}`;
}

/** Formats a model VA offset as alloc_vmap_area prints va_start (decimal %lu). */
export function vaDecimal(offset: number): string {
  return (VMALLOC_START + BigInt(offset)).toString(10);
}

/** lazy_max_pages(): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE). */
export function lazyMaxPages(onlineCpus: number): number {
  const fls = onlineCpus === 0 ? 0 : 32 - Math.clz32(onlineCpus);
  return fls * ((32 * 1024 * 1024) / PAGE_SIZE);
}

// ---------------------------------------------------------------------------
// The vmalloc entry points the stack code calls, on the model's state.

/**
 * __vmalloc_node_range(THREAD_SIZE, THREAD_ALIGN, …) for a stack: kmalloc the
 * vm_struct, alloc_vmap_area() with the guard page, one order-0 page per
 * PAGE_SIZE, and map them (vmap_pages_range).
 */
export function vmallocStack(k: Kernel, cpu: number): KStack | null {
  const c = k.costs;
  const areaBytes = k.threadSize + PAGE_SIZE;
  k.spendAlloc(c.vmStructAllocNs + c.vmapAreaAllocNs);
  let va = k.vmap.alloc(areaBytes, k.threadSize);
  if (!va) {
    // alloc_vmap_area() overflow: purge the lazy areas and retry once.
    k.trace(cpu, 'alloc_vmap_area', { va_start: '0', size: areaBytes, align: k.threadSize, failed: 1 });
    purgeVmapAreaLazy(k, cpu);
    va = k.vmap.alloc(areaBytes, k.threadSize);
    if (!va) {
      k.stats.vmallocFailures++;
      return null;
    }
  }
  if (k.tracer.enabled) k.trace(cpu, 'alloc_vmap_area', { va_start: vaDecimal(va.start), size: areaBytes, align: k.threadSize, failed: 0 });
  else k.untracedTracepoint();
  const nrPages = k.threadSize / PAGE_SIZE;
  const pfns: number[] = [];
  for (let i = 0; i < nrPages; i++) {
    const got = k.zone.allocPages(0, cpu, PageUse.Stack);
    k.spendAlloc(c.pageAllocOrder0Ns + c.mapPageNs);
    if (!got) {
      for (const pfn of pfns) k.zone.freePagesAt(pfn, 0, cpu);
      k.vmap.freeLazy(va.start, va.bytes);
      k.stats.vmallocFailures++;
      k.stats.pageAllocFailures++;
      return null;
    }
    pfns.push(got.pfn);
  }
  // __GFP_ZERO: fresh stacks are zeroed where reused ones are (4.17+).
  if (k.cfg.ZERO_ON_REUSE) k.spendAlloc(c.zeroStackNs);
  const s = k.newStack();
  s.vmapped = true;
  s.addr = va.start;
  s.areaBytes = areaBytes;
  s.pfns = pfns;
  k.stats.vmallocs++;
  k.cpuStats[cpu].vmallocs++;
  k.stackPagesChanged(nrPages);
  return s;
}

/**
 * vfree(): from interrupt context it defers (vfree_atomic); otherwise
 * remove_vm_area() → free_unmap_vmap_area() → free_vmap_area_noflush(), and the
 * pages go back to the buddy allocator at once, before any TLB flush.
 */
export function vfree(k: Kernel, cpu: number, s: KStack): void {
  if (k.ctx !== 'task' && k.cfg.VFREE_IN_IRQ_DEFERS) {
    vfreeAtomic(k, cpu, s);
    return;
  }
  const c = k.costs;
  const nrPages = s.pfns.length;
  k.spendFree(c.vmapAreaFreeNs + nrPages * (c.unmapPageNs + c.pageFreeOrder0Ns));
  for (const pfn of s.pfns) {
    k.zone.setLastTouchNs(pfn, s.lastTouchNs);
    k.zone.freePagesAt(pfn, 0, cpu);
  }
  k.stackPagesChanged(-nrPages);
  if (s.memcg !== 0) memcgUncharge(k, s);
  s.state = StackState.FreedLazy;
  s.ownerPid = 0;
  s.cpu = -1;
  k.stats.vfrees++;
  k.cpuStats[cpu].vfrees++;
  if (k.tracing) k.trace(cpu, 'stack_vfree', { stack: s.id, va: s.addr });
  else k.noteK(cpu, EK.stack_vfree, s.id);
  const nrLazy = k.vmap.freeLazy(s.addr, s.areaBytes);
  const nrLazyMax = k.lazyMaxPages();
  if (k.tracer.enabled) k.trace(cpu, 'free_vmap_area_noflush', { va_start: vaHex(s.addr), nr_lazy: nrLazy, nr_lazy_max: nrLazyMax });
  else k.untracedTracepoint();
  k.forgetStack(s);
  if (nrLazy > nrLazyMax) {
    // v4.9: try_purge_vmap_area_lazy() right here; ≥4.10: schedule_work(&drain_vmap_work).
    if (k.cfg.VMAP_PURGE === 'sync') purgeVmapAreaLazy(k, cpu);
    else k.queueDrainWork(cpu);
  }
}

/** vfree_atomic(): llist_add into this CPU's vfree_deferred and schedule_work() on it. */
export function vfreeAtomic(k: Kernel, cpu: number, s: KStack): void {
  k.spendFree(k.costs.vfreeAtomicDeferNs);
  s.state = StackState.VfreeDeferred;
  s.cpu = cpu;
  s.ownerPid = 0;
  k.queueDeferredVfree(cpu, s);
}

/** delayed_vfree_work(): the kworker vfree()s everything on this CPU's llist. */
export function delayedVfreeWork(k: Kernel, cpu: number, list: KStack[]): void {
  for (const s of list) vfree(k, cpu, s);
}

/**
 * __purge_vmap_area_lazy(): one flush_tlb_kernel_range() over the whole batch
 * (on x86 an IPI to every other online CPU, the range being far above the
 * 33-page single-flush ceiling), then the areas are reusable.
 */
export function purgeVmapAreaLazy(k: Kernel, cpu: number): void {
  const c = k.costs;
  const r = k.vmap.purge();
  if (!r) return;
  const remote = k.onlineCpus() - 1;
  k.spendFree(c.purgeBaseNs + r.areas * c.purgePerAreaNs + c.tlbFlushAllCpuNs);
  k.stats.purges++;
  k.stats.purgedAreas += r.areas;
  k.stats.tlbFlushes++;
  k.stats.tlbFlushIpis += remote;
  k.stats.remoteTlbNs += remote * c.tlbFlushIpiRemoteNs;
  if (k.tracer.enabled) k.trace(cpu, 'purge_vmap_area_lazy', { start: vaHex(r.start), end: vaHex(r.end), num_purged: r.areas });
  else k.untracedTracepoint();
}
