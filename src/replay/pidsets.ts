// The replay's pid sets and maps hold one entry nearly always (a fork's
// task_newtask and sched_process_fork are adjacent lines, as are a parent's
// alloc_vmap_area and task_newtask, and a task's sched_process_exit and final
// sched_switch), and a Set or Map whose last entry is
// deleted shrinks its table, to grow it again at the next add: two
// allocations per fork. So the newest entry sits in fields, the rest in the
// Set or Map, which then stays empty.

/** Set<number> of pids, as used here. */
export class PidSet {
  private hasOne = false;
  private one = 0;
  private readonly rest = new Set<number>();

  add(pid: number): void {
    if ((this.hasOne && this.one === pid) || this.rest.has(pid)) return;
    if (this.hasOne) this.rest.add(this.one);
    this.one = pid;
    this.hasOne = true;
  }

  /** Set.delete. */
  delete(pid: number): boolean {
    if (this.hasOne && this.one === pid) {
      this.hasOne = false;
      return true;
    }
    return this.rest.size > 0 && this.rest.delete(pid);
  }
}

/** Map<number, number> of pid → a number (a line, a flag), as used here. */
export class PidMap {
  private hasOne = false;
  private oneKey = 0;
  private oneValue = 0;
  private readonly rest = new Map<number, number>();

  set(pid: number, value: number): void {
    if (this.hasOne && this.oneKey === pid) {
      this.oneValue = value;
      return;
    }
    if (this.rest.has(pid)) {
      this.rest.set(pid, value);
      return;
    }
    if (this.hasOne) this.rest.set(this.oneKey, this.oneValue);
    this.oneKey = pid;
    this.oneValue = value;
    this.hasOne = true;
  }

  /** get and delete. */
  take(pid: number): number | undefined {
    if (this.hasOne && this.oneKey === pid) {
      this.hasOne = false;
      return this.oneValue;
    }
    if (this.rest.size === 0) return undefined;
    const v = this.rest.get(pid);
    if (v !== undefined) this.rest.delete(pid);
    return v;
  }
}
