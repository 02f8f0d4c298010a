// The scenarios the explorer runs: small closed worlds of two or three CPUs in
// which one protocol of the 4.9 series can go wrong. Each names its threads
// (per-CPU task, hardirq and softirq contexts) and the initial state.
import type { KernelConfig } from '../config/knobs.ts';
import type { Mutation } from '../kernel/mutations.ts';
import { type CloneArgs, putTaskStruct } from '../kernel/fork.ts';
import { READER_KINDS, type ReaderKind, stackReaderAccess, stackReaderBegin } from '../kernel/task_stack.ts';
import type { TaskStruct } from '../kernel/task.ts';
import { type Body, type Exec, type Scenario, type Thread, type ThreadSpec, threadSpec } from './exec.ts';
import { exitTask, finalSwitch, fork, hotplugDown, rcuGp, rcuSoftirq, reap, stackReader } from './steps.ts';

/** The reader kinds as the issue names them (kthread-stop is kthread_stop()). */
const READER_NAMES: Record<ReaderKind, string> = { 'stack-trace': 'stack-trace', wchan: 'wchan', syscall: 'syscall', kthread: 'kthread-stop' };

/** A task that exists when the scenario starts, current on `cpu` if `current`. */
function task(x: Exec, pid: number, cpu: number, current: boolean, opts: { thread?: boolean; kthread?: boolean; parent?: number } = {}): TaskStruct {
  x.k.adoptTask(0, pid, opts.kthread ? `kthread-${pid}` : `task-${pid}`, cpu, opts);
  if (current) x.k.contextSwitch(cpu, 0, pid, 'R');
  const t = x.k.task(pid) as TaskStruct;
  t.parentPid = opts.parent ?? 1;
  return x.track(t);
}

/** A task that has run do_exit() and is about to schedule() for the last time. */
function exited(x: Exec, pid: number, cpu: number): TaskStruct {
  const t = task(x, pid, cpu, true, { thread: true });
  x.k.doExit(cpu, 0, pid);
  return t;
}

// Thread bodies are module-level generator functions that take their tasks as
// arguments (threadSpec): setup runs once per executed path, and closures
// created there (each with the __name call tsx adds) were a measurable cost.

/** The RCU threads hold no per-execution data: one list per CPU count serves every execution. */
const RCU_THREADS = new Map<number, readonly ThreadSpec[]>();

function rcuThreads(cpus: number): readonly ThreadSpec[] {
  let out = RCU_THREADS.get(cpus);
  if (out) return out;
  const list: ThreadSpec[] = [threadSpec('rcu_gp', -1, 'task', rcuGp, [], true)];
  for (let c = 0; c < cpus; c++) list.push(threadSpec(`rcu/${c}`, c, 'softirq', rcuSoftirq, [c], true));
  out = list;
  RCU_THREADS.set(cpus, out);
  return out;
}

/** do_exit() of `target` on `cpu`, then its final switch to `next`. */
function* exitAndSwitch(x: Exec, self: Thread, cpu: number, target: TaskStruct, next: TaskStruct): Body {
  yield* exitTask(x, self, cpu, target);
  yield* finalSwitch(x, self, cpu, target, next);
}

/** A task that already ran do_exit(): non-preemptible until its final switch is over. */
function* deadSwitch(x: Exec, self: Thread, cpu: number, prev: TaskStruct, next: TaskStruct): Body {
  self.noQs = true;
  yield* finalSwitch(x, self, cpu, prev, next);
}

/** A dead task's final switch on the thread's CPU, then forks by `parent`. */
function* switchThenFork(x: Exec, self: Thread, dying: TaskStruct, parent: TaskStruct, forks: number): Body {
  const cpu = self.spec.cpu;
  self.noQs = true;
  yield* finalSwitch(x, self, cpu, dying, parent);
  for (let i = 0; i < forks; i++) yield* fork(x, self, cpu, parent, { thread: false }, { child: null });
}

function readerVsExit(kind: ReaderKind): Scenario {
  return {
    name: `reader-vs-exit:${READER_NAMES[kind]}`,
    summary: `${READER_NAMES[kind]} reader on cpu 1 against the target's exit, final switch and reaping`,
    cpuCount: 3,
    notApplicable: () => null,
    setup(x) {
      const kthread = kind === 'kthread';
      task(x, 50, 2, true);
      task(x, 200, 1, true);
      const target = task(x, 100, 0, true, { kthread, thread: kthread, parent: 50 });
      const idle0 = x.k.cpus[0].idle;
      const threads: ThreadSpec[] = [
        threadSpec('exit', 0, 'task', exitAndSwitch, [0, target, idle0]),
        threadSpec('reader', 1, 'task', stackReader, [1, kind, target, true]),
      ];
      if (!kthread) threads.push(threadSpec('parent', 2, 'task', reap, [2, target]));
      return [...threads, ...rcuThreads(3)];
    },
  };
}

const NO_THREAD: CloneArgs = { thread: false };
const FAIL_AFTER_DUP: CloneArgs = { thread: false, failAfterDup: true };

const releaseVsFork: Scenario = {
  name: 'release-vs-fork',
  summary: "a pinner's last put in hardirq context on cpu 0 while cpu 0's task context releases a dead task's stack and forks",
  cpuCount: 2,
  notApplicable: (cfg) => (cfg.VMAP_STACK ? null : 'no stack cache without VMAP_STACK'),
  setup(x) {
    const parent = task(x, 101, 0, false);
    const dying = exited(x, 100, 0);
    const victim = exited(x, 102, 1);
    return [
      threadSpec('cpu0', 0, 'task', switchThenFork, [dying, parent, 1]),
      threadSpec('irq0', 0, 'hardirq', stackReader, [0, 'stack-trace', victim, false]),
      threadSpec('cpu1', 1, 'task', deadSwitch, [1, victim, x.k.cpus[1].idle]),
      ...rcuThreads(2),
    ];
  },
};

const rcuRetryVsFork: Scenario = {
  name: 'rcu-retry-vs-fork',
  summary: "cpu 0's cache is full, so a dead task's stack goes to call_rcu; the callback's cache retry races a fork on cpu 0",
  cpuCount: 2,
  notApplicable: (cfg) => (cfg.CACHE_FULL === 'rcu-retry' ? null : `CACHE_FULL=${cfg.CACHE_FULL}: no RCU retry before 5.18`),
  setup(x) {
    x.k.seedCache(0, 0, x.k.cfg.NR_CACHED_STACKS);
    const parent = task(x, 101, 0, false);
    const dying = exited(x, 100, 0);
    return [threadSpec('cpu0', 0, 'task', switchThenFork, [dying, parent, 2]), ...rcuThreads(2)];
  },
};

const hotplugVsCache: Scenario = {
  name: 'hotplug-vs-cache',
  summary: "cpu 1 caches a dead task's stack and goes idle; cpu 0 takes it offline while forking",
  cpuCount: 2,
  notApplicable: (cfg) => (cfg.HOTPLUG_DRAIN ? null : 'no cpuhp free_vm_stack_cache before ≈4.11: an offlined CPU keeps its cache (the no-hotplug-drain bug is the config)'),
  setup(x) {
    x.k.seedCache(1, 0, 1);
    const parent = task(x, 101, 0, true);
    const dying = exited(x, 100, 1);
    return [
      threadSpec('cpu1', 1, 'task', deadSwitch, [1, dying, x.k.cpus[1].idle]),
      threadSpec('hotplug', 0, 'task', hotplugDown, [0, 1, 0]),
      threadSpec('cpu0', 0, 'task', fork, [0, parent, NO_THREAD, { child: null }]),
      ...rcuThreads(2),
    ];
  },
};

const forkFailure: Scenario = {
  name: 'fork-failure',
  summary: "copy_process() fails after dup_task_struct(): bad_fork_free puts the child's stack while a hardirq on the same CPU releases another",
  cpuCount: 2,
  notApplicable: () => null,
  setup(x) {
    const parent = task(x, 101, 0, true);
    const victim = exited(x, 102, 1);
    return [
      threadSpec('cpu0', 0, 'task', fork, [0, parent, FAIL_AFTER_DUP, { child: null }]),
      threadSpec('irq0', 0, 'hardirq', stackReader, [0, 'stack-trace', victim, false]),
      threadSpec('cpu1', 1, 'task', deadSwitch, [1, victim, x.k.cpus[1].idle]),
      ...rcuThreads(2),
    ];
  },
};

/** The 4.8 reader: rcu_read_lock, pid lookup, get_task_struct, walk, put. */
function* reader48Body(x: Exec, self: Thread, target: TaskStruct): Body {
  const k = x.k;
  yield { label: 'rcu_read_lock(); find_task_by_vpid(100)' };
  k.rcu.readersInside++;
  self.noQs = true;
  const found = !target.released;
  self.note = found ? '→ found' : '→ not found';
  yield { label: found ? 'get_task_struct(); rcu_read_unlock()' : 'rcu_read_unlock()' };
  const r = found ? stackReaderBegin(k, 1, 'stack-trace', target) : null;
  k.rcu.readersInside--;
  self.noQs = false;
  if (!r) return;
  yield { label: `save_stack_trace_tsk: walk stack #${r.stack?.id ?? 0} (thread_info at its base)` };
  stackReaderAccess(k, 1, r);
  yield { label: 'put_task_struct(pid 100)' };
  putTaskStruct(k, 1, target);
}

/** 4.8: thread_info at the stack base, no refcount; the stack lives until the RCU-delayed task_struct free. */
const reader48: Scenario = {
  name: 'reader-4.8',
  summary: '4.8 /proc/PID/stack reader: rcu_read_lock, pid lookup, get_task_struct, walk; against exit and reaping',
  cpuCount: 3,
  fixedConfig: 'linux-4.8',
  notApplicable: (cfg) => (cfg.THREAD_INFO_IN_TASK ? 'needs thread_info on the stack (linux-4.8)' : null),
  setup(x) {
    task(x, 50, 2, true);
    task(x, 200, 1, true);
    const target = task(x, 100, 0, true, { parent: 50 });
    return [
      threadSpec('exit', 0, 'task', exitAndSwitch, [0, target, x.k.cpus[0].idle]),
      threadSpec('reader', 1, 'task', reader48Body, [target]),
      threadSpec('parent', 2, 'task', reap, [2, target]),
      ...rcuThreads(3),
    ];
  },
};

export const SCENARIOS: readonly Scenario[] = [
  ...READER_KINDS.map(readerVsExit),
  releaseVsFork,
  rcuRetryVsFork,
  hotplugVsCache,
  forkFailure,
  reader48,
];

/** `reader-vs-exit` alone names its four readers; `all` names every scenario. */
export function scenariosNamed(name: string): Scenario[] {
  if (name === 'all') return [...SCENARIOS];
  if (name === 'reader-vs-exit') return SCENARIOS.filter((s) => s.name.startsWith('reader-vs-exit:'));
  return SCENARIOS.filter((s) => s.name === name);
}

export function scenarioByName(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** Where each known bug shows: the scenario and config `--mutate M` runs by default. */
export const MUTATION_TARGETS: Record<Mutation, { scenario: string; config: string }> = {
  'no-pin-stack-trace': { scenario: 'reader-vs-exit:stack-trace', config: 'linux-6.18' },
  'no-pin-wchan': { scenario: 'reader-vs-exit:wchan', config: 'linux-6.18' },
  'no-pin-syscall': { scenario: 'reader-vs-exit:syscall', config: 'linux-6.18' },
  'no-pin-kthread': { scenario: 'reader-vs-exit:kthread-stop', config: 'linux-4.9' },
  'early-free-without-refcount': { scenario: 'reader-vs-exit:stack-trace', config: 'linux-6.18' },
  'cache-irq-unsafe': { scenario: 'release-vs-fork', config: 'linux-4.9' },
  'no-hotplug-drain': { scenario: 'hotplug-vs-cache', config: 'linux-6.18' },
  'double-put': { scenario: 'reader-vs-exit:stack-trace', config: 'linux-6.18' },
  'no-bad-fork-put': { scenario: 'fork-failure', config: 'linux-6.18' },
};

export function configFor(s: Scenario, requested: string): string {
  return s.fixedConfig ?? requested;
}

export type { KernelConfig };
