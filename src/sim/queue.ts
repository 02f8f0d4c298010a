// The simulator's event queue: a binary heap of event ids keyed by (timeNs,
// priority, seq); the events themselves live in the simulator's own arrays.
// seq is the insertion counter, so equal times and priorities pop in insertion
// order and the order never depends on heap or sort stability.
//
// The heap is the simulator's innermost loop (a few pushes and pops per
// simulated operation), so the keys live in typed arrays and (priority, seq)
// is folded into one number: priority * 2^45 + seq orders exactly as the pair
// does while seq < 2^45 and priority < 2^7 (both far beyond any run), so a
// comparison is at most two float compares. Sifting moves a hole instead of
// swapping.
//
// In front of the heap sits one slot holding an event that precedes every
// event in the heap. The usual pattern — pop an event, handle it, push the
// running task's next segment end, which is again the earliest — then costs
// no heap operation at all; the order is the same total order either way.

/** 2^45: seq's range inside the folded (priority, seq) key. */
const PRIO_SCALE = 35184372088832;

export class EventQueue {
  private time = new Float64Array(64);
  private key = new Float64Array(64);
  private item = new Int32Array(64);
  private n = 0;
  private nextSeq = 0;
  /** The front slot: when set, (frontTime, frontKey) is before every heap entry. */
  private hasFront = false;
  private frontTime = 0;
  private frontKey = 0;
  private frontItem = 0;

  constructor() {
    // Doubles from the start (times pass 2^31 ns early in a run): no V8
    // field-representation change, and deoptimisation, mid-run.
    this.frontTime = this.frontKey = 0.5;
    this.frontTime = this.frontKey = 0;
  }

  get size(): number {
    return this.hasFront ? this.n + 1 : this.n;
  }

  push(timeNs: number, priority: number, item: number): void {
    const k = priority * PRIO_SCALE + this.nextSeq++;
    if (this.hasFront) {
      const ft = this.frontTime;
      if (timeNs < ft || (timeNs === ft && k < this.frontKey)) {
        // The new event goes first: the old front joins the heap.
        this.heapPush(ft, this.frontKey, this.frontItem);
        this.frontTime = timeNs;
        this.frontKey = k;
        this.frontItem = item;
      } else {
        this.heapPush(timeNs, k, item);
      }
      return;
    }
    if (this.n === 0 || timeNs < this.time[0] || (timeNs === this.time[0] && k < this.key[0])) {
      this.hasFront = true;
      this.frontTime = timeNs;
      this.frontKey = k;
      this.frontItem = item;
      return;
    }
    this.heapPush(timeNs, k, item);
  }

  peekTime(): number {
    if (this.hasFront) return this.frontTime;
    return this.n > 0 ? this.time[0] : Number.POSITIVE_INFINITY;
  }

  /** Removes the first event; its time is peekTime() before the call. */
  pop(): number {
    if (this.hasFront) {
      this.hasFront = false;
      return this.frontItem;
    }
    return this.heapPop();
  }

  private heapPush(timeNs: number, k: number, item: number): void {
    if (this.n === this.time.length) this.grow();
    const time = this.time;
    const key = this.key;
    const items = this.item;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = time[p];
      if (tp < timeNs || (tp === timeNs && key[p] < k)) break;
      time[i] = tp;
      key[i] = key[p];
      items[i] = items[p];
      i = p;
    }
    time[i] = timeNs;
    key[i] = k;
    items[i] = item;
  }

  private heapPop(): number {
    const items = this.item;
    const top = items[0];
    const n = --this.n;
    const time = this.time;
    const key = this.key;
    // Sift the last element down from the root.
    const lt = time[n];
    const lk = key[n];
    const li = items[n];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      const r = l + 1;
      if (r < n && (time[r] < time[l] || (time[r] === time[l] && key[r] < key[l]))) m = r;
      const tm = time[m];
      if (lt < tm || (lt === tm && lk < key[m])) break;
      time[i] = tm;
      key[i] = key[m];
      items[i] = items[m];
      i = m;
    }
    if (n > 0) {
      time[i] = lt;
      key[i] = lk;
      items[i] = li;
    }
    return top;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const time = new Float64Array(cap);
    time.set(this.time);
    const key = new Float64Array(cap);
    key.set(this.key);
    const item = new Int32Array(cap);
    item.set(this.item);
    this.time = time;
    this.key = key;
    this.item = item;
  }
}
