// Step labels and notes that are a fixed function of a few small integers
// (slot, pid, stack id, a flag), built once and shared by every execution: a
// path re-executed from a fresh kernel announces the same steps again, and
// building each label afresh (then hashing the new string for the state hash)
// was a measurable part of the explorer's time. The text is exactly what the
// template gives; only the building is cached.
import type { Step } from './exec.ts';

const LIMIT = 0x10000;
const MAX_ENTRIES = 1 << 16;

/** a, b, c each an integer in [0, 2^16): one number; -1 otherwise (then nothing is cached). */
function key(a: number, b: number, c: number): number {
  if ((a & 0xffff) !== a || (b & 0xffff) !== b || (c & 0xffff) !== c) return -1;
  return a + b * LIMIT + c * LIMIT * LIMIT;
}

/** Strings built by `text` from up to three small integers, each built once. */
export class Texts {
  private readonly cache = new Map<number, string>();
  constructor(private readonly text: (a: number, b: number, c: number) => string) {}
  get(a: number, b = 0, c = 0): string {
    const kk = key(a, b, c);
    if (kk < 0) return this.text(a, b, c);
    let s = this.cache.get(kk);
    if (s === undefined) {
      s = this.text(a, b, c);
      if (this.cache.size < MAX_ENTRIES) this.cache.set(kk, s);
    }
    return s;
  }
}

/** Unguarded steps labelled by `text` from up to three small integers: one shared, never modified Step per label. */
export class Steps {
  private readonly cache = new Map<number, Step>();
  constructor(private readonly text: (a: number, b: number, c: number) => string) {}
  get(a: number, b = 0, c = 0): Step {
    const kk = key(a, b, c);
    if (kk < 0) return { label: this.text(a, b, c) };
    let s = this.cache.get(kk);
    if (s === undefined) {
      s = { label: this.text(a, b, c) };
      if (this.cache.size < MAX_ENTRIES) this.cache.set(kk, s);
    }
    return s;
  }
}

/** Strings (config values, reader kinds) as small integers for the caches' keys. */
const ids = new Map<string, number>();
const names: string[] = [];

export function strId(s: string): number {
  let i = ids.get(s);
  if (i === undefined) {
    i = names.length;
    names.push(s);
    ids.set(s, i);
  }
  return i;
}

export function strOf(i: number): string {
  return names[i];
}
