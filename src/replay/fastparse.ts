// Fast paths for the payloads the replay reads on every line. Each works on a
// range [lo, hi) of a larger string (the reader's decoded chunk, or a record's
// payload with lo = 0), fills a reused PayloadFields instead of allocating, and
// leaves comms as ranges until someone needs the text (most never do: a comm
// matters only when a task is adopted or forked). Whenever the fast path is
// unsure it asks the general parser in src/trace/events.ts on the sliced
// payload, so both always give the same answer.
import type { PrevState } from '../kernel/kernel.ts';
import {
  ALLOC_VMAP_LAYOUT,
  CLONE_THREAD,
  COMM_PID_PRIO_LAYOUT,
  EXIT_LAYOUT,
  FieldSpans,
  FORK_LAYOUT,
  FREE_VMAP_LAYOUT,
  MIGRATE_LAYOUT,
  NEWTASK_LAYOUT,
  numberAt,
  PURGE_VMAP_LAYOUT,
  parseAllocVmapArea,
  parseFreeVmapAreaNoflush,
  parsePurgeVmapAreaLazy,
  parseSchedMigrateTask,
  parseSchedProcessExit,
  parseSchedProcessFork,
  parseSchedProcessFree,
  parseSchedSwitch,
  parseSchedWakeup,
  parseTaskNewtask,
  type SchedSwitch,
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
    default:
      return EV_OTHER;
  }
}

/** vmalloc:* events are the answer key; the driver must never be given them. */
export function isAnswerKeyKind(kind: number): boolean {
  return kind === EV_ALLOC_VMAP || kind === EV_FREE_VMAP || kind === EV_PURGE_VMAP;
}

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

  comm(): string {
    return this.src.slice(this.lo, this.hi);
  }

  comm2(): string {
    return this.src2.slice(this.lo2, this.hi2);
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
  if (splitGreedy(s, lo, hi, NEWTASK_LAYOUT, 'pid=', sp)) {
    o.pid = numberAt(s, sp.start[0], sp.end[0]);
    o.setComm(s, sp.start[1], sp.end[1]);
    // CLONE_THREAD is 0x10000: bit 0 of the fifth hex digit from the right.
    const d = sp.end[2] - 5;
    o.flag = d >= sp.start[2] && (hexValue(s.charCodeAt(d)) & 1) !== 0;
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
  if (splitGreedy(s, lo, hi, FORK_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
    o.setComm2(s, sp.start[2], sp.end[2]);
    o.pid2 = numberAt(s, sp.start[3], sp.end[3]);
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
  if (splitGreedy(s, lo, hi, EXIT_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
    o.flag = sp.end[3] - sp.start[3] === 4;
    o.flagKnown = true;
    return true;
  }
  // Without ` group_dead=` anywhere the general parser's first layout cannot
  // match, and it falls to the older one, as here.
  const gd = s.lastIndexOf(' group_dead=', hi - 12);
  if ((gd < lo || hi - lo < 12) && splitGreedy(s, lo, hi, COMM_PID_PRIO_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
    o.flag = false;
    o.flagKnown = false;
    return true;
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
  if (splitGreedy(s, lo, hi, COMM_PID_PRIO_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
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
  if (splitGreedy(s, lo, hi, WAKEUP_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
    o.num = numberAt(s, sp.start[3], sp.end[3]);
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
  if (splitGreedy(s, lo, hi, MIGRATE_LAYOUT, 'comm=', sp)) {
    o.pid = numberAt(s, sp.start[1], sp.end[1]);
    o.num = numberAt(s, sp.start[4], sp.end[4]);
    return true;
  }
  const m = parseSchedMigrateTask(s.slice(lo, hi));
  if (m === null) return false;
  o.pid = m.pid;
  o.num = m.destCpu;
  return true;
}

/** alloc_vmap_area → addr (va_start), num (size), num2 (align), num3 (failed). */
export function parseAllocVmapAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const sp = o.spans;
  if (splitGreedy(s, lo, hi, ALLOC_VMAP_LAYOUT, 'va_start: ', sp)) {
    o.addr = BigInt(s.slice(sp.start[0], sp.end[0]));
    o.num = numberAt(s, sp.start[1], sp.end[1]);
    o.num2 = numberAt(s, sp.start[2], sp.end[2]);
    o.num3 = numberAt(s, sp.start[5], sp.end[5]);
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
  if (splitGreedy(s, lo, hi, FREE_VMAP_LAYOUT, 'va_start=', sp)) {
    o.addr = BigInt(s.slice(sp.start[0], sp.end[0]));
    o.num = numberAt(s, sp.start[1], sp.end[1]);
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
  if (splitGreedy(s, lo, hi, PURGE_VMAP_LAYOUT, 'start=', o.spans)) return true;
  return parsePurgeVmapAreaLazy(s.slice(lo, hi)) !== null;
}

function hexValue(c: number): number {
  if (c <= 57) return c - 48;
  return (c | 32) - 87;
}

// ---------------------------------------------------------------------------
// sched_switch, the most common line in any trace: the kernel's TP_printk layout
// read with lastIndexOf instead of the general field splitter. Anything unusual
// (a comm holding ` next_pid=`, the plugin rendering, a bad number) falls back
// to parseSchedSwitch, which decides.

export function parseSwitchFast(p: string): SchedSwitch | null {
  const o = SWITCH_SCRATCH;
  if (!switchOffsets(p, 0, p.length, o)) return parseSchedSwitch(p);
  return {
    prevComm: p.slice(o.prevCommLo, o.prevCommHi),
    prevPid: o.prevPid,
    prevPrio: o.prevPrio,
    prevState: p.slice(o.stateLo, o.stateHi),
    nextComm: p.slice(o.nextCommLo, o.nextCommHi),
    nextPid: o.nextPid,
    nextPrio: o.nextPrio,
    rendering: 'tp_printk',
  };
}

interface SwitchOffsets {
  prevCommLo: number;
  prevCommHi: number;
  prevPid: number;
  prevPrio: number;
  stateLo: number;
  stateHi: number;
  nextCommLo: number;
  nextCommHi: number;
  nextPid: number;
  nextPrio: number;
}

const SWITCH_SCRATCH: SwitchOffsets = {
  prevCommLo: 0,
  prevCommHi: 0,
  prevPid: 0,
  prevPrio: 0,
  stateLo: 0,
  stateHi: 0,
  nextCommLo: 0,
  nextCommHi: 0,
  nextPid: 0,
  nextPrio: 0,
};

/** lastIndexOf(sep) of a match lying wholly in [lo, end), or -1. */
function lastIn(s: string, sep: string, lo: number, end: number): number {
  const from = end - sep.length;
  if (from < lo) return -1;
  const at = s.lastIndexOf(sep, from);
  return at < lo ? -1 : at;
}

/**
 * The fast layout of s[lo, hi) into `o`: false when parseSchedSwitch must
 * decide. The searches are those of the payload-string version, shifted by lo:
 * `lastIndexOf(sep)` over the payload finds the last match ending by its end,
 * and `lastIndexOf(sep, arrow)` the last one starting at or before the arrow.
 */
function switchOffsets(s: string, lo: number, hi: number, o: SwitchOffsets): boolean {
  const arrow = lastIn(s, ' ==> next_comm=', lo, hi);
  const nextPidAt = lastIn(s, ' next_pid=', lo, hi);
  const nextPrioAt = lastIn(s, ' next_prio=', lo, hi);
  if (arrow < 0 || !s.startsWith('prev_comm=', lo) || hi - lo < 10) return false;
  const prevPidAt = lastIn(s, ' prev_pid=', lo, Math.min(hi, arrow + 10));
  const prevPrioAt = lastIn(s, ' prev_prio=', lo, Math.min(hi, arrow + 11));
  const stateAt = lastIn(s, ' prev_state=', lo, Math.min(hi, arrow + 12));
  if (prevPidAt < 0 || !(prevPidAt < prevPrioAt && prevPrioAt < stateAt && arrow < nextPidAt && nextPidAt < nextPrioAt)) {
    return false;
  }
  const prevPid = digits(s, prevPidAt + 10, prevPrioAt);
  const prevPrio = digits(s, prevPrioAt + 11, stateAt);
  const nextPid = digits(s, nextPidAt + 10, nextPrioAt);
  const nextPrio = digits(s, nextPrioAt + 11, hi);
  if (prevPid < 0 || prevPrio < 0 || nextPid < 0 || nextPrio < 0 || !stateOk(s, stateAt + 12, arrow)) return false;
  o.prevCommLo = lo + 10;
  o.prevCommHi = prevPidAt;
  o.prevPid = prevPid;
  o.prevPrio = prevPrio;
  o.stateLo = stateAt + 12;
  o.stateHi = arrow;
  o.nextCommLo = arrow + 15;
  o.nextCommHi = nextPidAt;
  o.nextPid = nextPid;
  o.nextPrio = nextPrio;
  return true;
}

/** /^[A-Za-z|+]{1,32}$/.test(s.slice(a, b)), as parseSchedSwitch checks it, without the slice. */
function stateOk(s: string, a: number, b: number): boolean {
  if (b - a < 1 || b - a > 32) return false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 124 || c === 43)) return false;
  }
  return true;
}

/**
 * sched_switch → pid (prev), pid2 (next), comm (prev_comm), comm2 (next_comm),
 * dead (prev_state says the task is dead) and prevState as the model takes it.
 */
export function parseSwitchAt(s: string, lo: number, hi: number, o: PayloadFields): boolean {
  const w = SWITCH_SCRATCH;
  if (switchOffsets(s, lo, hi, w)) {
    o.pid = w.prevPid;
    o.pid2 = w.nextPid;
    o.setComm(s, w.prevCommLo, w.prevCommHi);
    o.setComm2(s, w.nextCommLo, w.nextCommHi);
    setState(o, s, w.stateLo, w.stateHi);
    return true;
  }
  const p = parseSchedSwitch(s.slice(lo, hi));
  if (p === null) return false;
  o.pid = p.prevPid;
  o.pid2 = p.nextPid;
  o.setCommText(p.prevComm);
  o.setComm2Text(p.nextComm);
  setState(o, p.prevState, 0, p.prevState.length);
  return true;
}

/**
 * isDeadState (X, Z or x anywhere) and the model's PrevState (`R+`, `R`,
 * D-anything, else S) of the state letters s[a, b).
 */
function setState(o: PayloadFields, s: string, a: number, b: number): void {
  let dead = false;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c === 88 /* X */ || c === 90 /* Z */ || c === 120 /* x */) dead = true;
  }
  o.dead = dead;
  const n = b - a;
  const c0 = n > 0 ? s.charCodeAt(a) : 0;
  if (n === 2 && c0 === 82 && s.charCodeAt(a + 1) === 43) o.prevState = 'R+';
  else if (n === 1 && c0 === 82) o.prevState = 'R';
  else if (c0 === 68 /* D */) o.prevState = 'D';
  else o.prevState = 'S';
}

/** The decimal in s[from, to), or -1 unless it is 1-10 digits. */
function digits(s: string, from: number, to: number): number {
  if (to <= from || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
