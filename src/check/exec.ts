// One execution of a scenario under the explorer: a fresh Kernel, the
// scenario's threads (per-CPU task, hardirq and softirq contexts, each a
// generator that yields before every atomic step), and the checks run after
// every step. The explorer never snapshots: it re-executes a schedule (the
// list of thread choices) from a fresh Kernel, so the only state is the model's.
import { getPreset } from '../config/index.ts';
import type { KernelConfig } from '../config/knobs.ts';
import { defaultCosts } from '../cost/table.ts';
import type { Ctx, Tracer } from '../kernel/events.ts';
import { Kernel, type ViolationKind } from '../kernel/kernel.ts';
import type { Mutation } from '../kernel/mutations.ts';
import { type KStack, StackState, type TaskStruct } from '../kernel/task.ts';

/** The next atomic step a thread will take, announced before it is taken. */
export interface Step {
  label: string;
  /** The step can run only while this holds (a wait); absent: always. Called with the step's `arg`. */
  guard?: (x: Exec, self: Thread, arg: unknown) => boolean;
  arg?: unknown;
}

export type Body = Generator<Step, void, void>;

export interface ThreadSpec {
  name: string;
  /** -1: the RCU grace-period machinery, which belongs to no CPU. */
  cpu: number;
  ctx: Ctx;
  /** Runs for ever (RCU) or may never run (an interrupt that need not come): not required to finish. */
  optional?: boolean;
  /** A module-level generator function, called as body(x, self, ...args): no closure per execution. */
  body: (x: Exec, self: Thread, ...args: never[]) => Body;
  args: readonly unknown[];
}

/** A thread spec whose body takes `args` after (x, self), type-checked. */
export function threadSpec<A extends unknown[]>(name: string, cpu: number, ctx: Ctx, body: (x: Exec, self: Thread, ...args: A) => Body, args: A, optional = false): ThreadSpec {
  return optional ? { name, cpu, ctx, optional, body: body as unknown as ThreadSpec['body'], args } : { name, cpu, ctx, body: body as unknown as ThreadSpec['body'], args };
}

export class Thread {
  next: Step | null = null;
  steps = 0;
  /** local_irq_save() held: no hardirq or softirq may start on this CPU. */
  irqOff = false;
  /** Inside an RCU read-side section or a non-preemptible region: this CPU cannot report a quiescent state. */
  noQs = false;
  /** An interrupt context that loops (RCU_SOFTIRQ) sets this between invocations: it holds no CPU then. */
  between = false;
  /** Set by the body while it runs a step: what the step did, for the counterexample. */
  note = '';
  gen: Body | null = null;
  /** The step whose label hash is `labelH` (the hash reads each announced step's label once). */
  hashedStep: Step | null = null;
  labelH = 0;
  constructor(
    readonly index: number,
    readonly spec: ThreadSpec,
  ) {}
  get done(): boolean {
    return this.next === null;
  }
  /** A hardirq or softirq that has started and not finished owns its CPU. */
  get active(): boolean {
    return this.spec.ctx !== 'task' && this.steps > 0 && this.next !== null && !this.between;
  }
}

export interface ExecutedStep {
  thread: number;
  name: string;
  cpu: number;
  ctx: Ctx;
  label: string;
}

export interface Finding {
  kind: ViolationKind | 'stuck';
  message: string;
  /** Index in `executed` of the step that found it; executed.length when found at the end. */
  atStep: number;
}

export interface Scenario {
  name: string;
  summary: string;
  cpuCount: number;
  /** A scenario tied to one config (reader-4.8) names it; otherwise the caller's config is used. */
  fixedConfig?: string;
  /** Why the scenario does not apply to `cfg`, or null when it does. */
  notApplicable(cfg: KernelConfig): string | null;
  setup(x: Exec): ThreadSpec[];
}

export const STEP_NS = 1000;

/** The cost table is read-only to the model: one copy serves every execution. */
const COSTS = defaultCosts();

/** Step labels repeat across paths: hash each once. */
const labelHashes = new Map<string, number>();

function labelHash(l: string): number {
  let v = labelHashes.get(l);
  if (v !== undefined) return v;
  v = 0x811c9dc5;
  for (let i = 0; i < l.length; i++) v = Math.imul(v ^ l.charCodeAt(i), 0x01000193);
  if (labelHashes.size < 100_000) labelHashes.set(l, v);
  return v;
}

export class Exec {
  readonly k: Kernel;
  readonly threads: Thread[] = [];
  /** The thread of every step run so far (the schedule). */
  readonly schedule: number[] = [];
  /** Each step's announced label and the note it left: the step list is built from these on demand. */
  private readonly labels: string[] = [];
  private readonly notes: string[] = [];
  readonly tasks: TaskStruct[] = [];
  readonly stacks: KStack[] = [];
  found: Finding | null = null;
  last = -1;
  private vBase = 0;

  constructor(
    readonly scenario: Scenario,
    readonly cfg: KernelConfig,
    readonly mutation: Mutation | null,
    tracer?: Tracer,
  ) {
    this.k = new Kernel({ config: cfg, costs: COSTS, cpuCount: scenario.cpuCount, tracer, mutations: mutation ? [mutation] : [] });
    const specs = scenario.setup(this);
    for (const s of specs) this.threads.push(new Thread(this.threads.length, s));
    for (const t of this.threads) {
      t.gen = (t.spec.body as (x: Exec, self: Thread, ...args: unknown[]) => Body)(this, t, ...t.spec.args);
      this.advance(t);
    }
    this.trackStacks();
    this.vBase = this.k.violations.length;
  }

  /** A task the checks and the state hash look at. */
  track(t: TaskStruct): TaskStruct {
    if (!this.tasks.includes(t)) this.tasks.push(t);
    return t;
  }

  enabled(i: number): boolean {
    const t = this.threads[i];
    if (t.next === null) return false;
    const cpu = t.spec.cpu;
    if (cpu >= 0) {
      if (!this.k.cpus[cpu].online) return false;
      if (!this.cpuAllows(t, cpu)) return false;
    }
    const g = t.next.guard;
    return g === undefined || g(this, t, t.next.arg);
  }

  /** Fills `out` with the enabled threads; returns how many. */
  enabledList(out: number[]): number {
    let n = 0;
    for (let i = 0; i < this.threads.length; i++) if (this.enabled(i)) out[n++] = i;
    return n;
  }

  /** The steps run so far, as the counterexample lists them. */
  get executed(): ExecutedStep[] {
    const out: ExecutedStep[] = [];
    for (let n = 0; n < this.schedule.length; n++) {
      const spec = this.threads[this.schedule[n]].spec;
      const note = this.notes[n];
      out.push({ thread: this.schedule[n], name: spec.name, cpu: spec.cpu, ctx: spec.ctx, label: note ? `${this.labels[n]} ${note}` : this.labels[n] });
    }
    return out;
  }

  /** Runs thread i's announced step. */
  step(i: number): void {
    this.run(i);
    const k = this.k;
    if (k.violations.length > this.vBase) {
      const v = k.violations[this.vBase];
      this.found = { kind: v.kind, message: v.message, atStep: this.schedule.length - 1 };
      return;
    }
    this.checkStep();
  }

  /**
   * Re-runs a prefix that the search already ran and checked from a fresh
   * kernel: the same steps, without the per-step checks, which found nothing
   * there the first time (the model is deterministic; its own violations are
   * still looked at).
   */
  rerun(prefix: readonly number[]): void {
    for (let n = 0; n < prefix.length; n++) {
      this.run(prefix[n]);
      const k = this.k;
      if (k.violations.length > this.vBase) {
        const v = k.violations[this.vBase];
        this.found = { kind: v.kind, message: v.message, atStep: this.schedule.length - 1 };
        return;
      }
    }
  }

  private run(i: number): void {
    const t = this.threads[i];
    const k = this.k;
    const label = t.next!.label;
    const cpu = t.spec.cpu;
    k.at(Math.max(cpu, 0), (this.schedule.length + 1) * STEP_NS, t.spec.ctx);
    t.note = '';
    t.steps++;
    this.advance(t);
    this.last = i;
    this.schedule.push(i);
    this.labels.push(label);
    this.notes.push(t.note);
    this.trackStacks();
  }

  /** No thread can run: the end-of-run checks (leaks, invariants, threads that never finished). */
  finish(): void {
    if (this.found) return;
    const k = this.k;
    const at = this.schedule.length;
    const stuck = this.threads.filter((t) => !t.done && !t.spec.optional);
    if (stuck.length > 0) {
      this.found = { kind: 'stuck', message: `no thread can run but ${stuck.map((t) => `${t.spec.name} (waiting at: ${t.next!.label})`).join(', ')} never finished`, atStep: at };
      return;
    }
    k.checkLeaksAtEnd((at + 1) * STEP_NS);
    if (k.violations.length > this.vBase) {
      const v = k.violations[this.vBase];
      this.found = { kind: v.kind, message: v.message, atStep: at };
      return;
    }
    const problems = k.checkInvariants();
    if (problems.length > 0) this.found = { kind: classify(problems[0]), message: problems[0], atStep: at };
  }

  /** 53-bit hash of the model state the scenario can observe, plus every thread's position. */
  hash(): number {
    // Two 32-bit FNV/murmur-style lanes in locals; M(v) is written out at each value.
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    let v = 0;
    const k = this.k;
    const tasks = this.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i];
      v = t.pid;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = t.state | (t.exitState << 16);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = t.usage | (t.rcuUsers << 8) | (t.stackRefcount << 16);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = t.stack ? t.stack.id : 0;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = (t.released ? 1 : 0) | (t.freed ? 2 : 0) | (t.onCpu ? 4 : 0) | (t.kthreadShouldStop ? 8 : 0);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    }
    const stacks = this.stacks;
    for (let i = 0; i < stacks.length; i++) {
      const s = stacks[i];
      v = s.id;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = s.state | (s.cpu << 8) | ((s.slot + 1) << 16);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = s.ownerPid;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    }
    const cpus = k.cpus;
    for (let c = 0; c < cpus.length; c++) {
      const pc = cpus[c];
      v = pc.curr.pid | (pc.online ? 1 << 30 : 0);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      const cached = pc.cachedStacks;
      for (let i = 0; i < cached.length; i++) {
        const s = cached[i];
        v = s ? s.id : 0;
        a = Math.imul(a ^ v, 0x01000193);
        b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      }
      v = pc.rcu.cbs.length - pc.rcu.head;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      v = pc.rcu.qsPending ? 1 : 0;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    }
    const r = k.rcu;
    v = r.gpCompleted | (r.gpInProgress ? 1 << 20 : 0) | (r.gpRequested ? 1 << 21 : 0);
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    v = r.readersInside | (r.pending << 8);
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    const threads = this.threads;
    for (let i = 0; i < threads.length; i++) {
      const t = threads[i];
      v = t.steps | (t.irqOff ? 1 << 20 : 0) | (t.noQs ? 1 << 21 : 0);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
      const next = t.next;
      if (next !== null && next !== t.hashedStep) {
        t.hashedStep = next;
        t.labelH = labelHash(next.label);
      }
      v = next ? t.labelH : 0;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    }
    v = this.last;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 13);
    return (a >>> 0) * 0x200000 + (b >>> 11);
  }

  /** No CPU is inside a region that keeps it from reporting a quiescent state. */
  quiescentPossible(): boolean {
    for (const t of this.threads) if (t.noQs || t.irqOff || t.active) return false;
    return true;
  }

  private cpuAllows(t: Thread, cpu: number): boolean {
    for (const o of this.threads) {
      if (o === t || o.spec.cpu !== cpu) continue;
      if (t.spec.ctx === 'task') {
        if (o.active) return false; // an interrupt runs to completion before the task resumes
      } else if (t.active) {
        if (o.active && o.spec.ctx === 'hardirq' && t.spec.ctx === 'softirq') return false;
      } else {
        if (o.irqOff) return false;
        if (o.active) return false; // no nesting: one interrupt at a time per CPU
      }
    }
    return true;
  }

  private advance(t: Thread): void {
    const r = t.gen!.next();
    t.next = r.done ? null : r.value;
  }

  private trackStacks(): void {
    const stacks = this.stacks;
    const tasks = this.tasks;
    for (let i = 0; i < tasks.length; i++) {
      const s = tasks[i].stack;
      if (s && !stacks.includes(s)) stacks.push(s);
    }
    const cpus = this.k.cpus;
    for (let c = 0; c < cpus.length; c++) {
      const cached = cpus[c].cachedStacks;
      for (let i = 0; i < cached.length; i++) {
        const s = cached[i];
        if (s && !stacks.includes(s)) stacks.push(s);
      }
    }
  }

  /** The cheap checks run after every step (the full invariant check runs at the end). */
  private checkStep(): void {
    const k = this.k;
    const at = this.schedule.length - 1;
    for (const s of this.stacks) {
      if (s.state !== StackState.Cached) continue;
      const pc = k.cpus[s.cpu];
      if (pc.cachedStacks[s.slot] !== s) {
        this.found = { kind: 'leak', message: `stack #${s.id} was stored in cpu ${s.cpu} slot ${s.slot} and overwritten there: no slot, task or list holds it any more`, atStep: at };
        return;
      }
      if (!pc.online) {
        this.found = { kind: 'leak', message: `stack #${s.id} is cached on offline cpu ${s.cpu}: leaked until it comes back (no free_vm_stack_cache)`, atStep: at };
        return;
      }
      if (s.ownerPid !== 0) {
        this.found = { kind: 'cached-stack-owned', message: `cached stack #${s.id} is still owned by pid ${s.ownerPid}`, atStep: at };
        return;
      }
      if (k.cfg.MEMCG_CHARGE === 'assign' && s.memcg !== 0) {
        this.found = { kind: 'cached-stack-charged', message: `cached stack #${s.id} is still charged to memcg ${s.memcg}`, atStep: at };
        return;
      }
    }
    for (const t of this.tasks) {
      const s = t.stack;
      if (!s || t.freed) continue;
      if (s.state !== StackState.InUse && s.state !== StackState.Allocated && s.state !== StackState.DeadPinned) {
        this.found = { kind: 'freed-stack-reachable', message: `pid ${t.pid}'s tsk->stack still points at stack #${s.id}, which is ${k.describeStack(s)}`, atStep: at };
        return;
      }
    }
  }
}

function classify(problem: string): ViolationKind {
  if (problem.includes('CACHED but is in no slot')) return 'leak';
  if (problem.includes('still owned')) return 'cached-stack-owned';
  if (problem.includes('still charged')) return 'cached-stack-charged';
  if (problem.includes('points at stack')) return 'freed-stack-reachable';
  if (problem.includes('stack_refcount -') || problem.includes('usage -')) return 'refcount-underflow';
  return 'invariant';
}

/** The preset a scenario runs on, with a zone small enough that a Kernel costs microseconds. */
export function checkConfig(name: string): KernelConfig {
  return { ...getPreset(name), ZONE_PAGES: 1024 };
}
