// Memory cgroups as far as kernel stacks go (mm/memcontrol.c): a charge of the
// stack's pages against a limit, and its uncharge. 4.9–4.18 charged once at
// vmalloc through __GFP_ACCOUNT, so a cached stack stayed charged to the memcg
// of whoever first allocated it (the bug 9b6f7e163cd0 fixed); ≥4.19 charges on
// every assignment (memcg_charge_kernel_stack) and uncharges at release (≥5.18:
// in do_exit).
import type { Kernel } from '../kernel/kernel.ts';
import type { KStack } from '../kernel/task.ts';

export interface Memcg {
  id: number;
  /** Charged pages (all kernel stacks; the model charges nothing else). */
  usagePages: number;
  /** 0 = unlimited. */
  limitPages: number;
  /** memory.stat kernel_stack, in KiB. */
  kernelStackKb: number;
  failcnt: number;
}

/** memcg id 0 is "no memcg" (root, uncharged); ids from 1 are created by memcgCreate. */
export function memcgCreate(k: Kernel, limitPages: number): number {
  const id = k.memcgs.length;
  k.memcgs.push({ id, usagePages: 0, limitPages, kernelStackKb: 0, failcnt: 0 });
  return id;
}

/** memcg_charge_kernel_stack() / __GFP_ACCOUNT: all of the stack's pages, or none. */
export function memcgCharge(k: Kernel, memcgId: number, s: KStack): boolean {
  if (memcgId === 0) return true;
  const m = k.memcgs[memcgId];
  const pages = s.pfns.length;
  k.spendAlloc(chargeCalls(s) * k.costs.memcgChargePageNs);
  if (m.limitPages > 0 && m.usagePages + pages > m.limitPages) {
    m.failcnt++;
    k.stats.memcgChargeFailures++;
    k.trace(k.curCpu, 'memcg_charge', { memcg: memcgId, stack: s.id, pages, ok: false });
    return false;
  }
  m.usagePages += pages;
  m.kernelStackKb += (pages * 4096) / 1024;
  s.memcg = memcgId;
  k.stats.memcgCharges++;
  return true;
}

export function memcgUncharge(k: Kernel, s: KStack): void {
  if (s.memcg === 0) return;
  const m = k.memcgs[s.memcg];
  const pages = s.pfns.length;
  k.spendFree(chargeCalls(s) * k.costs.memcgUnchargePageNs);
  m.usagePages -= pages;
  m.kernelStackKb -= (pages * 4096) / 1024;
  s.memcg = 0;
}

/**
 * One page_counter operation per allocation: an order-2 page stack is one
 * memcg_kmem_charge(page, gfp, order); a vmapped stack's pages are charged one
 * by one (__GFP_ACCOUNT per order-0 page, or memcg_charge_kernel_stack's loop).
 */
function chargeCalls(s: KStack): number {
  return s.vmapped ? s.pfns.length : 1;
}
