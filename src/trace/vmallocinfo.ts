// The kernel stacks that exist when a recording starts, read from
// /proc/vmallocinfo (mm/vmalloc.c, vmalloc_info_show() in 6.x, s_show()
// before 6.2). A stack allocated before the trace and freed during it shows
// only as a free_vmap_area_noflush of an address the trace never allocated;
// this list is how the answer key (replay/scorer.ts) knows it was a stack.
//
// The addresses are printed with %pK: with kptr_restrict 0 they are hashed,
// with 2 hidden, and only with 1 (and CAP_SYSLOG) real. readStackAreas() sets
// kptr_restrict to 1 for the one read and writes the old value back before it
// returns, whatever happens.
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The functions alloc_thread_stack_node() is inlined into on some kernel
 * build: __vmalloc_node_range() records __builtin_return_address(0) as the
 * area's caller, which is whichever of these the compiler kept out of line.
 */
export const STACK_CALLERS: ReadonlySet<string> = new Set([
  'alloc_thread_stack_node',
  'dup_task_struct',
  'copy_process',
  'kernel_clone',
  '_do_fork',
  'do_fork',
  'fork_idle',
  'create_io_thread',
  'kernel_thread',
  'user_mode_thread',
]);

/** The stack-like areas of one /proc/vmallocinfo text. */
export interface StackAreas {
  /** Area size in bytes (THREAD_SIZE plus the guard page) → area start addresses (hex). */
  bySize: Record<string, string[]>;
  /** Areas per caller (function name without offset). */
  callers: Record<string, number>;
}

/** Lines `0xSTART-0xEND SIZE caller+0xOFF/0xLEN pages=N vmalloc ...` whose caller is a fork path. */
export function parseVmallocinfo(text: string): StackAreas {
  const bySize: Record<string, string[]> = {};
  const callers: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^0x([0-9a-f]+)-0x[0-9a-f]+\s+(\d+)\s+([A-Za-z0-9_.]+)\+0x[0-9a-f]+\/0x[0-9a-f]+\s+pages=\d+.*\bvmalloc\b/.exec(line);
    if (m === null) continue;
    // GCC's clones keep the name before a suffix: dup_task_struct.isra.0, copy_process.constprop.0.
    const caller = m[3].split('.')[0];
    if (!STACK_CALLERS.has(caller)) continue;
    (bySize[m[2]] ??= []).push(`0x${m[1]}`);
    callers[caller] = (callers[caller] ?? 0) + 1;
  }
  return { bySize, callers };
}

/** Real (unhashed) kernel addresses: in the upper half of a 64-bit address space. */
export function addressesAreReal(a: StackAreas): boolean {
  const all = Object.values(a.bySize).flat();
  return all.length > 0 && all.every((s) => s.length === 18 && /^0x[89a-f]/.test(s));
}

export type StackAreasResult = { ok: true; areas: StackAreas; kptrRestrict: string; restoreError: string | null } | { ok: false; why: string; restoreError: string | null };

/** Reads /proc/vmallocinfo with kptr_restrict at 1, restoring it before returning. */
export function readStackAreas(proc = '/proc'): StackAreasResult {
  const knob = `${proc}/sys/kernel/kptr_restrict`;
  let old: string;
  try {
    old = readFileSync(knob, 'utf8').trim();
  } catch (e) {
    return { ok: false, why: `${knob}: ${(e as Error).message}`, restoreError: null };
  }
  let text: string | null = null;
  let why = '';
  let changed = false;
  let restoreError: string | null = null;
  try {
    if (old !== '1') {
      writeFileSync(knob, '1');
      changed = true;
    }
    text = readFileSync(`${proc}/vmallocinfo`, 'utf8');
  } catch (e) {
    why = (e as Error).message;
  } finally {
    if (changed) {
      try {
        writeFileSync(knob, old);
      } catch (e) {
        restoreError = `${knob} (left at 1, was ${old}): ${(e as Error).message}`;
      }
    }
  }
  if (text === null) return { ok: false, why: `${proc}/vmallocinfo with kptr_restrict 1: ${why}`, restoreError };
  const areas = parseVmallocinfo(text);
  if (!addressesAreReal(areas)) return { ok: false, why: `${proc}/vmallocinfo shows no stack areas at real addresses (kptr_restrict was ${old}; lockdown?)`, restoreError };
  return { ok: true, areas, kptrRestrict: old, restoreError };
}
