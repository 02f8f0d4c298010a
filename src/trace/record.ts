// Records a whole-system trace of the task and kernel-stack lifecycle through
// tracefs, the way ../shared/traces was captured: the events the replay uses,
// the vmalloc answer key, and kmem_cache_alloc of task_struct (the moment
// dup_task_struct takes the stack). trace_pipe is read non-blocking and polled:
// a blocking reader is woken by its own sched_switch events and floods the
// trace with itself. Every tracefs setting changed is restored on every exit
// path; the gzip is written to a temp file and renamed.
import { InputError } from '../errors.ts';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, createWriteStream, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { readStackAreas } from './vmallocinfo.ts';

export class RecordError extends InputError {
  override name = 'RecordError';
}

/** The trace_marker text written once the stacks alive at the start are listed (meta stack_areas_at_start). */
export const STACK_LIST_MARKER = 'capture: stack_areas_listed';

export const TRACEFS_CANDIDATES = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/**
 * sys/event, with an optional filter; `required` events missing on this kernel
 * are an error. A filter given as a function is computed when recording
 * starts; null leaves the event out.
 */
export interface EventSpec {
  sys: string;
  name: string;
  filter?: string | (() => string | null);
  required: boolean;
  /** Why it is recorded, for the log line when it is left out. */
  why?: string;
}

/**
 * The grace-period kthread's pid (rcu_gp_kthread: `rcu_preempt` under
 * PREEMPT_RCU, else `rcu_sched`), read from /proc; null if there is none.
 */
export function gpKthreadPid(proc = '/proc'): number | null {
  let names: string[];
  try {
    names = readdirSync(proc);
  } catch {
    return null;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    let comm: string;
    try {
      comm = readFileSync(join(proc, n, 'comm'), 'utf8').trim();
    } catch {
      continue;
    }
    if (comm === 'rcu_preempt' || comm === 'rcu_sched') return Number(n);
  }
  return null;
}

const GP_WHY = 'grace periods are estimated instead of read off the RCU kthread';

/** Events in the grace-period kthread's context only; null (left out) when it cannot be found. */
function gpKthreadFilter(): string | null {
  const pid = gpKthreadPid();
  return pid === null ? null : `common_pid == ${pid}`;
}

export const RECORD_EVENTS: readonly EventSpec[] = [
  { sys: 'sched', name: 'sched_process_fork', required: true },
  { sys: 'sched', name: 'sched_process_exit', required: true },
  { sys: 'sched', name: 'sched_process_free', required: true },
  { sys: 'sched', name: 'sched_switch', required: true },
  { sys: 'sched', name: 'sched_wakeup', required: true },
  { sys: 'sched', name: 'sched_wakeup_new', required: true },
  { sys: 'sched', name: 'sched_migrate_task', required: true },
  { sys: 'task', name: 'task_newtask', required: true },
  { sys: 'vmalloc', name: 'alloc_vmap_area', required: true },
  { sys: 'vmalloc', name: 'free_vmap_area_noflush', required: true },
  { sys: 'vmalloc', name: 'purge_vmap_area_lazy', required: true },
  // rcu_core() passes, and the scheduler tick (rcu_sched_clock_irq: a quiescent state).
  { sys: 'rcu', name: 'rcu_utilization', filter: 's ~ "*RCU core*" || s ~ "*scheduler-tick*"', required: true },
  // name= exists since the Aug 2025 kmem tracepoint patch; without it the marker is left out.
  { sys: 'kmem', name: 'kmem_cache_alloc', filter: 'name == "task_struct"', required: false },
  // The grace-period kthread's FQS timer shows when grace periods start and end
  // (src/replay/rcu_gp.ts): schedule_timeout()'s process_timeout timer armed,
  // and cancelled, in the kthread's own context.
  { sys: 'timer', name: 'timer_start', filter: gpKthreadFilter, required: false, why: GP_WHY },
  { sys: 'timer', name: 'timer_cancel', filter: gpKthreadFilter, required: false, why: GP_WHY },
];

export interface RecordOptions {
  output: string;
  /** Command to run and trace; none: record for durationS. */
  command: string[];
  durationS: number | null;
  bufferKb: number;
  /** Leave every CPU's stack cache full before the command (primeStackCaches); default true. */
  prime?: boolean;
  log(msg: string): void;
}

export interface RecordResult {
  output: string;
  metaPath: string;
  lines: number;
  lostEvents: number;
  overruns: number;
  exitStatus: number | null;
  eventsEnabled: string[];
  eventsMissing: string[];
}

const POLL_MS = 20;
const READ_BYTES = 1 << 20;
const DRAIN_ROUNDS_MAX = 500;

/** The tracefs mount point, mounting tracefs when it is not (remembered, unmounted at the end). */
export function findTracefs(): { dir: string; mounted: boolean } {
  for (const d of TRACEFS_CANDIDATES) if (existsSync(join(d, 'trace_pipe'))) return { dir: d, mounted: false };
  const dir = TRACEFS_CANDIDATES[0];
  if (!existsSync(dir)) throw new RecordError(`tracefs: ${dir} does not exist; is this Linux with CONFIG_TRACING?`);
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new RecordError(`tracefs is not mounted and mounting it at ${dir} failed: ${(e as Error).message.trim()}`);
  }
  if (!existsSync(join(dir, 'trace_pipe'))) throw new RecordError(`tracefs mounted at ${dir} but has no trace_pipe`);
  return { dir, mounted: true };
}

/** Saves tracefs files before they are written, and writes them back in reverse order. */
export class TracefsState {
  private readonly saved: { path: string; value: string }[] = [];
  constructor(readonly dir: string) {}

  read(rel: string): string {
    return readFileSync(join(this.dir, rel), 'utf8');
  }

  /** Writes `value`, remembering how to restore the file first. */
  set(rel: string, value: string): void {
    const path = join(this.dir, rel);
    if (!this.saved.some((s) => s.path === path)) this.saved.push({ path, value: restoreValue(rel, readFileSync(path, 'utf8')) });
    writeFileSync(path, value);
  }

  restore(): string[] {
    const errors: string[] = [];
    for (const s of [...this.saved].reverse()) {
      try {
        writeFileSync(s.path, s.value);
      } catch (e) {
        errors.push(`${s.path}: ${(e as Error).message}`);
      }
    }
    this.saved.length = 0;
    return errors;
  }
}

/** What to write back for a file's current contents (tracefs reads are not always writable as they are). */
function restoreValue(rel: string, current: string): string {
  const t = current.trim();
  if (rel === 'trace_clock') return /\[(\S+)\]/.exec(t)?.[1] ?? 'local';
  if (rel.endsWith('/filter')) return t === 'none' ? '0' : t;
  if (rel === 'buffer_size_kb') return /^\d+/.exec(t)?.[0] ?? t;
  return t;
}

/** A snapshot of the settings a recording touches, to check they were restored. */
export function tracefsSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const files = ['tracing_on', 'trace_clock', 'buffer_size_kb'];
  for (const e of RECORD_EVENTS) files.push(`events/${e.sys}/${e.name}/enable`, `events/${e.sys}/${e.name}/filter`);
  for (const f of files) {
    const p = join(dir, f);
    if (existsSync(p)) out[f] = readFileSync(p, 'utf8').trim();
  }
  return out;
}

export async function record(opts: RecordOptions): Promise<RecordResult> {
  if (process.getuid?.() !== 0) throw new RecordError('kstack record must run as root (tracefs needs it); try sudo');
  const { dir, mounted } = findTracefs();
  const st = new TracefsState(dir);
  const tmp = `${opts.output}.tmp-${process.pid}`;
  let child: ReturnType<typeof spawn> | null = null;
  let fd = -1;
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted = sig;
    child?.kill(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { enabled, missing } = enableEvents(st, opts);
    st.set('tracing_on', '0');
    st.set('trace_clock', 'local');
    st.set('buffer_size_kb', String(opts.bufferKb));
    writeFileSync(join(dir, 'trace'), ''); // clears the ring buffers
    const gz = createGzip();
    const out = createWriteStream(tmp);
    gz.pipe(out);
    const outDone = new Promise<void>((res, rej) => {
      out.on('finish', res);
      out.on('error', rej);
      gz.on('error', rej);
    });
    fd = openSync(join(dir, 'trace_pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let lines = 0;
    let lost = 0;
    let tail = '';
    const pump = (): number => {
      let total = 0;
      for (;;) {
        let n: number;
        try {
          n = readSync(fd, buf, 0, READ_BYTES, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return total;
          throw e;
        }
        if (n <= 0) return total;
        total += n;
        const text = tail + buf.toString('utf8', 0, n);
        const cut = text.lastIndexOf('\n');
        tail = text.slice(cut + 1);
        const complete = text.slice(0, cut + 1);
        for (const m of complete.matchAll(/\[LOST (\d+) EVENTS\]/g)) lost += Number(m[1]);
        for (let i = 0; i < complete.length; i++) if (complete.charCodeAt(i) === 10) lines++;
        gz.write(Buffer.from(buf.subarray(0, n)));
      }
    };
    st.set('tracing_on', '1');
    marker(dir, `capture: begin reader_pid=${process.pid} capture_pid=${process.pid}`);
    // After tracing_on: a stack alive now either appears here or is allocated in the trace.
    const areas = readStackAreas();
    if (areas.restoreError !== null) opts.log(`kstack record: could not restore ${areas.restoreError}`);
    if (!areas.ok) opts.log(`kstack record: stacks alive at the start not listed (stack frees of them stay unclassified): ${areas.why}`);
    // Frees before this marker may be of stacks freed before the list was read: the answer key waits for it.
    if (areas.ok) marker(dir, `${STACK_LIST_MARKER} n=${Object.values(areas.areas.bySize).reduce((n, a) => n + a.length, 0)}`);
    const stackAreas = areas.ok ? { callers: areas.areas.callers, by_size: areas.areas.bySize, marker: STACK_LIST_MARKER } : { skipped: areas.why };
    let exitStatus: number | null = null;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        pump();
        await sleep(POLL_MS);
      }
    })();
    let prime: PrimeResult | null = null;
    if (opts.prime !== false && interrupted === null) {
      prime = await primeStackCaches(onlineCpus(), (text) => marker(dir, text), (c) => {
        child = c; // a signal now stops the prologue too
      });
      child = null;
      if (prime.skipped !== null) opts.log(`kstack record: stack caches not primed: ${prime.skipped}`);
    }
    if (opts.command.length > 0 && interrupted === null) {
      const c = spawn(opts.command[0], opts.command.slice(1), { stdio: 'inherit' });
      child = c;
      marker(dir, `capture: cmd_start pid=${c.pid ?? 0}`);
      exitStatus = await new Promise<number>((res) => {
        c.on('error', (e) => {
          opts.log(`kstack record: ${opts.command[0]}: ${e.message}`);
          res(127);
        });
        c.on('exit', (code, sig) => res(code ?? (sig ? 128 : 1)));
      });
      marker(dir, `capture: cmd_end rc=${exitStatus}`);
    } else {
      const endAt = Date.now() + (opts.durationS ?? 1) * 1000;
      while (Date.now() < endAt && interrupted === null) await sleep(POLL_MS);
    }
    marker(dir, 'capture: end');
    st.set('tracing_on', '0');
    polling = false;
    await poller;
    // Drain: trace_pipe until every per-CPU buffer says it holds nothing.
    for (let round = 0; round < DRAIN_ROUNDS_MAX; round++) {
      const got = pump();
      if (got === 0 && unreadEntries(dir) === 0) break;
      if (got === 0) await sleep(POLL_MS);
    }
    closeSync(fd);
    fd = -1;
    if (tail.length > 0) gz.write('\n'); // its bytes are already written; end the cut line
    const overruns = overrunCount(dir);
    gz.end();
    await outDone;
    renameSync(tmp, opts.output);
    const metaPath = opts.output.replace(/\.trace\.gz$|\.gz$/, '') + '.meta.json';
    const meta = {
      output: opts.output,
      command: opts.command,
      rc: exitStatus,
      interrupted,
      kernel: release(),
      nr_cpus: cpuCount(dir),
      trace_clock: 'local',
      config: kernelConfigLines(),
      events: enabled,
      events_missing: missing,
      buffer_size_kb_per_cpu: opts.bufferKb,
      lines,
      lost_events: lost + overruns,
      lost_markers: lost,
      overruns,
      prime,
      stack_areas_at_start: stackAreas,
    };
    writeFileSync(`${metaPath}.tmp-${process.pid}`, `${JSON.stringify(meta, null, 1)}\n`);
    renameSync(`${metaPath}.tmp-${process.pid}`, metaPath);
    return { output: opts.output, metaPath, lines, lostEvents: lost + overruns, overruns, exitStatus, eventsEnabled: enabled, eventsMissing: missing };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (fd >= 0) closeSync(fd);
    const errors = st.restore();
    if (mounted) {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch (e) {
        errors.push(`umount ${dir}: ${(e as Error).message.trim()}`);
      }
    }
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    for (const e of errors) opts.log(`kstack record: could not restore ${e}`);
  }
}

function enableEvents(st: TracefsState, opts: RecordOptions): { enabled: string[]; missing: string[] } {
  const enabled: string[] = [];
  const missing: string[] = [];
  for (const e of RECORD_EVENTS) {
    const base = `events/${e.sys}/${e.name}`;
    if (!existsSync(join(st.dir, base, 'enable'))) {
      if (e.required) throw new RecordError(`event ${e.sys}:${e.name} does not exist on this kernel (${release()}); no ${join(st.dir, base)}`);
      missing.push(`${e.sys}:${e.name}`);
      continue;
    }
    const filter = typeof e.filter === 'function' ? e.filter() : e.filter;
    if (filter === null) {
      opts.log(`kstack record: ${e.sys}:${e.name} left out: no rcu_preempt/rcu_sched kthread found${e.why ? `; ${e.why}` : ''}`);
      missing.push(`${e.sys}:${e.name}`);
      continue;
    }
    if (filter !== undefined) {
      try {
        st.set(`${base}/filter`, filter);
      } catch (err) {
        if (e.required) throw new RecordError(`filter '${filter}' on ${e.sys}:${e.name}: ${(err as Error).message}`);
        opts.log(`kstack record: ${e.sys}:${e.name} cannot take '${filter}' on this kernel; left out${e.why ? `: ${e.why}` : ''}`);
        missing.push(`${e.sys}:${e.name}`);
        continue;
      }
    }
    st.set(`${base}/enable`, '1');
    enabled.push(`${e.sys}:${e.name}`);
  }
  return { enabled, missing };
}

function marker(dir: string, text: string): void {
  try {
    writeFileSync(join(dir, 'trace_marker'), text);
  } catch {
    // Markers are a convenience for the reader of the trace; the recording stands without them.
  }
}

function perCpuStats(dir: string): Record<string, number>[] {
  const base = join(dir, 'per_cpu');
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => /^cpu\d+$/.test(d))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((d) => {
      const out: Record<string, number> = {};
      for (const line of readFileSync(join(base, d, 'stats'), 'utf8').split('\n')) {
        const m = /^([a-z ]+):\s*(\d+)/.exec(line);
        if (m) out[m[1].trim()] = Number(m[2]);
      }
      return out;
    });
}

function unreadEntries(dir: string): number {
  let n = 0;
  for (const s of perCpuStats(dir)) n += s.entries ?? 0;
  return n;
}

function overrunCount(dir: string): number {
  let n = 0;
  for (const s of perCpuStats(dir)) n += (s.overrun ?? 0) + (s['commit overrun'] ?? 0) + (s['dropped events'] ?? 0);
  return n;
}

function cpuCount(dir: string): number {
  return perCpuStats(dir).length;
}

/** The .config lines that decide the stack lifecycle, from /proc/config.gz or /boot. */
function kernelConfigLines(): string[] {
  const want = /^(CONFIG_(VMAP_STACK|THREAD_INFO_IN_TASK|KASAN|MEMCG|HZ|PREEMPT\w*|TREE_RCU|RCU_\w*CALLBACK\w*|HOTPLUG_CPU|NR_CPUS)\b.*|# CONFIG_(VMAP_STACK|KASAN|MEMCG) is not set)$/;
  let text = '';
  try {
    text = execFileSync('sh', ['-c', 'zcat /proc/config.gz 2>/dev/null || cat /boot/config-$(uname -r) 2>/dev/null'], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => want.test(l));
}

export interface PrimeResult {
  /** The CPUs whose stack cache was drained and refilled. */
  cpus: number[];
  /** Exit status of the prologue (0: every CPU primed). */
  rc: number | null;
  /** Why the caches may not be primed: no prologue ran, or it failed or was stopped (null: it completed). */
  skipped: string | null;
}

/** The online CPUs (/sys/devices/system/cpu/online: `0-1,4`). */
export function onlineCpus(path = '/sys/devices/system/cpu/online'): number[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) return [];
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/** Children a CPU's prologue keeps alive at once: more than the per-CPU stack cache holds (NR_CACHED_STACKS, 2). */
export const PRIME_CHILDREN = 3;

/**
 * The prologue's shell script for `cpus`: pinned to the last CPU, it runs on
 * each other CPU c (taskset -c c) a shell that forks PRIME_CHILDREN sleeps
 * alive together, then does the same on its own CPU last. On each CPU the
 * forks take every cached stack (alloc_thread_stack_node: the cache first,
 * then vmalloc) before any of them exits, and the exits put stacks back
 * (free_thread_stack: the cache first, then RCU), so the cache ends full
 * whatever it held; the forks that drain one CPU come only from CPUs not yet
 * primed, or from the CPU itself.
 */
export function primeScript(cpus: number[]): string {
  const kids = Array.from({ length: PRIME_CHILDREN }, () => 'sleep 0.02').join(' & ');
  const own = `${kids}; wait`;
  const others = cpus.slice(0, -1).map((c) => `taskset -c ${c} sh -c '${own}'`);
  return [...others, own].join('; ');
}

/**
 * Before the command: leave every online CPU's stack cache full, so that the
 * replay's starting fill stops mattering within the first milliseconds of the
 * trace (stack vfree totals included), instead of after whatever the workload
 * happens to do. Bracketed by `capture: prime_start` / `prime_end` markers.
 * Needs taskset (util-linux); without it, or with one CPU unknown, it is
 * skipped and says why.
 */
async function primeStackCaches(cpus: number[], mark: (text: string) => void, started: (c: ReturnType<typeof spawn>) => void): Promise<PrimeResult> {
  if (cpus.length === 0) return { cpus, rc: null, skipped: 'online CPUs unknown' };
  const last = cpus[cpus.length - 1];
  mark(`capture: prime_start cpus=${cpus.join(',')}`);
  const end = await new Promise<{ rc: number | null; why: string | null }>((res) => {
    const c = spawn('taskset', ['-c', String(last), 'sh', '-c', primeScript(cpus)], { stdio: 'ignore' });
    started(c);
    c.on('error', (e) => res({ rc: null, why: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'taskset (util-linux) not found' : `taskset: ${e.message}` }));
    c.on('exit', (code, sig) => res(code !== null ? { rc: code, why: code === 0 ? null : `the prologue exited ${code}` } : { rc: null, why: `the prologue was stopped by ${sig}` }));
  });
  mark(`capture: prime_end rc=${end.rc ?? 'none'}`);
  return { cpus, rc: end.rc, skipped: end.why };
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
