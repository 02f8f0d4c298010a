// Between the task_struct marker (the start of dup_task_struct()) and
// task_newtask, the replay knows a new child only by a provisional pid: the
// kernel has not yet run alloc_pid() (copy_process(), kernel/fork.c, 6.18).
// The model's events in that window would name the child by that placeholder,
// so --events and --perfetto would show one child under two pids. This tracer
// holds the events while any child's pid is provisional and relabels them once
// task_newtask gives the real pid.
import type { KernelEvent, Tracer } from '../kernel/events.ts';

/** Held events are flushed unrelabelled past this many (a marker never followed by task_newtask). */
const MAX_HELD = 1 << 14;

export class ProvisionalPidTracer implements Tracer {
  readonly enabled = true;
  private held: KernelEvent[] = [];
  private readonly provisional = new Set<number>();
  /** Events flushed before their provisional pid was resolved (MAX_HELD reached). */
  overflowed = 0;

  constructor(private readonly sink: Tracer) {}

  emit(e: KernelEvent): void {
    if (this.provisional.size === 0) {
      this.sink.emit(e);
      return;
    }
    this.held.push(e);
    if (this.held.length >= MAX_HELD) {
      this.overflowed += this.held.length;
      this.flush();
    }
  }

  /** `pid` is a placeholder until resolve() or release(). */
  hold(pid: number): void {
    this.provisional.add(pid);
  }

  /** The child known as `pid` is `realPid`: held events are relabelled. */
  resolve(pid: number, realPid: number): void {
    if (!this.provisional.delete(pid)) return;
    for (const e of this.held) relabel(e, pid, realPid);
    if (this.provisional.size === 0) this.flush();
  }

  /** The placeholder never got a real pid (copy_process() failed, or the trace ended). */
  release(pid: number): void {
    if (this.provisional.delete(pid) && this.provisional.size === 0) this.flush();
  }

  /** End of the replay: every held event goes out, as it is. */
  finish(): void {
    this.provisional.clear();
    this.flush();
  }

  private flush(): void {
    const held = this.held;
    this.held = [];
    for (const e of held) this.sink.emit(e);
  }
}

/** Pid-valued fields are the current task and any argument named *pid (pid, prev_pid, child_pid, ...). */
function relabel(e: KernelEvent, from: number, to: number): void {
  if (e.pid === from) e.pid = to;
  const a = e.args;
  for (const k in a) if (a[k] === from && k.endsWith('pid')) a[k] = to;
}
