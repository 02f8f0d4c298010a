// Typed parsers for the payloads (`TraceRecord.payload`) of the events the
// replay uses. Each returns a plain object, or null when the payload has
// neither the kernel's TP_printk layout nor, where one exists, the layout of
// libtraceevent's plugin (trace-cmd, perf); the replay counts the nulls.
//
// Formats follow include/trace/events/{sched,task,vmalloc,kmem,rcu}.h. A comm
// may hold spaces, `=` and even text like ` pid=`, so fields are split at the
// ` key=` separators searched from the right, each value checked, and the next
// separator to the left tried when a check fails. Blanks around a payload are
// ignored: trace-cmd pads the payload after the event name. Addresses and clone flags are
// bigint: a 64-bit kernel address does not fit a double.

export interface SchedSwitch {
  prevComm: string;
  prevPid: number;
  /** null when the plugin rendering omitted it. */
  prevPrio: number | null;
  /** The letters as printed: `R`, `R+`, `S`, `D`, `X`, `Z`, `D|K`, `x`, ... */
  prevState: string;
  nextComm: string;
  nextPid: number;
  nextPrio: number | null;
  /**
   * `tp_printk`: the kernel's own text. `plugin`: libtraceevent's sched_switch
   * plugin, whose state letters come from a table in userspace that can be
   * older than the kernel (see isDeadState).
   */
  rendering: 'tp_printk' | 'plugin';
}

/** sched_wakeup and sched_wakeup_new. */
export interface SchedWakeup {
  comm: string;
  pid: number;
  prio: number | null;
  /** null when not printed (3.x `success=` form without it, or the plugin without the field). */
  targetCpu: number | null;
  /** Only the 3.x kernels and the plugin print it. */
  success: number | null;
}

export interface SchedProcessFork {
  /** The parent. */
  comm: string;
  pid: number;
  childComm: string;
  childPid: number;
}

export interface TaskNewtask {
  /** The new task (not the parent, which is the record's pid). */
  pid: number;
  comm: string;
  /** u64 clone flags; test bits with the CLONE_* constants below. */
  cloneFlags: bigint;
  oomScoreAdj: number;
}

export interface SchedProcessExit {
  comm: string;
  pid: number;
  prio: number;
  /** null on kernels before `group_dead=` was added (2025). */
  groupDead: boolean | null;
}

/** sched_process_free (and any event with the `comm=%s pid=%d prio=%d` layout). */
export interface SchedProcessFree {
  comm: string;
  pid: number;
  prio: number;
}

export interface SchedMigrateTask {
  comm: string;
  pid: number;
  prio: number;
  origCpu: number;
  destCpu: number;
}

export interface AllocVmapArea {
  /** Printed in decimal (`va_start: %lu`), unlike every other address here. */
  vaStart: bigint;
  sizeBytes: number;
  alignBytes: number;
  vstart: bigint;
  vend: bigint;
  failed: number;
}

export interface FreeVmapAreaNoflush {
  vaStart: bigint;
  /** Lazily freed pages after this free, all areas together. */
  nrLazyPages: number;
  /** The purge threshold, lazy_max_pages(). */
  nrLazyMaxPages: number;
}

export interface PurgeVmapAreaLazy {
  start: bigint;
  end: bigint;
  numPurged: number;
}

export interface RcuUtilization {
  /** `Start RCU core`, `End RCU core`, `Start scheduler-tick`, ... */
  s: string;
}

export interface KmemCacheAlloc {
  /** `%pS`: `dup_task_struct+0x2e/0x1b0`, maybe with ` [module]`. */
  callSite: string;
  /** `%p`: hashed unless booted with no_hash_pointers; kept as printed. */
  ptr: string;
  /** The cache (`task_struct`); null before the Aug 2025 patch that added it. */
  name: string | null;
  bytesReq: number;
  bytesAlloc: number;
  /** `GFP_KERNEL|__GFP_ZERO`, `none`, or a hex remainder, as printed. */
  gfpFlags: string;
  node: number | null;
  accounted: boolean | null;
}

export interface TracingMarkWrite {
  text: string;
}

/** The markers the capture script of examples/traces writes into trace_marker. */
export type CaptureMarker =
  | { kind: 'begin'; readerPid: number; capturePid: number }
  | { kind: 'cmd_start'; pid: number }
  | { kind: 'cmd_end'; rc: number }
  | { kind: 'end' };

// include/uapi/linux/sched.h
export const CLONE_VM = 0x100n;
export const CLONE_FS = 0x200n;
export const CLONE_FILES = 0x400n;
export const CLONE_SIGHAND = 0x800n;
export const CLONE_VFORK = 0x4000n;
export const CLONE_PARENT = 0x8000n;
export const CLONE_THREAD = 0x10000n;
export const CLONE_UNTRACED = 0x800000n;
export const CLONE_IO = 0x80000000n;

/**
 * True when a sched_switch prev_state says the task is dead: `X` (EXIT_DEAD)
 * or `Z` (EXIT_ZOMBIE) on 4.14+ kernels, `x` (TASK_DEAD) on 3.x-4.13 kernels,
 * whose final switch shows the task state rather than the exit state.
 * Caveat: an old libtraceevent plugin ("SDTtZXxW") on a 4.14+ kernel prints
 * X and Z swapped and a parked kthread as `x`; see SchedSwitch.rendering.
 */
export function isDeadState(state: string): boolean {
  for (let i = 0; i < state.length; i++) {
    const c = state.charCodeAt(i);
    if (c === 88 /* X */ || c === 90 /* Z */ || c === 120 /* x */) return true;
  }
  return false;
}

/** `prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d`, or the plugin's `comm:pid [prio] S ==> comm:pid [prio]`. */
export function parseSchedSwitch(payload: string): SchedSwitch | null {
  const f = splitFields(payload, SWITCH_LAYOUT);
  if (f !== null) {
    return {
      prevComm: f[0],
      prevPid: Number(f[1]),
      prevPrio: Number(f[2]),
      prevState: f[3],
      nextComm: f[4],
      nextPid: Number(f[5]),
      nextPrio: Number(f[6]),
      rendering: 'tp_printk',
    };
  }
  return parsePluginSwitch(payload.trim());
}

/** sched_wakeup / sched_wakeup_new: `comm=%s pid=%d prio=%d target_cpu=%03d` (3.x: `... success=%d target_cpu=%03d`), or the plugin's `comm:pid [prio] success=1 CPU:003`. */
export function parseSchedWakeup(payload: string): SchedWakeup | null {
  let f = splitFields(payload, WAKEUP_LAYOUT);
  if (f !== null) {
    return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]), targetCpu: Number(f[3]), success: null };
  }
  f = splitFields(payload, WAKEUP_3X_LAYOUT);
  if (f !== null) {
    return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]), targetCpu: Number(f[4]), success: Number(f[3]) };
  }
  f = splitFields(payload, WAKEUP_OLD_LAYOUT);
  if (f !== null) {
    return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]), targetCpu: null, success: Number(f[3]) };
  }
  return parsePluginWakeup(payload.trim());
}

export const parseSchedWakeupNew = parseSchedWakeup;

/** `comm=%s pid=%d child_comm=%s child_pid=%d` */
export function parseSchedProcessFork(payload: string): SchedProcessFork | null {
  const f = splitFields(payload, FORK_LAYOUT);
  if (f === null) return null;
  return { comm: f[0], pid: Number(f[1]), childComm: f[2], childPid: Number(f[3]) };
}

/** `pid=%d comm=%s clone_flags=%lx oom_score_adj=%hd` (newest kernels: `%llx`); the flags are hex without `0x`. */
export function parseTaskNewtask(payload: string): TaskNewtask | null {
  const f = splitFields(payload, NEWTASK_LAYOUT);
  if (f === null) return null;
  return { pid: Number(f[0]), comm: f[1], cloneFlags: BigInt(`0x${f[2]}`), oomScoreAdj: Number(f[3]) };
}

/** `comm=%s pid=%d prio=%d group_dead=%s` (2025+), else `comm=%s pid=%d prio=%d`. */
export function parseSchedProcessExit(payload: string): SchedProcessExit | null {
  const f = splitFields(payload, EXIT_LAYOUT);
  if (f !== null) return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]), groupDead: f[3] === 'true' };
  const g = splitFields(payload, COMM_PID_PRIO_LAYOUT);
  if (g === null) return null;
  return { comm: g[0], pid: Number(g[1]), prio: Number(g[2]), groupDead: null };
}

/** `comm=%s pid=%d prio=%d` */
export function parseSchedProcessFree(payload: string): SchedProcessFree | null {
  const f = splitFields(payload, COMM_PID_PRIO_LAYOUT);
  if (f === null) return null;
  return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]) };
}

/** `comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d` */
export function parseSchedMigrateTask(payload: string): SchedMigrateTask | null {
  const f = splitFields(payload, MIGRATE_LAYOUT);
  if (f === null) return null;
  return { comm: f[0], pid: Number(f[1]), prio: Number(f[2]), origCpu: Number(f[3]), destCpu: Number(f[4]) };
}

/** `va_start: %lu size=%lu align=%lu vstart=0x%lx vend=0x%lx failed=%d` (the first separator is `: `). */
export function parseAllocVmapArea(payload: string): AllocVmapArea | null {
  const s = payload.trimStart();
  if (!s.startsWith('va_start: ')) return null;
  const f = splitFields(`va_start=${s.slice(10)}`, ALLOC_VMAP_LAYOUT);
  if (f === null) return null;
  return {
    vaStart: BigInt(f[0]),
    sizeBytes: Number(f[1]),
    alignBytes: Number(f[2]),
    vstart: BigInt(f[3]),
    vend: BigInt(f[4]),
    failed: Number(f[5]),
  };
}

/** `va_start=0x%lx nr_lazy=%lu nr_lazy_max=%lu` */
export function parseFreeVmapAreaNoflush(payload: string): FreeVmapAreaNoflush | null {
  const f = splitFields(payload, FREE_VMAP_LAYOUT);
  if (f === null) return null;
  return { vaStart: BigInt(f[0]), nrLazyPages: Number(f[1]), nrLazyMaxPages: Number(f[2]) };
}

/** `start=0x%lx end=0x%lx num_purged=%u` */
export function parsePurgeVmapAreaLazy(payload: string): PurgeVmapAreaLazy | null {
  const f = splitFields(payload, PURGE_VMAP_LAYOUT);
  if (f === null) return null;
  return { start: BigInt(f[0]), end: BigInt(f[1]), numPurged: Number(f[2]) };
}

/** `%s`: one of the fixed strings passed to trace_rcu_utilization(). */
export function parseRcuUtilization(payload: string): RcuUtilization | null {
  const s = payload.trim();
  return s.length === 0 ? null : { s };
}

/**
 * `call_site=%pS ptr=%p name=%s bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s`
 * (name= since the Aug 2025 patch "kmem/tracing: Add kmem name to kmem_cache_alloc
 * tracepoint"); older kernels print the same without name=, without accounted=
 * (before 6.0) and without node= (kmem_alloc class).
 */
export function parseKmemCacheAlloc(payload: string): KmemCacheAlloc | null {
  for (const layout of KMEM_LAYOUTS) {
    const f = splitFields(payload, layout);
    if (f === null) continue;
    const v = (key: string): string | null => {
      const i = layout.keys.indexOf(key);
      return i < 0 ? null : f[i];
    };
    const node = v('node');
    const accounted = v('accounted');
    return {
      callSite: f[0],
      ptr: f[1],
      name: v('name'),
      bytesReq: Number(v('bytes_req')),
      bytesAlloc: Number(v('bytes_alloc')),
      gfpFlags: v('gfp_flags') ?? '',
      node: node === null ? null : Number(node),
      accounted: accounted === null ? null : accounted === 'true',
    };
  }
  return null;
}

/**
 * Text written to trace_marker. ftrace prints the `print` event as
 * `tracing_mark_write: <text>`; tools that name the event `print` leave that
 * prefix in the payload, so it is dropped here.
 */
export function parseTracingMarkWrite(payload: string): TracingMarkWrite {
  const text = payload.startsWith('tracing_mark_write: ') ? payload.slice(20) : payload;
  return { text };
}

/** `capture: begin reader_pid=R capture_pid=P`, `capture: cmd_start pid=N`, `capture: cmd_end rc=R`, `capture: end`. */
export function parseCaptureMarker(text: string): CaptureMarker | null {
  const t = text.trim();
  let m = /^capture: begin reader_pid=(\d{1,10}) capture_pid=(\d{1,10})$/.exec(t);
  if (m !== null) return { kind: 'begin', readerPid: Number(m[1]), capturePid: Number(m[2]) };
  m = /^capture: cmd_start pid=(\d{1,10})$/.exec(t);
  if (m !== null) return { kind: 'cmd_start', pid: Number(m[1]) };
  m = /^capture: cmd_end rc=(-?\d{1,10})$/.exec(t);
  if (m !== null) return { kind: 'cmd_end', rc: Number(m[1]) };
  return t === 'capture: end' ? { kind: 'end' } : null;
}

// ---------------------------------------------------------------------------
// Keyed layouts: `k0=v0 k1=v1 ... kn=vn`.

type FieldKind = 'text' | 'word' | 'int' | 'udec' | 'hex' | 'hex0x' | 'state' | 'bool';

export interface Layout {
  keys: readonly string[];
  kinds: readonly FieldKind[];
  /** ` key=` for every key but the first, which is `key=` at the start. */
  seps: readonly string[];
  /** seps as ASCII bytes, and kinds as KIND_CODES, for splitGreedy. */
  sepBytes: readonly Uint8Array[];
  kindCodes: Uint8Array;
}

const K_TEXT = 0;
const K_WORD = 1;
const K_INT = 2;
const K_UDEC = 3;
const K_HEX = 4;
const K_HEX0X = 5;
const K_STATE = 6;
const K_BOOL = 7;
const KIND_CODES: Record<FieldKind, number> = { text: K_TEXT, word: K_WORD, int: K_INT, udec: K_UDEC, hex: K_HEX, hex0x: K_HEX0X, state: K_STATE, bool: K_BOOL };

/** Separator candidates tried in one split, all fields together: bounds the work on hostile payloads. */
const SPLIT_TRIES_MAX = 64;

function layout(...fields: [string, FieldKind][]): Layout {
  return {
    keys: fields.map(([k]) => k),
    kinds: fields.map(([, kind]) => kind),
    seps: fields.map(([k], i) => (i === 0 ? `${k}=` : ` ${k}=`)),
    sepBytes: fields.map(([k], i) => asciiBytes(i === 0 ? `${k}=` : ` ${k}=`)),
    kindCodes: Uint8Array.from(fields, ([, kind]) => KIND_CODES[kind]),
  };
}

/** The codes of an ASCII string, as bytes. */
export function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export const SWITCH_LAYOUT = layout(
  ['prev_comm', 'text'],
  ['prev_pid', 'int'],
  ['prev_prio', 'int'],
  ['prev_state', 'state'],
  ['==> next_comm', 'text'],
  ['next_pid', 'int'],
  ['next_prio', 'int'],
);
export const WAKEUP_LAYOUT = layout(['comm', 'text'], ['pid', 'int'], ['prio', 'int'], ['target_cpu', 'int']);
const WAKEUP_3X_LAYOUT = layout(
  ['comm', 'text'],
  ['pid', 'int'],
  ['prio', 'int'],
  ['success', 'int'],
  ['target_cpu', 'int'],
);
const WAKEUP_OLD_LAYOUT = layout(['comm', 'text'], ['pid', 'int'], ['prio', 'int'], ['success', 'int']);
export const FORK_LAYOUT = layout(['comm', 'text'], ['pid', 'int'], ['child_comm', 'text'], ['child_pid', 'int']);
export const NEWTASK_LAYOUT = layout(['pid', 'int'], ['comm', 'text'], ['clone_flags', 'hex'], ['oom_score_adj', 'int']);
export const EXIT_LAYOUT = layout(['comm', 'text'], ['pid', 'int'], ['prio', 'int'], ['group_dead', 'bool']);
export const COMM_PID_PRIO_LAYOUT = layout(['comm', 'text'], ['pid', 'int'], ['prio', 'int']);
export const MIGRATE_LAYOUT = layout(
  ['comm', 'text'],
  ['pid', 'int'],
  ['prio', 'int'],
  ['orig_cpu', 'int'],
  ['dest_cpu', 'int'],
);
export const ALLOC_VMAP_LAYOUT = layout(
  ['va_start', 'udec'],
  ['size', 'udec'],
  ['align', 'udec'],
  ['vstart', 'hex0x'],
  ['vend', 'hex0x'],
  ['failed', 'int'],
);
export const FREE_VMAP_LAYOUT = layout(['va_start', 'hex0x'], ['nr_lazy', 'udec'], ['nr_lazy_max', 'udec']);
export const PURGE_VMAP_LAYOUT = layout(['start', 'hex0x'], ['end', 'hex0x'], ['num_purged', 'udec']);
/** kmem_cache_alloc as 6.18 prints it (with name= and accounted=): the replay's fast path (src/replay/fastparse.ts). */
export const KMEM_CACHE_ALLOC_LAYOUT = layout(
  ['call_site', 'text'],
  ['ptr', 'word'],
  ['name', 'word'],
  ['bytes_req', 'udec'],
  ['bytes_alloc', 'udec'],
  ['gfp_flags', 'word'],
  ['node', 'int'],
  ['accounted', 'bool'],
);
const KMEM_LAYOUTS: readonly Layout[] = [
  KMEM_CACHE_ALLOC_LAYOUT,
  layout(
    ['call_site', 'text'],
    ['ptr', 'word'],
    ['bytes_req', 'udec'],
    ['bytes_alloc', 'udec'],
    ['gfp_flags', 'word'],
    ['node', 'int'],
    ['accounted', 'bool'],
  ),
  layout(
    ['call_site', 'text'],
    ['ptr', 'word'],
    ['bytes_req', 'udec'],
    ['bytes_alloc', 'udec'],
    ['gfp_flags', 'word'],
    ['node', 'int'],
  ),
  layout(['call_site', 'text'], ['ptr', 'word'], ['bytes_req', 'udec'], ['bytes_alloc', 'udec'], ['gfp_flags', 'word']),
];

const INT_RE = /^-?\d{1,10}$/;
const UDEC_RE = /^\d{1,20}$/;
const HEX_RE = /^[0-9a-fA-F]{1,16}$/;
const HEX0X_RE = /^0x[0-9a-fA-F]{1,16}$/;
// __print_flags() letters joined by `|`, with `+` for a preempted task.
const STATE_RE = /^[A-Za-z|+]{1,32}$/;
const WORD_RE = /^\S+$/;

function valueOk(kind: FieldKind, v: string): boolean {
  switch (kind) {
    case 'text':
      return true;
    case 'word':
      return WORD_RE.test(v);
    case 'int':
      return INT_RE.test(v);
    case 'udec':
      return UDEC_RE.test(v);
    case 'hex':
      return HEX_RE.test(v);
    case 'hex0x':
      return HEX0X_RE.test(v);
    case 'state':
      return STATE_RE.test(v);
    case 'bool':
      return v === 'true' || v === 'false';
  }
}

/** The values of `payload` in layout order, or null. Blanks around it are ignored (trace-cmd pads after the event name). */
export function splitFields(payload: string, lay: Layout): string[] | null {
  const s = payload.trim();
  if (!s.startsWith(lay.seps[0])) return null;
  const out = new Array<string>(lay.keys.length);
  const budget = { tries: SPLIT_TRIES_MAX };
  return splitBefore(s, lay, lay.keys.length - 1, s.length, out, budget) ? out : null;
}

/** Fills out[0..i] from s[0, end): field i starts at the rightmost ` key=` whose value and prefix both check. */
function splitBefore(
  s: string,
  lay: Layout,
  i: number,
  end: number,
  out: string[],
  budget: { tries: number },
): boolean {
  if (i === 0) {
    const v = s.slice(lay.seps[0].length, end);
    if (end < lay.seps[0].length || !valueOk(lay.kinds[0], v)) return false;
    out[0] = v;
    return true;
  }
  const sep = lay.seps[i];
  let at = end - sep.length < 0 ? -1 : s.lastIndexOf(sep, end - sep.length);
  while (at >= 0 && budget.tries > 0) {
    budget.tries--;
    const v = s.slice(at + sep.length, end);
    if (valueOk(lay.kinds[i], v) && splitBefore(s, lay, i - 1, at, out, budget)) {
      out[i] = v;
      return true;
    }
    at = at === 0 ? -1 : s.lastIndexOf(sep, at - 1);
  }
  return false;
}

// ---------------------------------------------------------------------------
// libtraceevent plugin renderings (plugins/plugin_sched_switch.c):
//   sched_switch   `%s:%d [%d] STATE ==> %s:%d [%d]`  (prio only if the field exists)
//   sched_wakeup   `%s:%d [%d] success=%d CPU:%03d`   (every part after comm:pid optional)

const PLUGIN_TASK_RE = /^(.*):(-?\d{1,10})(?: \[(-?\d{1,10})\])?$/s;
const PLUGIN_PREV_RE = /^(.*):(-?\d{1,10}) (?:\[(-?\d{1,10})\] )?([A-Za-z|+]{1,32})$/s;
// Lazy comm: the optional ` CPU:003` suffix would otherwise read as `comm:pid`.
const PLUGIN_WAKEUP_RE = /^(.*?):(-?\d{1,10})(?: \[(-?\d{1,10})\])?(?: success=(\d{1,10}))?(?: CPU:(\d{1,6}))?$/s;
const PLUGIN_ARROWS_MAX = 8;

function parsePluginSwitch(s: string): SchedSwitch | null {
  let at = s.lastIndexOf(' ==> ');
  // Either comm may hold ` ==> `; the split is the rightmost whose sides both parse.
  for (let tries = 0; at >= 0 && tries < PLUGIN_ARROWS_MAX; tries++) {
    const prev = PLUGIN_PREV_RE.exec(s.slice(0, at));
    const next = prev === null ? null : PLUGIN_TASK_RE.exec(s.slice(at + 5));
    if (prev !== null && next !== null) {
      return {
        prevComm: prev[1],
        prevPid: Number(prev[2]),
        prevPrio: optionalNumber(prev[3]),
        prevState: prev[4],
        nextComm: next[1],
        nextPid: Number(next[2]),
        nextPrio: optionalNumber(next[3]),
        rendering: 'plugin',
      };
    }
    at = at === 0 ? -1 : s.lastIndexOf(' ==> ', at - 1);
  }
  return null;
}

function parsePluginWakeup(s: string): SchedWakeup | null {
  const m = PLUGIN_WAKEUP_RE.exec(s);
  if (m === null) return null;
  return {
    comm: m[1],
    pid: Number(m[2]),
    prio: optionalNumber(m[3]),
    targetCpu: optionalNumber(m[5]),
    success: optionalNumber(m[4]),
  };
}

function optionalNumber(v: string | undefined): number | null {
  return v === undefined ? null : Number(v);
}

// ---------------------------------------------------------------------------
// Allocation-free greedy split, for the replay's hot path (src/replay/fastparse.ts).
//
// splitFields takes, for each field from the right, the rightmost ` key=` whose
// value checks and whose prefix splits, backtracking on failure. When the
// rightmost candidate works at every level — every well-formed payload — that
// first path is its answer, so splitGreedy tries only that path, on a range of
// the payload's bytes (the reader's block of ASCII text, read in place), and
// records offsets instead of slices. It returns false whenever splitFields
// could decide otherwise (a check failed, blanks around the payload, a value it
// cannot judge without the regex): the caller then asks splitFields itself, so
// the answers are the same by construction. Bytes, not the string: a typed-array
// load is a few instructions where charCodeAt on a string whose representation
// the compiler cannot know is a dispatch, and these scans are most of a payload's
// cost.

/** Where each field's value is, after splitGreedy: b[start[i], end[i]). */
export class FieldSpans {
  readonly start = new Int32Array(16);
  readonly end = new Int32Array(16);
}

/**
 * Greedy split of b[lo, hi) (ASCII text) by `lay`, which starts with `prefix`
 * (its first `key=`, or `va_start: ` for alloc_vmap_area). True only if it is
 * splitFields' own answer for the same text. Every later separator starts with
 * a blank and the `key=` prefixes have none, so no separator can start inside
 * the prefix; for `va_start: ` splitFields splits `va_start=` + the rest, whose
 * separators can only start in the rest too.
 *
 * Each separator is where lastIndexOf(sep, end - sep.length) would find it.
 * Text values are searched from the right. Any other value holds no `=`, so
 * the rightmost separator ends where the value starts: the value is read from
 * `end` leftwards and checked as it is read (valueStartBack), and the
 * separator must be just before it, else the answer is false.
 */
export function splitGreedy(b: Uint8Array, lo: number, hi: number, lay: Layout, prefix: Uint8Array, spans: FieldSpans): boolean {
  if (hi <= lo || !isPlainEdge(b[lo]) || !isPlainEdge(b[hi - 1])) return false;
  const first = lo + prefix.length;
  if (first > hi || !bytesAt(b, lo, prefix)) return false;
  const { sepBytes, kindCodes } = lay;
  let end = hi;
  for (let i = sepBytes.length - 1; i > 0; i--) {
    const sep = sepBytes[i];
    const code = kindCodes[i];
    let vs: number;
    if (code === K_TEXT || code === K_WORD) {
      let at = end - sep.length;
      while (at >= first && !(b[at] === 32 && bytesAt(b, at, sep))) at--;
      if (at < first) return false;
      vs = at + sep.length;
      if (code === K_WORD && !isWordAt(b, vs, end)) return false;
    } else {
      vs = valueStartBack(code, b, first, end);
      if (vs - sep.length < first || !bytesAt(b, vs - sep.length, sep)) return false;
    }
    spans.start[i] = vs;
    spans.end[i] = end;
    end = vs - sep.length;
  }
  const code = kindCodes[0];
  if (code === K_WORD ? !isWordAt(b, first, end) : code !== K_TEXT && valueStartBack(code, b, first, end) !== first) return false;
  spans.start[0] = first;
  spans.end[0] = end;
  return true;
}

/** b holds `word` at `at`. */
export function bytesAt(b: Uint8Array, at: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (b[at + k] !== word[k]) return false;
  return true;
}

/**
 * Start of the value of kind `code` (not text or word) that ends at `end`,
 * read leftwards, no further left than `first`: where valueOk would accept
 * b[start, end), the longest such run; `first - 1` when there is none.
 */
function valueStartBack(code: number, b: Uint8Array, first: number, end: number): number {
  let i = end;
  switch (code) {
    case K_INT:
      // -?\d{1,10}
      while (i > first && end - i < 10 && isDigitCode(b[i - 1])) i--;
      if (i === end) return first - 1;
      return i > first && b[i - 1] === 45 ? i - 1 : i;
    case K_UDEC:
      // \d{1,20}
      while (i > first && end - i < 20 && isDigitCode(b[i - 1])) i--;
      return i === end ? first - 1 : i;
    case K_HEX:
      // [0-9a-fA-F]{1,16}
      while (i > first && end - i < 16 && isHexCode(b[i - 1])) i--;
      return i === end ? first - 1 : i;
    case K_HEX0X:
      // 0x[0-9a-fA-F]{1,16}
      while (i > first && end - i < 16 && isHexCode(b[i - 1])) i--;
      return i === end || i - 2 < first || b[i - 2] !== 48 || b[i - 1] !== 120 ? first - 1 : i - 2;
    case K_STATE:
      // [A-Za-z|+]{1,32}
      while (i > first && end - i < 32 && isStateCode(b[i - 1])) i--;
      return i === end ? first - 1 : i;
    case K_BOOL:
      if (end - 4 >= first && bytesAt(b, end - 4, TRUE_BYTES)) return end - 4;
      if (end - 5 >= first && bytesAt(b, end - 5, FALSE_BYTES)) return end - 5;
      return first - 1;
    default:
      return first - 1;
  }
}

/** Printable ASCII but not a blank: trim() leaves such an edge alone. */
function isPlainEdge(c: number): boolean {
  return c > 32 && c < 127;
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexCode(c: number): boolean {
  return isDigitCode(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** State letters: __print_flags() letters joined by `|`, with `+` for a preempted task (STATE_RE). */
function isStateCode(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 124 || c === 43;
}

/** WORD_RE (\S+) on ASCII: no blank, nothing unprintable. */
function isWordAt(b: Uint8Array, a: number, e: number): boolean {
  if (e <= a) return false;
  for (let i = a; i < e; i++) if (!isPlainEdge(b[i])) return false;
  return true;
}

const TRUE_BYTES = asciiBytes('true');
const FALSE_BYTES = asciiBytes('false');

/** Number() of the text of b[a, e), a value that passed the 'int' or 'udec' check. */
export function numberAt(b: Uint8Array, a: number, e: number): number {
  // Beyond 15 digits the digit loop could round differently from Number().
  if (e - a > 15) return Number(String.fromCharCode(...b.subarray(a, e)));
  const neg = b[a] === 45;
  let v = 0;
  for (let i = neg ? a + 1 : a; i < e; i++) v = v * 10 + (b[i] - 48);
  return neg ? -v : v;
}
