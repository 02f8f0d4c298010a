// kernel/pid.c as far as the model needs it: pid numbers allocated cyclically
// between RESERVED_PIDS and pid_max (alloc_pid → idr_alloc_cyclic), and the
// pid → task lookup (find_task_by_pid_ns), as a direct-indexed table for pids
// below pid_max with a map for the larger pids a replayed trace can carry.
import type { TaskStruct } from './task.ts';

/** include/linux/threads.h: PID_MAX_DEFAULT; also pid_max on machines with few CPUs (pid_idr_init). */
export const PID_MAX_DEFAULT = 0x8000;
/** kernel/pid.c: "A maximum of 4 million PIDs should be enough for a while." PID_MAX_LIMIT on 64-bit. */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;
/** kernel/pid.c: RESERVED_PIDS: the first pids are kept for early tasks; cyclic allocation wraps above them. */
export const RESERVED_PIDS = 300;

export class PidTable {
  /** Grows to the highest pid set below pid_max: a kernel that never forks pays nothing. */
  private readonly low: (TaskStruct | undefined)[] = [];
  private readonly high = new Map<number, TaskStruct>();
  private count = 0;
  /** idr_alloc_cyclic's cursor: the next pid to try. */
  private next: number;

  constructor(firstPid: number) {
    this.next = firstPid;
  }

  get size(): number {
    return this.count;
  }

  get(pid: number): TaskStruct | undefined {
    return pid >= 0 && pid < PID_MAX_DEFAULT ? (pid < this.low.length ? this.low[pid] : undefined) : this.high.get(pid);
  }

  has(pid: number): boolean {
    return this.get(pid) !== undefined;
  }

  set(pid: number, t: TaskStruct): void {
    if (pid >= 0 && pid < PID_MAX_DEFAULT) {
      // Fill holes with undefined explicitly so the array stays packed (fast element access).
      while (this.low.length < pid) this.low.push(undefined);
      if (this.low[pid] === undefined) this.count++;
      this.low[pid] = t;
    } else {
      if (!this.high.has(pid)) this.count++;
      this.high.set(pid, t);
    }
  }

  delete(pid: number): void {
    if (pid >= 0 && pid < PID_MAX_DEFAULT) {
      if (pid >= this.low.length) return;
      if (this.low[pid] !== undefined) this.count--;
      this.low[pid] = undefined;
    } else if (this.high.delete(pid)) this.count--;
  }

  /** Every task, low pids first in pid order, then the map's in insertion order. */
  *values(): IterableIterator<TaskStruct> {
    for (let pid = 0; pid < this.low.length; pid++) {
      const t = this.low[pid];
      if (t !== undefined) yield t;
    }
    yield* this.high.values();
  }

  /**
   * alloc_pid(): the next free pid at or after the cursor, wrapping from
   * pid_max back to RESERVED_PIDS (idr_alloc_cyclic). Null when all are taken.
   */
  alloc(): number | null {
    for (let tries = 0; tries < PID_MAX_DEFAULT; tries++) {
      if (this.next >= PID_MAX_DEFAULT) this.next = RESERVED_PIDS;
      const pid = this.next++;
      if (pid >= this.low.length || this.low[pid] === undefined) return pid;
    }
    return null;
  }
}
