// Synthetic workloads: each is a set of behaviours for simulated tasks, with
// parameters given as `name:key=value,...` and documented defaults. An "op" is
// what the workload counts per unit of work (one create+join, one thread of a
// burst, one fork+wait, ...); µs/op in the results divides the simulated wall
// time of the workload by that count.
import { InputError } from '../errors.ts';
import type { CostTable } from '../cost/table.ts';
import type { ReaderKind } from '../kernel/task_stack.ts';
import type { Behaviour, Sim, SimTask } from './engine.ts';
import type { Rng } from './rng.ts';

export interface WorkloadContext {
  sim: Sim;
  ops: number;
  costs: CostTable;
  rng: Rng;
  /** CPU the main task starts on. */
  startCpu: number;
}

export interface WorkloadSpec {
  name: string;
  summary: string;
  /** Parameter name → [default, meaning]. */
  params: Record<string, [number, string]>;
  /** What one op is. */
  op: string;
  setup(ctx: WorkloadContext, p: Record<string, number>): void;
}

export class WorkloadError extends InputError {}

const MAIN_PID = 1000;

/**
 * pthread_join() each of `children` in creation order: false (and `t` blocked
 * on the first still running) until all have exited; the joined ones leave
 * the list, counting an op each when `countOps`.
 */
function joinAll(sim: Sim, t: SimTask, children: SimTask[], countOps: boolean): boolean {
  let joined = 0;
  while (joined < children.length && children[joined].exited) {
    joined++;
    if (countOps) sim.opDone();
  }
  if (joined > 0) children.splice(0, joined);
  if (children.length === 0) return true;
  children[0].waiter = t;
  sim.block(t);
  return false;
}

/** A thread that returns at once: pthread start routine → exit. */
class ThreadNop implements Behaviour {
  constructor(private readonly runNs: number) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0) {
      t.pc = 1;
      sim.compute(t, this.runNs);
      return;
    }
    sim.exit(t);
  }
}

/** A forked process: optionally exec()s (sched_exec may move it), runs, and exits. */
class ProcessChild implements Behaviour {
  constructor(
    private readonly exec: boolean,
    private readonly runNs: number,
    private readonly execNs: number,
  ) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0 && this.exec) {
      // sched_exec(): balance before the new image starts.
      t.pc = 1;
      const dest = sim.placement.execCpu(sim, t);
      if (dest !== t.cpu) {
        sim.migrate(t, dest);
        return;
      }
    }
    if (t.pc === 1) {
      t.pc = 2;
      sim.compute(t, this.execNs);
      return;
    }
    if (t.pc <= 2) {
      t.pc = 3;
      sim.compute(t, this.runNs);
      return;
    }
    sim.exit(t);
  }
}

/**
 * Creates `batch` children, then joins (threads: futex) or waits for (processes:
 * wait4, which reaps) every one of them; repeats until `ops` children are done.
 */
class Creator implements Behaviour {
  /** The batch's children not yet joined: batchLeft[batchHead..batchEnd) (slots are reused, never shrunk). */
  private readonly batchLeft: SimTask[] = [];
  private batchHead = 0;
  private batchEnd = 0;
  /** One options object for every clone (read during the call only). */
  private readonly cloneOpts: { thread: boolean };
  constructor(
    private readonly batch: number,
    private readonly ops: number,
    thread: boolean,
    /** Every child runs this one behaviour (its state lives in the SimTask), so none is allocated per fork. */
    private readonly child: Behaviour,
    private readonly userNs: number,
  ) {
    this.cloneOpts = { thread };
  }

  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0) {
      // Create a batch.
      if (t.i >= this.ops) {
        sim.finishWorkload();
        sim.exit(t);
        return;
      }
      const n = Math.min(this.batch, this.ops - t.i);
      for (let j = 0; j < n; j++) {
        const c = sim.clone(t, this.child, this.cloneOpts);
        if (c) this.batchLeft[this.batchEnd++] = c;
        t.i++;
      }
      t.pc = 1;
      sim.compute(t, this.userNs);
      return;
    }
    // Join / wait for the batch in creation order.
    const left = this.batchLeft;
    while (this.batchHead < this.batchEnd) {
      const c = left[this.batchHead];
      if (!c.exited) {
        c.waiter = t;
        sim.block(t);
        return;
      }
      this.batchHead++;
      sim.reap(t, c);
      sim.opDone();
      // Nothing refers to the child now (its batch slot is never read again).
      sim.releaseTask(c);
    }
    this.batchHead = 0;
    this.batchEnd = 0;
    t.pc = 0;
    sim.compute(t, this.userNs);
  }
}

/** perf bench sched messaging -t: a worker that waits for the start signal, exchanges messages, exits. */
class MessagingWorker implements Behaviour {
  constructor(
    private readonly loops: number,
    private readonly msgNs: number,
    private readonly start: { go: boolean; waiting: SimTask[] },
  ) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0) {
      if (!this.start.go) {
        this.start.waiting.push(t);
        t.pc = 1;
        sim.block(t);
        return;
      }
      t.pc = 1;
    }
    if (t.pc === 1) {
      if (t.i >= this.loops) {
        sim.exit(t);
        return;
      }
      t.i++;
      // A send to the peer wakes it; a receive with nothing pending sleeps.
      if (t.peer) sim.wake(t, t.peer, true);
      if (t.peer && t.i % 2 === 0) {
        sim.sleep(t, this.msgNs * 4);
        return;
      }
      sim.compute(t, this.msgNs);
    }
  }
}

class MessagingMain implements Behaviour {
  private workers: SimTask[] = [];
  private readonly start = { go: false, waiting: [] as SimTask[] };
  constructor(
    private readonly threads: number,
    private readonly loops: number,
    private readonly msgNs: number,
    private readonly userNs: number,
  ) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0) {
      // All threads are created back to back before any of them starts work.
      const worker = new MessagingWorker(this.loops, this.msgNs, this.start);
      for (let j = 0; j < this.threads; j++) {
        const c = sim.clone(t, worker, { thread: true });
        if (c) this.workers.push(c);
      }
      for (let j = 0; j + 1 < this.workers.length; j += 2) {
        this.workers[j].peer = this.workers[j + 1];
        this.workers[j + 1].peer = this.workers[j];
      }
      t.pc = 1;
      sim.compute(t, this.userNs);
      return;
    }
    if (t.pc === 1) {
      this.start.go = true;
      for (const w of this.start.waiting) sim.wake(t, w, false);
      this.start.waiting = [];
      t.pc = 2;
    }
    if (!joinAll(sim, t, this.workers, true)) return;
    sim.finishWorkload();
    sim.exit(t);
  }
}

/** A pool: W workers created once, R rounds of broadcast work, then all exit. */
class PoolWorker implements Behaviour {
  constructor(
    private readonly pool: { round: number; done: number; main: SimTask | null; stop: boolean; idle: SimTask[] },
    private readonly workNs: number,
  ) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 1) {
      t.pc = 0;
      this.pool.done++;
      if (this.pool.main) sim.wake(t, this.pool.main, false);
    }
    if (this.pool.stop) {
      sim.exit(t);
      return;
    }
    if (t.i < this.pool.round) {
      t.i++;
      t.pc = 1;
      sim.compute(t, this.workNs);
      return;
    }
    this.pool.idle.push(t);
    sim.block(t);
  }
}

class PoolMain implements Behaviour {
  private readonly pool = { round: 0, done: 0, main: null as SimTask | null, stop: false, idle: [] as SimTask[] };
  private workers: SimTask[] = [];
  constructor(
    private readonly nWorkers: number,
    private readonly rounds: number,
    private readonly workNs: number,
  ) {}
  step(sim: Sim, t: SimTask): void {
    this.pool.main = t;
    if (t.pc === 0) {
      const worker = new PoolWorker(this.pool, this.workNs);
      for (let j = 0; j < this.nWorkers; j++) {
        const c = sim.clone(t, worker, { thread: true });
        if (c) this.workers.push(c);
      }
      t.pc = 1;
    }
    if (t.pc === 1) {
      if (this.pool.round >= this.rounds) {
        this.pool.stop = true;
        for (const w of this.pool.idle) sim.wake(t, w, false);
        this.pool.idle = [];
        t.pc = 3;
      } else {
        this.pool.round++;
        this.pool.done = 0;
        for (const w of this.pool.idle) sim.wake(t, w, false);
        this.pool.idle = [];
        t.pc = 2;
      }
    }
    if (t.pc === 2) {
      if (this.pool.done < this.workers.length) {
        sim.block(t);
        return;
      }
      sim.opDone();
      t.pc = 1;
      sim.compute(t, 1000);
      return;
    }
    if (!joinAll(sim, t, this.workers, false)) return;
    sim.finishWorkload();
    sim.exit(t);
  }
}

/** Reads a random live churn thread's stack, wchan or syscall, as `cat /proc/PID/stack` does. */
class StackReaderTask implements Behaviour {
  constructor(
    private readonly kinds: readonly ReaderKind[],
    private readonly walkNs: number,
    private readonly periodNs: number,
    private readonly rng: Rng,
    private readonly targets: () => Iterable<SimTask>,
  ) {}
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0 && sim.workloadDone) {
      sim.exit(t);
      return;
    }
    if (t.pc === 0) {
      const live = Array.from(this.targets());
      if (live.length === 0) {
        sim.sleep(t, this.periodNs);
        return;
      }
      const target = live[this.rng.below(live.length)];
      const kind = this.kinds[t.i++ % this.kinds.length];
      t.reader = sim.readerBegin(t, kind, target.pid);
      if (!t.reader) {
        sim.sleep(t, this.periodNs);
        return;
      }
      t.pc = 1;
      sim.compute(t, this.walkNs);
      return;
    }
    if (t.pc === 1) {
      sim.readerAccess(t, t.reader!);
      t.pc = 2;
      sim.compute(t, this.walkNs);
      return;
    }
    sim.readerAccess(t, t.reader!);
    sim.readerEnd(t, t.reader!);
    t.reader = null;
    t.pc = 0;
    sim.sleep(t, this.periodNs);
  }
}

/** A kthread that works in short bursts until kthread_should_stop(). */
class KthreadWorker implements Behaviour {
  constructor(private readonly workNs: number) {}
  step(sim: Sim, t: SimTask): void {
    const kt = sim.k.task(t.pid);
    if (kt?.kthreadShouldStop) {
      sim.exit(t);
      return;
    }
    sim.sleep(t, this.workNs);
  }
}

/** kthreadd-like: creates a kthread, lets it run, kthread_stop()s it; repeats. */
class KthreadStopper implements Behaviour {
  private kt: SimTask | null = null;
  private readonly worker: KthreadWorker;
  constructor(
    private readonly ops: number,
    private readonly lifeNs: number,
  ) {
    this.worker = new KthreadWorker(lifeNs / 4);
  }
  step(sim: Sim, t: SimTask): void {
    if (t.pc === 0) {
      if (t.i >= this.ops) {
        sim.finishWorkload();
        sim.exit(t);
        return;
      }
      t.i++;
      this.kt = sim.clone(t, this.worker, { thread: false, comm: 'kthread' });
      t.pc = 1;
      sim.sleep(t, this.lifeNs);
      return;
    }
    if (t.pc === 1) {
      if (!this.kt) {
        t.pc = 0;
        sim.compute(t, 1000);
        return;
      }
      // kthread_stop(): pin (to_live_kthread), set should_stop, wake it, wait for it to exit.
      t.reader = sim.readerBegin(t, 'kthread', this.kt.pid);
      sim.wake(t, this.kt, false);
      t.pc = 2;
    }
    const kt = this.kt!;
    if (!kt.exited) {
      kt.waiter = t;
      sim.block(t);
      return;
    }
    if (t.reader) sim.readerEnd(t, t.reader);
    t.reader = null;
    sim.reap(t, kt);
    sim.opDone();
    this.kt = null;
    t.pc = 0;
    sim.compute(t, 1000);
  }
}

export const WORKLOADS: Record<string, WorkloadSpec> = {
  'pthread-loop': {
    name: 'pthread-loop',
    summary: 'pthread_create of a thread that returns at once, then pthread_join, in a loop (tbench loop N)',
    params: {},
    op: 'one pthread_create + pthread_join',
    setup(ctx) {
      const c = ctx.costs;
      ctx.sim.spawn(MAIN_PID, 'tbench', new Creator(1, ctx.ops, true, new ThreadNop(c.threadRunNs), c.futexWaitNs), ctx.startCpu);
    },
  },
  burst: {
    name: 'burst',
    summary: 'rounds of: create K threads, then join all K (tbench burst K R)',
    params: { k: [4, 'threads created per round before joining'] },
    op: 'one thread created and joined',
    setup(ctx, p) {
      const c = ctx.costs;
      ctx.sim.spawn(MAIN_PID, 'tbench', new Creator(p.k, ctx.ops, true, new ThreadNop(c.threadRunNs), c.futexWaitNs), ctx.startCpu);
    },
  },
  'fork-exit-wait': {
    name: 'fork-exit-wait',
    summary: 'fork(); the child _exit(0)s; the parent waitpid()s it (tbench fork N)',
    params: {},
    op: 'one fork + exit + wait',
    setup(ctx) {
      const c = ctx.costs;
      ctx.sim.spawn(MAIN_PID, 'tbench', new Creator(1, ctx.ops, false, new ProcessChild(false, c.threadRunNs, 0), c.waitNs), ctx.startCpu);
    },
  },
  'fork-exec': {
    name: 'fork-exec',
    summary: 'a shell running /bin/true in a loop: fork, exec, exit, wait (tbench forkexec N)',
    params: {},
    op: 'one fork + exec + exit + wait',
    setup(ctx) {
      const c = ctx.costs;
      ctx.sim.spawn(MAIN_PID, 'bash', new Creator(1, ctx.ops, false, new ProcessChild(true, c.threadRunNs, c.execNs), c.waitNs), ctx.startCpu);
    },
  },
  'thread-pool': {
    name: 'thread-pool',
    summary: 'W worker threads created once; R rounds of broadcast work; then all exit',
    params: { workers: [8, 'worker threads'], rounds: [0, 'rounds (0 = --ops)'] },
    op: 'one round of work by every worker',
    setup(ctx, p) {
      const rounds = p.rounds > 0 ? p.rounds : ctx.ops;
      ctx.sim.spawn(MAIN_PID, 'pool', new PoolMain(p.workers, rounds, 20_000), ctx.startCpu);
    },
  },
  messaging: {
    name: 'messaging',
    summary: 'perf bench sched messaging -t: 40 threads per group created back to back, message exchange, then all die',
    params: { groups: [20, 'groups of 20 senders + 20 receivers'], loops: [20, 'messages per thread'] },
    op: 'one thread created, run and joined',
    setup(ctx, p) {
      const threads = p.groups * 40;
      ctx.sim.spawn(MAIN_PID, 'sched-messaging', new MessagingMain(threads, p.loops, 5_000, ctx.costs.futexWaitNs), ctx.startCpu);
    },
  },
  'stack-readers': {
    name: 'stack-readers',
    summary: 'pthread churn while reader tasks walk the live threads\' stacks, wchan and syscall (/proc/PID/{stack,wchan,syscall})',
    params: { readers: [2, 'reader tasks'], k: [4, 'threads per churn round'] },
    op: 'one churn thread created and joined',
    setup(ctx, p) {
      const c = ctx.costs;
      const main = ctx.sim.spawn(MAIN_PID, 'churn', new Creator(p.k, ctx.ops, true, new ThreadNop(c.threadRunNs * 4), c.futexWaitNs), ctx.startCpu, { trackChildren: true });
      const targets = (): Iterable<SimTask> => main.liveChildren ?? [];
      for (let r = 0; r < p.readers; r++) {
        const kinds: ReaderKind[] = ['stack-trace', 'wchan', 'syscall'];
        ctx.sim.spawn(MAIN_PID + 1 + r, `reader${r}`, new StackReaderTask(kinds, 1_500, 3_000, ctx.rng, targets), (ctx.startCpu + 1 + r) % ctx.sim.cpus.length);
      }
    },
  },
  kthread: {
    name: 'kthread',
    summary: 'kthreads created and kthread_stop()ped in a loop (kthread_stop pins the stack: to_live_kthread)',
    params: { life: [50, 'µs each kthread lives before it is stopped'] },
    op: 'one kthread created and stopped',
    setup(ctx, p) {
      ctx.sim.spawn(2, 'kthreadd', new KthreadStopper(ctx.ops, p.life * 1000), ctx.startCpu, { kthread: true });
    },
  },
  hotplug: {
    name: 'hotplug',
    summary: 'pthread churn while the last CPU goes offline and back every period',
    params: { period: [2000, 'µs between offline events'], down: [500, 'µs the CPU stays offline'] },
    op: 'one pthread_create + pthread_join',
    setup(ctx, p) {
      const sim = ctx.sim;
      if (sim.cpus.length < 2) throw new WorkloadError('hotplug needs at least 2 CPUs');
      const c = ctx.costs;
      sim.spawn(MAIN_PID, 'tbench', new Creator(2, ctx.ops, true, new ThreadNop(c.threadRunNs), c.futexWaitNs), ctx.startCpu);
      const victim = sim.cpus.length - 1;
      const ctl = 0;
      const cycle = (s: Sim): void => {
        if (s.workloadDone) return;
        s.offline(victim, ctl);
        s.at(s.now + p.down * 1000, (s2) => {
          s2.online(victim, ctl);
          s2.at(s2.now + p.period * 1000, cycle);
        });
      };
      sim.at(p.period * 1000, cycle);
    },
  },
};

/** Parses `name` or `name:key=value,key=value`. */
export function parseWorkload(spec: string): { w: WorkloadSpec; params: Record<string, number> } {
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const w = WORKLOADS[name];
  if (!w) throw new WorkloadError(`unknown workload '${name}'; known: ${Object.keys(WORKLOADS).join(', ')}`);
  const params: Record<string, number> = {};
  for (const [k, [def]] of Object.entries(w.params)) params[k] = def;
  if (colon >= 0) {
    for (const kv of spec.slice(colon + 1).split(',')) {
      const m = /^([a-z]+)=(\d+)$/.exec(kv);
      if (!m || !(m[1] in w.params)) {
        throw new WorkloadError(`workload ${name}: '${kv}' is not key=value with key in {${Object.keys(w.params).join(', ')}}`);
      }
      params[m[1]] = Number(m[2]);
    }
  }
  return { w, params };
}
