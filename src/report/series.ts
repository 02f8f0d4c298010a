// Time series for the HTML report, recorded from a run's KernelEvents: per-CPU
// stack-cache hits and misses, per-CPU cache occupancy, RCU-pending stacks,
// stack memory and vmap_lazy_nr. Recording keeps only change points; `windowed`
// folds them into fixed windows so runs of different lengths share one x axis.
import type { KernelEvent, Tracer } from '../kernel/events.ts';
import { Lifecycle } from './lifecycle.ts';

/** A step function: value[i] holds from tsNs[i] until tsNs[i + 1]. */
interface Steps {
  tsNs: number[];
  value: number[];
}

export interface WindowedSeries {
  windowNs: number;
  /** Window start, ms. */
  xMs: number[];
  /** Per CPU: hits / (hits + misses) in the window; null where no stack was taken. */
  hitRate: (number | null)[][];
  /** Per CPU: stacks taken in the window. */
  takes: number[][];
  /** Per CPU: time-weighted mean cached stacks. */
  occupancy: (number | null)[][];
  /** Peaks in each window. */
  stackKiB: (number | null)[];
  rcuPending: (number | null)[];
  vmapLazyPages: (number | null)[];
}

export class SeriesRecorder implements Tracer {
  readonly enabled = true;
  readonly life: Lifecycle;
  readonly hitsNs: number[][] = [];
  readonly missesNs: number[][] = [];
  private readonly occupancy: Steps[] = [];
  private readonly rcu: Steps = { tsNs: [0], value: [0] };
  private readonly pages: Steps = { tsNs: [0], value: [0] };
  private readonly lazy: Steps = { tsNs: [0], value: [0] };
  endNs = 0;
  events = 0;
  /** A trace's clock starts at boot: times are kept relative to the first event. */
  originNs = -1;

  /** `originNs`: time zero of the charts (a trace's first record), else the first event seen. */
  constructor(cpuCount: number, originNs = -1) {
    this.originNs = originNs;
    this.life = new Lifecycle(cpuCount);
    for (let c = 0; c < cpuCount; c++) this.ensureCpu(c);
  }

  emit(e: KernelEvent): void {
    this.events++;
    if (this.originNs < 0) this.originNs = e.tsNs;
    const tsNs = Math.max(0, e.tsNs - this.originNs);
    if (tsNs > this.endNs) this.endNs = tsNs;
    if (e.cpu >= 0) this.ensureCpu(e.cpu);
    this.life.apply(e);
    if (e.name === 'stack_cache_hit') this.hitsNs[e.cpu].push(tsNs);
    else if (e.name === 'stack_cache_miss') this.missesNs[e.cpu].push(tsNs);
    const c = this.life.counters;
    for (let cpu = 0; cpu < c.cacheOccupancy.length; cpu++) {
      this.ensureCpu(cpu);
      step(this.occupancy[cpu], tsNs, c.cacheOccupancy[cpu]);
    }
    step(this.rcu, tsNs, c.rcuPending);
    step(this.pages, tsNs, c.stackPagesDelta);
    step(this.lazy, tsNs, c.vmapLazyPages);
  }

  get cpuCount(): number {
    return this.hitsNs.length;
  }

  get maxPagesDelta(): number {
    return Math.max(...this.pages.value);
  }

  get minPagesDelta(): number {
    return Math.min(...this.pages.value);
  }

  /**
   * Folds the run into `windows` windows of `windowNs`. `peakStackKiB` (from the
   * run's result) anchors stack memory: the events only see stacks allocated
   * during the run, not those its first tasks were born with.
   */
  windowed(windowNs: number, windows: number, peakStackKiB: number | null, kernelStateKnown = true): WindowedSeries {
    const baseKiB = peakStackKiB !== null ? peakStackKiB - this.maxPagesDelta * 4 : -this.minPagesDelta * 4;
    const inRun = (w: number): boolean => w * windowNs <= this.endNs;
    const xMs: number[] = [];
    for (let w = 0; w < windows; w++) xMs.push(round((w * windowNs) / 1e6, 6));
    const hitRate: (number | null)[][] = [];
    const takes: number[][] = [];
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      const h = countInWindows(this.hitsNs[cpu], windowNs, windows);
      const m = countInWindows(this.missesNs[cpu], windowNs, windows);
      hitRate.push(h.map((hits, w) => (hits + m[w] > 0 ? round(hits / (hits + m[w]), 4) : null)));
      takes.push(h.map((hits, w) => hits + m[w]));
    }
    const occupancy = this.occupancy.map((s) => meanInWindows(s, windowNs, windows, this.endNs).map((v, w) => (inRun(w) ? v : null)));
    const peak = (s: Steps, scale: number, base: number): (number | null)[] =>
      maxInWindows(s, windowNs, windows).map((v, w) => (inRun(w) ? base + v * scale : null));
    // A trace shows takes and vmap_lazy_nr but not what sits in caches or on RCU lists: leave those blank, not zero.
    const none = (): null[] => xMs.map(() => null);
    return {
      windowNs,
      xMs,
      hitRate,
      takes,
      occupancy: kernelStateKnown ? occupancy : occupancy.map(none),
      stackKiB: kernelStateKnown ? peak(this.pages, 4, baseKiB) : none(),
      rcuPending: kernelStateKnown ? peak(this.rcu, 1, 0) : none(),
      vmapLazyPages: peak(this.lazy, 1, 0),
    };
  }

  private ensureCpu(cpu: number): void {
    while (this.hitsNs.length <= cpu) {
      this.hitsNs.push([]);
      this.missesNs.push([]);
      this.occupancy.push({ tsNs: [0], value: [0] });
    }
  }
}

/** A window width that puts `windows` windows over the longest run, in round microseconds. */
export function windowNsFor(endNs: number, windows: number): number {
  return Math.max(1000, Math.ceil(endNs / windows / 1000) * 1000);
}

function step(s: Steps, tsNsRaw: number, v: number): void {
  const last = s.value.length - 1;
  // Each simulated CPU keeps its own clock, so a run's stream can step back a little: keep the steps monotonic.
  const tsNs = Math.max(tsNsRaw, s.tsNs[last]);
  if (s.value[last] === v) return;
  if (s.tsNs[last] === tsNs) {
    s.value[last] = v;
    return;
  }
  s.tsNs.push(tsNs);
  s.value.push(v);
}

function countInWindows(tsNs: readonly number[], windowNs: number, windows: number): number[] {
  const out = new Array<number>(windows).fill(0);
  for (const t of tsNs) out[Math.min(windows - 1, Math.floor(t / windowNs))]++;
  return out;
}

function maxInWindows(s: Steps, windowNs: number, windows: number): number[] {
  const out = new Array<number>(windows).fill(0);
  let i = 0;
  for (let w = 0; w < windows; w++) {
    const start = w * windowNs;
    const end = start + windowNs;
    // The value holding at the window's start, then every change inside it.
    while (i + 1 < s.tsNs.length && s.tsNs[i + 1] <= start) i++;
    let m = s.value[i];
    for (let j = i + 1; j < s.tsNs.length && s.tsNs[j] < end; j++) m = Math.max(m, s.value[j]);
    out[w] = m;
  }
  return out;
}

function meanInWindows(s: Steps, windowNs: number, windows: number, endNs: number): number[] {
  const out = new Array<number>(windows).fill(0);
  let i = 0;
  for (let w = 0; w < windows; w++) {
    const start = w * windowNs;
    const end = Math.min(start + windowNs, Math.max(endNs, start + 1));
    while (i + 1 < s.tsNs.length && s.tsNs[i + 1] <= start) i++;
    let acc = 0;
    for (let j = i; j < s.tsNs.length && s.tsNs[j] < end; j++) {
      const from = Math.max(start, s.tsNs[j]);
      const to = Math.min(end, j + 1 < s.tsNs.length ? s.tsNs[j + 1] : end);
      if (to > from) acc += s.value[j] * (to - from);
    }
    out[w] = round(acc / (end - start), 3);
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
