// The DFS's visited states: an open-addressing table from a 53-bit state hash
// to the fewest preemptions the state was reached with. Plays the part of a
// Map<number, number> (same answers), without a heap number and a Map entry
// per state.

const LO = 0x200000; // 2^21: a hash is hi * 2^21 + lo, hi < 2^32

export class Visited {
  size = 0;
  private mask: number;
  /** hi of each slot's hash (bits 21..52). */
  private hi: Int32Array;
  /** lo + 1 of each slot's hash (bits 0..20); 0: the slot is empty. */
  private lo: Int32Array;
  private val: Int32Array;

  constructor(capacity = 1024) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.mask = cap - 1;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.val = new Int32Array(cap);
  }

  /** The value stored for `h`, or -1 when there is none (values are never negative). */
  get(h: number): number {
    const q = Math.floor(h / LO);
    const hi = q | 0;
    const lo1 = h - q * LO + 1;
    const mask = this.mask;
    for (let i = slot(hi, lo1) & mask; ; i = (i + 1) & mask) {
      const l = this.lo[i];
      if (l === 0) return -1;
      if (l === lo1 && this.hi[i] === hi) return this.val[i];
    }
  }

  set(h: number, v: number): void {
    const q = Math.floor(h / LO);
    const hi = q | 0;
    const lo1 = h - q * LO + 1;
    const mask = this.mask;
    for (let i = slot(hi, lo1) & mask; ; i = (i + 1) & mask) {
      const l = this.lo[i];
      if (l === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo1;
        this.val[i] = v;
        if (++this.size * 2 > mask) this.grow();
        return;
      }
      if (l === lo1 && this.hi[i] === hi) {
        this.val[i] = v;
        return;
      }
    }
  }

  private grow(): void {
    const { hi, lo, val } = this;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.val = new Int32Array(cap);
    const mask = this.mask;
    for (let j = 0; j < lo.length; j++) {
      if (lo[j] === 0) continue;
      let i = slot(hi[j], lo[j]) & mask;
      while (this.lo[i] !== 0) i = (i + 1) & mask;
      this.hi[i] = hi[j];
      this.lo[i] = lo[j];
      this.val[i] = val[j];
    }
  }
}

/** Where a hash's probe starts (before masking): both halves mixed into the low bits. */
function slot(hi: number, lo1: number): number {
  const x = Math.imul(hi ^ Math.imul(lo1, 0x9e3779b1), 0x85ebca6b);
  return x ^ (x >>> 15);
}
