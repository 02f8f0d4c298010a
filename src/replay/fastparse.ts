// Fast paths for the payloads the replay reads on every line. Each works on a
// range [lo, hi) of a larger string (the reader's decoded chunk, or a record's
// payload with lo = 0), fills a reused PayloadFields instead of allocating, and
// leaves comms as ranges until someone needs the text (most never do: a comm
// matters only when a task is adopted or forked). The scans read the payload's
// bytes (PayloadFields.readBytes): the reader's own block when the string is
// the one it is handing out, else a copy of an ASCII payload. Whenever the fast
// path is unsure, or the payload is not ASCII, the general parser in
// src/trace/events.ts decides on the sliced payload, so both always give the
// same answer.
import type { PrevState } from '../kernel/kernel.ts';
import { asciiBytesOf } from '../trace/formats.ts';
import {
  ALLOC_VMAP_LAYOUT,
  asciiBytes,
  bytesAt,
  CLONE_THREAD,
  COMM_PID_PRIO_LAYOUT,
  EXIT_LAYOUT,
  FieldSpans,
  FORK_LAYOUT,
  FREE_VMAP_LAYOUT,
  KMEM_CACHE_ALLOC_LAYOUT,
  MIGRATE_LAYOUT,
  NEWTASK_LAYOUT,
  numberAt,
  PURGE_VMAP_LAYOUT,
  parseAllocVmapArea,
  parseFreeVmapAreaNoflush,
  parseKmemCacheAlloc,
  parsePurgeVmapAreaLazy,
  parseSchedMigrateTask,
  parseSchedProcessExit,
  parseSchedProcessFork,
  parseSchedProcessFree,
  parseSchedSwitch,
  parseSchedWakeup,
  parseTaskNewtask,
  type SchedSwitch,
  SWITCH_LAYOUT,
  splitGreedy,
  WAKEUP_LAYOUT,
} from '../trace/events.ts';

/** Event names the replay acts on, as small integers (dispatch without string compares). */
export const EV_OTHER = 0;
export const EV_SWITCH = 1;
export const EV_NEWTASK = 2;
export const EV_FORK = 3;
export const EV_EXIT = 4;
export const EV_FREE = 5;
export const EV_WAKEUP_NEW = 6;
export const EV_MIGRATE = 7;
export const EV_RCU = 8;
export const EV_KMEM_CACHE_ALLOC = 9;
export const EV_ALLOC_VMAP = 10;
export const EV_FREE_VMAP = 11;
export const EV_PURGE_VMAP = 12;
export const EV_TIMER_START = 13;
export const EV_TIMER_CANCEL = 14;
export const EV_WAKEUP = 15;

export function eventKind(event: string): number {
  switch (event) {
    case 'sched_switch':
      return EV_SWITCH;
    case 'task_newtask':
      return EV_NEWTASK;
    case 'sched_process_fork':
      return EV_FORK;
    case 'sched_process_exit':
      return EV_EXIT;
    case 'sched_process_free':
      return EV_FREE;
    case 'sched_wakeup_new':
      return EV_WAKEUP_NEW;
    case 'sched_wakeup':
      return EV_WAKEUP;
    case 'sched_migrate_task':
      return EV_MIGRATE;
    case 'rcu_utilization':
      return EV_RCU;
    case 'kmem_cache_alloc':
      return EV_KMEM_CACHE_ALLOC;
    case 'alloc_vmap_area':
      return EV_ALLOC_VMAP;
    case 'free_vmap_area_noflush':
      return EV_FREE_VMAP;
    case 'purge_vmap_area_lazy':
      return EV_PURGE_VMAP;
    case 'timer_start':
      return EV_TIMER_START;
    case 'timer_cancel':
      return EV_TIMER_CANCEL;
    default:
      return EV_OTHER;
  }
}

/** vmalloc:* events are the answer key; the driver must never be given them. */
export function isAnswerKeyKind(kind: number): boolean {
  return kind === EV_ALLOC_VMAP || kind === EV_FREE_VMAP || kind === EV_PURGE_VMAP;
}

const NO_BYTES = Buffer.alloc(0);
const P_COMM = asciiBytes('comm=');
const P_PID = asciiBytes('pid=');
const P_PREV_COMM = asciiBytes('prev_comm=');
const P_VA_START_COLON = asciiBytes('va_start: ');
const P_VA_START = asciiBytes('va_start=');
const P_START = asciiBytes('start=');

/**
 * The fields of one parsed payload. Which are set depends on the event (see
 * each parser); comms are `src[lo, hi)` until comm()/comm2() slices them.
 */
export class PayloadFields {
  readonly spans = new FieldSpans();
  /** The task the event is about (the child for task_newtask, the parent for sched_process_fork, prev for sched_switch). */
  pid = 0;
  /** sched_process_fork child, sched_switch next. */
  pid2 = 0;
  /** target_cpu, dest_cpu, size, nr_lazy. */
  num = 0;
  /** align. */
  num2 = 0;
  /** alloc_vmap_area failed. */
  num3 = 0;
  /** task_newtask: CLONE_THREAD; sched_process_exit: group_dead. */
  flag = false;
  /** sched_process_exit: group_dead was printed; sched_wakeup: target_cpu was. */
  flagKnown = false;
  /** va_start. */
  addr = 0n;
  /** sched_switch prev_state, only as the driver needs it. */
  dead = false;
  prevState: PrevState = 'S';
  private src = '';
  private lo = 0;
  private hi = 0;
  private src2 = '';
  private lo2 = 0;
  private hi2 = 0;
  /** After readBytes: the payload is b[bLo, bHi), and b[i] is the string's character i + shift. */
  b: Uint8Array = NO_BYTES;
  bLo = 0;
  bHi = 0;
  shift = 0;
  /** Where readBytes copies a payload that is not in the reader's block: a Buffer, as the block is, so the scans see one kind of array. */
  private copy = Buffer.alloc(256);

  /**
   * Points b at the bytes of s[lo, hi): the reader's block itself when `s` is
   * the block it is handing out (no copy), else a copy; false when the text
   * is not ASCII (the general parser then decides).
   */
  readBytes(s: string, lo: number, hi: number): boolean {
    const block = asciiBytesOf(s);
    if (block !== null) {
      this.b = block;
      this.bLo = lo;
      this.bHi = hi;
      this.shift = 0;
      return true;
    }
    const n = hi - lo;
    if (this.copy.length < n) this.copy = Buffer.alloc(Math.max(n, 2 * this.copy.length));
    const copy = this.copy;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(lo + i);
      if (c > 127) return false;
      copy[i] = c;
    }
    this.b = copy;
    this.bLo = 0;
    this.bHi = n;
    this.shift = lo;
    return true;
  }

  comm(): string {
    return this.src.slice(this.lo, this.hi);
  }

  comm2(): string {
    return this.src2.slice(this.lo2, this.hi2);
  }

  /** comm() is a worker of `cpu`'s normal-priority bound pool (isBoundKworkerAt), read in place. */
  commIsBoundKworker(cpu: number): boolean {
    return isBoundKworkerAt(this.src, this.lo, this.hi, cpu);
  }

  comm2IsBoundKworker(cpu: number): boolean {
    return isBoundKworkerAt(this.src2, this.lo2, this.hi2, cpu);
  }

  setComm(src: string, lo: number, hi: number): void {
    this.src = src;
    this.lo = lo;
    this.hi = hi;
  }

  setComm2(src: string, lo: number, hi: number): void {
    this.src2 = src;
    this.lo2 = lo;
    this.hi2 = hi;
  }

  setCommText(text: string): void {
    this.setComm(text, 0, text.length);
  }

  setComm2Text(text: string): void {
    this.setComm2(text, 0, text.length);
  }
}

/** task_newtask → pid (the child), comm, flag (CLONE_THREAD). */
export function parseNewtaskAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, NEWTASK_LAYOUT, P_PID, sp)) {
    const b = o.b;
    o.pid = numberAt(b, sp.start[0], sp.end[0]);
    o.setComm(s, sp.start[1] + o.shift, sp.end[1] + o.shift);
    // CLONE_THREAD is 0x10000: bit 0 of the fifth hex digit from the right.
    const d = sp.end[2] - 5;
    o.flag = d >= sp.start[2] && (hexValue(b[d]) & 1) !== 0;
    return true;
  }
  const n = parseTaskNewtask(s.slice(lo, hi));
  if (n === null) return false;
  o.pid = n.pid;
  o.setCommText(n.comm);
  o.flag = (n.cloneFlags & CLONE_THREAD) !== 0n;
  return true;
}

/** sched_process_fork → pid (parent), pid2 (child), comm2 (child_comm). */
export function parseForkAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, FORK_LAYOUT, P_COMM, sp)) {
    o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
    o.setComm2(s, sp.start[2] + o.shift, sp.end[2] + o.shift);
    o.pid2 = numberAt(o.b, sp.start[3], sp.end[3]);
    return true;
  }
  const f = parseSchedProcessFork(s.slice(lo, hi));
  if (f === null) return false;
  o.pid = f.pid;
  o.setComm2Text(f.childComm);
  o.pid2 = f.childPid;
  return true;
}

/** sched_process_exit → pid, flag (group_dead), flagKnown. */
export function parseExitAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi)) {
    if (splitGreedy(o.b, o.bLo, o.bHi, EXIT_LAYOUT, P_COMM, sp)) {
      o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
      o.flag = sp.end[3] - sp.start[3] === 4;
      o.flagKnown = true;
      return true;
    }
    // Without ` group_dead=` anywhere the general parser's first layout cannot
    // match, and it falls to the older one, as here.
    const gd = s.lastIndexOf(' group_dead=', hi - 12);
    if ((gd < lo || hi - lo < 12) && splitGreedy(o.b, o.bLo, o.bHi, COMM_PID_PRIO_LAYOUT, P_COMM, sp)) {
      o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
      o.flag = false;
      o.flagKnown = false;
      return true;
    }
  }
  const e = parseSchedProcessExit(s.slice(lo, hi));
  if (e === null) return false;
  o.pid = e.pid;
  o.flag = e.groupDead === true;
  o.flagKnown = e.groupDead !== null;
  return true;
}

/** sched_process_free → pid. */
export function parseFreeAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, COMM_PID_PRIO_LAYOUT, P_COMM, sp)) {
    o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
    return true;
  }
  const f = parseSchedProcessFree(s.slice(lo, hi));
  if (f === null) return false;
  o.pid = f.pid;
  return true;
}

/** sched_wakeup(_new) → pid, num (target_cpu), flagKnown (target_cpu was printed). */
export function parseWakeupAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, WAKEUP_LAYOUT, P_COMM, sp)) {
    o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
    o.num = numberAt(o.b, sp.start[3], sp.end[3]);
    o.flagKnown = true;
    return true;
  }
  const w = parseSchedWakeup(s.slice(lo, hi));
  if (w === null) return false;
  o.pid = w.pid;
  o.num = w.targetCpu ?? 0;
  o.flagKnown = w.targetCpu !== null;
  return true;
}

/** sched_migrate_task → pid, num (dest_cpu). */
export function parseMigrateAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, MIGRATE_LAYOUT, P_COMM, sp)) {
    o.pid = numberAt(o.b, sp.start[1], sp.end[1]);
    o.num = numberAt(o.b, sp.start[4], sp.end[4]);
    return true;
  }
  const m = parseSchedMigrateTask(s.slice(lo, hi));
  if (m === null) return false;
  o.pid = m.pid;
  o.num = m.destCpu;
  return true;
}

const P_CALL_SITE = asciiBytes('call_site=');
const TASK_STRUCT = asciiBytes('task_struct');

/**
 * kmem_cache_alloc → flag: the object is a task_struct (dup_task_struct()'s
 * allocation, where the stack is taken next): `name=task_struct`, or, on
 * kernels that do not print the name, a dup_task_struct call site.
 */
export function parseKmemTaskStructAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, KMEM_CACHE_ALLOC_LAYOUT, P_CALL_SITE, sp)) {
    o.flag = sp.end[2] - sp.start[2] === TASK_STRUCT.length && bytesAt(o.b, sp.start[2], TASK_STRUCT);
    return true;
  }
  const a = parseKmemCacheAlloc(s.slice(lo, hi));
  if (a === null) return false;
  o.flag = a.name === 'task_struct' || (a.name === null && a.callSite.startsWith('dup_task_struct'));
  return true;
}

/** alloc_vmap_area → addr (va_start), num (size), num2 (align), num3 (failed). */
export function parseAllocVmapAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, ALLOC_VMAP_LAYOUT, P_VA_START_COLON, sp)) {
    o.addr = BigInt(s.slice(sp.start[0] + o.shift, sp.end[0] + o.shift));
    o.num = numberAt(o.b, sp.start[1], sp.end[1]);
    o.num2 = numberAt(o.b, sp.start[2], sp.end[2]);
    o.num3 = numberAt(o.b, sp.start[5], sp.end[5]);
    return true;
  }
  const a = parseAllocVmapArea(s.slice(lo, hi));
  if (a === null) return false;
  o.addr = a.vaStart;
  o.num = a.sizeBytes;
  o.num2 = a.alignBytes;
  o.num3 = a.failed;
  return true;
}

/** free_vmap_area_noflush → addr (va_start), num (nr_lazy). */
export function parseFreeVmapAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, FREE_VMAP_LAYOUT, P_VA_START, sp)) {
    o.addr = BigInt(s.slice(sp.start[0] + o.shift, sp.end[0] + o.shift));
    o.num = numberAt(o.b, sp.start[1], sp.end[1]);
    return true;
  }
  const f = parseFreeVmapAreaNoflush(s.slice(lo, hi));
  if (f === null) return false;
  o.addr = f.vaStart;
  o.num = f.nrLazyPages;
  return true;
}

/** purge_vmap_area_lazy: only whether it parses. */
export function parsePurgeVmapAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, PURGE_VMAP_LAYOUT, P_START, o.spans)) return true;
  return parsePurgeVmapAreaLazy(s.slice(lo, hi)) !== null;
}

function hexValue(c: number): number {
  if (c <= 57) return c - 48;
  return (c | 32) - 87;
}

// ---------------------------------------------------------------------------
// sched_switch, the most common line in any trace: the kernel's TP_printk
// layout split greedily like the others. Anything unusual (a comm holding
// ` next_pid=`, the plugin rendering, a bad number) falls back to
// parseSchedSwitch, which decides.

const SWITCH_FIELDS = new PayloadFields();

export function parseSwitchFast(p: string): SchedSwitch | null {
  const o = SWITCH_FIELDS;
  const sp = o.spans;
  if (!o.readBytes(p, 0, p.length) || !splitGreedy(o.b, o.bLo, o.bHi, SWITCH_LAYOUT, P_PREV_COMM, sp)) return parseSchedSwitch(p);
  const text = (i: number): string => p.slice(sp.start[i] + o.shift, sp.end[i] + o.shift);
  return {
    prevComm: text(0),
    prevPid: numberAt(o.b, sp.start[1], sp.end[1]),
    prevPrio: numberAt(o.b, sp.start[2], sp.end[2]),
    prevState: text(3),
    nextComm: text(4),
    nextPid: numberAt(o.b, sp.start[5], sp.end[5]),
    nextPrio: numberAt(o.b, sp.start[6], sp.end[6]),
    rendering: 'tp_printk',
  };
}

/**
 * sched_switch → pid (prev), pid2 (next), comm (prev_comm), comm2 (next_comm),
 * dead (prev_state says the task is dead) and prevState as the model takes it.
 */
export function parseSwitchAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (o.readBytes(s, lo, hi) && splitGreedy(o.b, o.bLo, o.bHi, SWITCH_LAYOUT, P_PREV_COMM, sp)) {
    const b = o.b;
    o.pid = numberAt(b, sp.start[1], sp.end[1]);
    o.pid2 = numberAt(b, sp.start[5], sp.end[5]);
    o.setComm(s, sp.start[0] + o.shift, sp.end[0] + o.shift);
    o.setComm2(s, sp.start[4] + o.shift, sp.end[4] + o.shift);
    setState(o, b, sp.start[3], sp.end[3]);
    return true;
  }
  const p = parseSchedSwitch(s.slice(lo, hi));
  if (p === null) return false;
  o.pid = p.prevPid;
  o.pid2 = p.nextPid;
  o.setCommText(p.prevComm);
  o.setComm2Text(p.nextComm);
  // The letters match [A-Za-z|+]{1,32} in either rendering: ASCII.
  setState(o, asciiBytes(p.prevState), 0, p.prevState.length);
  return true;
}

/**
 * isDeadState (X, Z or x anywhere) and the model's PrevState (`R+`, `R`,
 * D-anything, else S) of the state letters b[a, e).
 */
function setState(o: PayloadFields, b: Uint8Array, a: number, e: number): void {
  let dead = false;
  for (let i = a; i < e; i++) {
    const c = b[i];
    if (c === 88 /* X */ || c === 90 /* Z */ || c === 120 /* x */) dead = true;
  }
  o.dead = dead;
  const n = e - a;
  const c0 = n > 0 ? b[a] : 0;
  if (n === 2 && c0 === 82 && b[a + 1] === 43) o.prevState = 'R+';
  else if (n === 1 && c0 === 82) o.prevState = 'R';
  else if (c0 === 68 /* D */) o.prevState = 'D';
  else o.prevState = 'S';
}

/** `kworker/N:M` (the CPU's normal-priority bound pool, system_wq's): not `kworker/N:MH` nor an unbound `kworker/uK:M`. */
export function isBoundKworkerOf(comm: string, cpu: number): boolean {
  return isBoundKworkerAt(comm, 0, comm.length, cpu);
}

/** isBoundKworkerOf on s[lo, hi), without making the string. */
export function isBoundKworkerAt(s: string, lo: number, hi: number, cpu: number): boolean {
  if (hi - lo < 11 || !s.startsWith('kworker/', lo)) return false;
  let i = lo + 8;
  let n = 0;
  const digits0 = i;
  for (let ch = s.charCodeAt(i); i < hi && ch >= 48 && ch <= 57; ch = s.charCodeAt(++i)) n = n * 10 + ch - 48;
  if (i === digits0 || n !== cpu || i >= hi || s.charCodeAt(i) !== 58) return false;
  const id0 = ++i;
  for (let ch = s.charCodeAt(i); i < hi && ch >= 48 && ch <= 57; ch = s.charCodeAt(++i));
  return i > id0 && (i === hi || s.charCodeAt(i) === 45);
}
