// Between the task_struct marker (the start of dup_task_struct()) and
// task_newtask, the replay knows a new child only by a provisional pid: the
// kernel has not yet run alloc_pid() (copy_process(), kernel/fork.c, 6.18).
// The model's events in that window would name the child by that placeholder,
// so --events and --perfetto would show one child under two pids. This tracer
// holds the events while any child's pid is provisional and relabels them once
// task_newtask gives the real pid. It also fits the clone's own events, stamped
// at the marker plus the cost model's copy_process() time, into the real
// window between the marker and task_newtask, so that the child is not seen
// to run before it was created.
import type { KernelEvent, Tracer } from '../kernel/events.ts';

/** Held events are flushed unrelabelled past this many (a marker never followed by task_newtask). */
const MAX_HELD = 1 << 14;

export class ProvisionalPidTracer implements Tracer {
  readonly enabled = true;
  private held: KernelEvent[] = [];
  private readonly provisional = new Set<number>();
  /** Provisional pid → the clone's events: held[from, to), and the marker's time. */
  private readonly clones = new Map<number, { from: number; to: number; startNs: number }>();

  constructor(private readonly sink: Tracer) {}

  emit(e: KernelEvent): void {
    if (this.provisional.size === 0) {
      this.sink.emit(e);
      return;
    }
    this.held.push(e);
    if (this.held.length >= MAX_HELD) this.flush();
  }

  /** `pid` is a placeholder until resolve() or release(); the clone starts now, at `startNs`. */
  hold(pid: number, startNs: number): void {
    this.provisional.add(pid);
    this.clones.set(pid, { from: this.held.length, to: this.held.length, startNs });
  }

  /** The clone of `pid` has returned: the events since hold() are its own. */
  cloned(pid: number): void {
    const c = this.clones.get(pid);
    if (c !== undefined) c.to = this.held.length;
  }

  /** The child known as `pid` is `realPid`, created (task_newtask) at `createdNs`. */
  resolve(pid: number, realPid: number, createdNs: number): void {
    if (!this.provisional.delete(pid)) return;
    const c = this.clones.get(pid);
    this.clones.delete(pid);
    if (c !== undefined) fitWindow(this.held, c.from, c.to, c.startNs, createdNs);
    for (const e of this.held) relabel(e, pid, realPid);
    if (this.provisional.size === 0) this.flush();
  }

  /** The placeholder never got a real pid (copy_process() failed, or the trace ended). */
  release(pid: number): void {
    this.clones.delete(pid);
    if (this.provisional.delete(pid) && this.provisional.size === 0) this.flush();
  }

  /** End of the replay: every held event goes out, as it is. */
  finish(): void {
    this.provisional.clear();
    this.clones.clear();
    this.flush();
  }

  private flush(): void {
    const held = this.held;
    this.held = [];
    this.clones.clear();
    for (const e of held) this.sink.emit(e);
  }
}

/** Pid-valued fields are the current task and any argument named *pid (pid, prev_pid, child_pid, ...). */
function relabel(e: KernelEvent, from: number, to: number): void {
  if (e.pid === from) e.pid = to;
  const a = e.args;
  for (const k in a) if (a[k] === from && k.endsWith('pid')) a[k] = to;
}

/** Scales events[from, to) from [startNs, their last stamp] into [startNs, endNs] when they overrun endNs. */
function fitWindow(events: KernelEvent[], from: number, to: number, startNs: number, endNs: number): void {
  if (to <= from) return;
  const last = events[to - 1].tsNs;
  if (last <= endNs || last <= startNs) return;
  const k = (endNs - startNs) / (last - startNs);
  for (let i = from; i < to; i++) {
    const e = events[i];
    if (e.tsNs > startNs) e.tsNs = startNs + Math.round((e.tsNs - startNs) * k);
  }
}
