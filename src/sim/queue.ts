// The simulator's event queue: a binary heap keyed by (timeNs, priority, seq).
// seq is the insertion counter, so equal times and priorities pop in insertion
// order and the order never depends on heap or sort stability.

export class EventQueue<T> {
  private time: number[] = [];
  private prio: number[] = [];
  private seq: number[] = [];
  private item: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.time.length;
  }

  push(timeNs: number, priority: number, item: T): void {
    let i = this.time.length;
    this.time.push(timeNs);
    this.prio.push(priority);
    this.seq.push(this.nextSeq++);
    this.item.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  peekTime(): number {
    return this.time.length > 0 ? this.time[0] : Number.POSITIVE_INFINITY;
  }

  /** Removes the first event; its time is peekTime() before the call. */
  pop(): T {
    const top = this.item[0];
    const last = this.time.length - 1;
    this.swap(0, last);
    this.time.pop();
    this.prio.pop();
    this.seq.pop();
    this.item.pop();
    let i = 0;
    const n = this.time.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }

  private less(i: number, j: number): boolean {
    if (this.time[i] !== this.time[j]) return this.time[i] < this.time[j];
    if (this.prio[i] !== this.prio[j]) return this.prio[i] < this.prio[j];
    return this.seq[i] < this.seq[j];
  }

  private swap(i: number, j: number): void {
    let t = this.time[i];
    this.time[i] = this.time[j];
    this.time[j] = t;
    t = this.prio[i];
    this.prio[i] = this.prio[j];
    this.prio[j] = t;
    t = this.seq[i];
    this.seq[i] = this.seq[j];
    this.seq[j] = t;
    const x = this.item[i];
    this.item[i] = this.item[j];
    this.item[j] = x;
  }
}
