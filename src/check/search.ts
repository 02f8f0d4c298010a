// The explorer: exhaustive depth-first search with state hashing and a
// preemption bound (CHESS), PCT with depth d, and seeded random walks. A path
// is a schedule (thread indices); every path is re-executed from a fresh
// Kernel. Every bound is reported; a bounded search never claims more than it
// covered.
import type { KernelConfig } from '../config/knobs.ts';
import type { Mutation } from '../kernel/mutations.ts';
import { Rng } from '../sim/rng.ts';
import { Exec, type ExecutedStep, type Finding, type Scenario } from './exec.ts';
import { Visited } from './visited.ts';

export type Strategy = 'dfs' | 'pct' | 'random';

export interface SearchOptions {
  strategy: Strategy;
  /** dfs: preemption bound; pct: depth d; random: unused. */
  bound: number;
  seed: number;
  /** pct / random: executions to run. */
  runs: number;
  /** Steps per path before it is cut (reported). */
  maxDepth: number;
  /** dfs: nodes to visit before giving up (reported). */
  maxStates: number;
}

export const DEFAULTS: Record<Strategy, SearchOptions> = {
  dfs: { strategy: 'dfs', bound: 2, seed: 1, runs: 0, maxDepth: 64, maxStates: 2_000_000 },
  pct: { strategy: 'pct', bound: 3, seed: 1, runs: 2000, maxDepth: 64, maxStates: 0 },
  random: { strategy: 'random', bound: 0, seed: 1, runs: 2000, maxDepth: 64, maxStates: 0 },
};

export interface Counterexample {
  kind: Finding['kind'];
  message: string;
  /** The minimal schedule (thread indices); replaying it reproduces the finding. */
  schedule: number[];
  steps: ExecutedStep[];
}

export interface SearchResult {
  explored: number;
  states: number;
  maxDepthSeen: number;
  paths: number;
  boundHit: string[];
  violations: Counterexample[];
  elapsedMs: number;
}

interface Frame {
  choices: number[];
  idx: number;
  preemptions: number;
}

/** Runs `schedule` strictly; null if a choice names a thread that cannot run there. */
export function replay(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, schedule: readonly number[], complete: boolean): Exec | null {
  const x = new Exec(sc, cfg, mut);
  for (const t of schedule) {
    if (x.found) return x;
    if (!x.enabled(t)) return null;
    x.step(t);
  }
  if (!x.found && complete) runToEnd(x);
  else if (!x.found && x.enabledList([]) === 0) x.finish();
  return x;
}

/** Completion policy: keep running the last thread while it can, else the lowest-numbered one that can. */
export function runToEnd(x: Exec, maxSteps = 512): void {
  for (let n = 0; n < maxSteps && !x.found; n++) {
    let next = x.last >= 0 && x.enabled(x.last) ? x.last : -1;
    if (next < 0) for (let i = 0; i < x.threads.length && next < 0; i++) if (x.enabled(i)) next = i;
    if (next < 0) {
      x.finish();
      return;
    }
    x.step(next);
  }
}

export function search(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, o: SearchOptions): SearchResult {
  const t0 = performance.now();
  const res: SearchResult = { explored: 0, states: 0, maxDepthSeen: 0, paths: 0, boundHit: [], violations: [], elapsedMs: 0 };
  const raw = new Map<string, { kind: Finding['kind']; schedule: number[] }>();
  const record = (x: Exec): void => {
    const f = x.found!;
    if (!raw.has(f.kind)) raw.set(f.kind, { kind: f.kind, schedule: x.schedule.slice() });
  };
  const hit = (b: string): void => {
    if (!res.boundHit.includes(b)) res.boundHit.push(b);
  };
  if (o.strategy === 'dfs') dfs(sc, cfg, mut, o, res, record, hit);
  else sample(sc, cfg, mut, o, res, record, hit);
  for (const r of raw.values()) res.violations.push(shrink(sc, cfg, mut, r.kind, r.schedule));
  res.elapsedMs = performance.now() - t0;
  return res;
}

function dfs(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, o: SearchOptions, res: SearchResult, record: (x: Exec) => void, hit: (b: string) => void): void {
  const visited = new Visited();
  const frames: Frame[] = [];
  const path: number[] = [];
  const buf: number[] = [];
  let x = new Exec(sc, cfg, mut);
  let preemptions = 0;
  for (;;) {
    res.explored++;
    if (path.length > res.maxDepthSeen) res.maxDepthSeen = path.length;
    let expand = true;
    if (x.found) {
      record(x);
      res.paths++;
      expand = false;
    } else {
      const h = x.hash();
      const seen = visited.get(h);
      if (seen >= 0 && seen <= preemptions) expand = false;
      else visited.set(h, preemptions);
    }
    if (expand) {
      const n = x.enabledList(buf);
      if (n === 0) {
        x.finish();
        res.paths++;
        if (x.found) record(x);
      } else if (path.length >= o.maxDepth) {
        hit(`depth ${o.maxDepth}`);
        res.paths++;
      } else if (res.explored >= o.maxStates) {
        hit(`states ${o.maxStates}`);
        break;
      } else {
        const choices = orderChoices(buf, n, x.last, preemptions, o.bound, hit);
        frames.push({ choices, idx: 0, preemptions });
        preemptions = childPreemptions(x, choices[0], preemptions, buf, n);
        path.push(choices[0]);
        x.step(choices[0]);
        continue;
      }
    }
    // Backtrack to the deepest frame with an untried choice and re-execute its prefix.
    while (frames.length > 0 && frames[frames.length - 1].idx + 1 >= frames[frames.length - 1].choices.length) {
      frames.pop();
      path.pop();
    }
    if (frames.length === 0) break;
    const f = frames[frames.length - 1];
    f.idx++;
    path.length = frames.length - 1;
    // The prefix was run and checked on the way down: re-run it without the checks.
    x = new Exec(sc, cfg, mut);
    x.rerun(path);
    const n = x.enabledList(buf);
    preemptions = childPreemptions(x, f.choices[f.idx], f.preemptions, buf, n);
    path.push(f.choices[f.idx]);
    x.step(f.choices[f.idx]);
  }
  res.states = visited.size;
}

/** The last thread first (no preemption), then the others while the preemption budget lasts. */
function orderChoices(buf: number[], n: number, last: number, preemptions: number, bound: number, hit: (b: string) => void): number[] {
  let lastEnabled = false;
  if (last >= 0) for (let i = 0; i < n && !lastEnabled; i++) lastEnabled = buf[i] === last;
  if (!lastEnabled) return buf.slice(0, n);
  if (preemptions >= bound) {
    if (n > 1) hit(`preemptions ${bound}`);
    return [last];
  }
  const out = [last];
  for (let i = 0; i < n; i++) if (buf[i] !== last) out.push(buf[i]);
  return out;
}

function childPreemptions(x: Exec, choice: number, preemptions: number, buf: number[], n: number): number {
  if (x.last < 0 || choice === x.last) return preemptions;
  for (let i = 0; i < n; i++) if (buf[i] === x.last) return preemptions + 1;
  return preemptions;
}

/** PCT (Burckhardt et al. 2010) with depth `bound`, or uniform random walks; `runs` executions from one seed. */
function sample(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, o: SearchOptions, res: SearchResult, record: (x: Exec) => void, hit: (b: string) => void): void {
  const rng = new Rng(o.seed, `check:${o.strategy}`);
  const seen = new Set<number>();
  const buf: number[] = [];
  let lenEstimate = 16;
  for (let run = 0; run < o.runs; run++) {
    const x = new Exec(sc, cfg, mut);
    const nt = x.threads.length;
    const prio: number[] = [];
    for (let i = 0; i < nt; i++) prio.push(o.bound + rng.below(1_000_000));
    const changeAt: number[] = [];
    for (let i = 1; i < o.bound; i++) changeAt.push(rng.below(lenEstimate));
    let depth = 0;
    for (;;) {
      res.explored++;
      seen.add(x.hash());
      if (x.found) break;
      const n = x.enabledList(buf);
      if (n === 0) {
        x.finish();
        break;
      }
      if (depth >= o.maxDepth) {
        hit(`depth ${o.maxDepth}`);
        break;
      }
      let pick = buf[0];
      if (o.strategy === 'random') pick = buf[rng.below(n)];
      else for (let i = 1; i < n; i++) if (prio[buf[i]] > prio[pick]) pick = buf[i];
      x.step(pick);
      // PCT's d-1 change points: the thread that took step k_i drops below every initial priority.
      const c = changeAt.indexOf(depth);
      if (o.strategy === 'pct' && c >= 0) prio[pick] = c;
      depth++;
    }
    if (depth > res.maxDepthSeen) res.maxDepthSeen = depth;
    if (depth > lenEstimate) lenEstimate = depth;
    res.paths++;
    if (x.found) record(x);
  }
  res.states = seen.size;
  hit(`runs ${o.runs}`);
}

/**
 * Delta debugging on the schedule: remove one step at a time (the rest run
 * strictly, then the completion policy) while the same kind of violation
 * still occurs in fewer steps; restart after every success. The result is
 * 1-minimal: no single step can be removed with the rest replayed strictly
 * and still fail.
 */
export function shrink(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, kind: Finding['kind'], schedule: number[]): Counterexample {
  let best = replay(sc, cfg, mut, schedule, true)!;
  let s = best.schedule.slice();
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = s.length - 1; i >= 0; i--) {
      const cand = s.slice(0, i).concat(s.slice(i + 1));
      const x = replay(sc, cfg, mut, cand, true);
      if (x?.found && x.found.kind === kind && x.schedule.length < s.length) {
        best = x;
        s = x.schedule.slice();
        changed = true;
        break;
      }
    }
  }
  return { kind, message: best.found!.message, schedule: s, steps: best.executed };
}
