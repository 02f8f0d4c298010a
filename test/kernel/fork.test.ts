// Golden tests of kernel/fork.c's rules, one behaviour each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkKernel, runAndDie, threadLife } from './helpers.ts';

function setup(preset: string, over = {}) {
  const { k, tracer } = mkKernel(preset, over);
  k.adoptTask(0, 100, 'parent', 0);
  k.adoptTask(0, 200, 'other', 1);
  k.contextSwitch(0, 0, 100, 'R');
  k.contextSwitch(1, 0, 200, 'R');
  return { k, tracer };
}

/** Creates a thread on cpu 0 and kills it on `dieCpu`; returns its stack id. */
function lifeOn(k: ReturnType<typeof setup>['k'], t: number, dieCpu: number): number {
  const pid = threadLife(k, 0, 100, t, dieCpu);
  const sid = k.task(pid)!.stack!.id;
  runAndDie(k, dieCpu, pid, t + 10, dieCpu === 0 ? 100 : 200);
  return sid;
}

test('slot order: free A, free B, alloc returns A (lowest non-empty slot), and the next free fills slot 0', () => {
  const { k } = setup('linux-6.18');
  const a = k.kernelClone(0, 10, 100, { thread: true });
  const b = k.kernelClone(0, 11, 100, { thread: true });
  const sa = k.task(a)!.stack!.id;
  const sb = k.task(b)!.stack!.id;
  k.wakeUpNewTask(0, 12, a, 0);
  k.wakeUpNewTask(0, 12, b, 0);
  runAndDie(k, 0, a, 20, 100);
  runAndDie(k, 0, b, 30, 100);
  assert.deepEqual(k.cacheSlots(0), [sa, sb]);
  const c = k.kernelClone(0, 40, 100, { thread: true });
  assert.equal(k.task(c)!.stack!.id, sa, 'alloc takes slot 0 first');
  assert.deepEqual(k.cacheSlots(0), [0, sb]);
  k.wakeUpNewTask(0, 41, c, 0);
  runAndDie(k, 0, c, 50, 100);
  assert.deepEqual(k.cacheSlots(0), [sa, sb], 'free fills the lowest empty slot');
});

test('a stack released on one CPU is taken from that CPU only', () => {
  const { k } = setup('linux-6.18');
  const sid = lifeOn(k, 10, 1);
  assert.deepEqual(k.cacheSlots(1), [sid, 0]);
  assert.deepEqual(k.cacheSlots(0), [0, 0]);
  const before = k.stats.cacheMisses;
  const c = k.kernelClone(0, 100, 100, { thread: true });
  assert.equal(k.stats.cacheMisses, before + 1, 'the fork on cpu 0 misses although cpu 1 holds a stack');
  assert.notEqual(k.task(c)!.stack!.id, sid);
  assert.deepEqual(k.cacheSlots(1), [sid, 0]);
});

test('cache full: 4.9 vfree()s at once in finish_task_switch; 6.18 goes through call_rcu and retries the cache', () => {
  for (const preset of ['linux-4.9', 'linux-6.18']) {
    const { k } = setup(preset);
    const pids = [0, 1, 2].map((i) => k.kernelClone(0, 10 + i, 100, { thread: true }));
    for (const p of pids) k.wakeUpNewTask(0, 20, p, 0);
    for (const [i, p] of pids.entries()) runAndDie(k, 0, p, 100 + i * 10, 100);
    if (preset === 'linux-4.9') {
      assert.equal(k.stats.vfrees, 1, '4.9: the third release is vfree()d synchronously');
      assert.equal(k.stats.rcuPendingStacks, 0);
    } else {
      assert.equal(k.stats.vfrees, 0, '6.18: no vfree before the grace period');
      assert.equal(k.stats.rcuPendingStacks, 1);
      // A fork empties a slot; the RCU callback then finds room and caches the stack.
      const c = k.kernelClone(0, 200, 100, { thread: true });
      k.wakeUpNewTask(0, 201, c, 0);
      k.rcuGpKthread(300);
      k.tick(0, 400, true);
      k.tick(1, 400, true);
      k.rcuGpKthread(500);
      k.tick(0, 600, true);
      assert.equal(k.stats.rcuRetryHits, 1, 'the callback retried the cache and hit');
      assert.equal(k.stats.vfrees, 0);
      assert.equal(k.cacheOccupancy(0), 2);
    }
    assert.deepEqual(k.checkInvariants(), []);
  }
});

test('6.18: a callback that still finds the cache full vfree()s via vfree_atomic and a kworker', () => {
  const { k } = setup('linux-6.18');
  const pids = [0, 1, 2].map((i) => k.kernelClone(0, 10 + i, 100, { thread: true }));
  for (const p of pids) k.wakeUpNewTask(0, 20, p, 0);
  for (const [i, p] of pids.entries()) runAndDie(k, 0, p, 100 + i * 10, 100);
  k.rcuGpKthread(300);
  k.tick(0, 400, true);
  k.tick(1, 400, true);
  k.rcuGpKthread(500);
  k.tick(0, 600, true);
  assert.equal(k.stats.vfrees, 0, 'softirq context defers the vfree');
  assert.equal(k.workPending(0), true);
  assert.equal(k.taskWorkPending(0), false, 'queued by an RCU callback: it waits for the kworker the trace shows');
  k.runWork(0, 700);
  assert.equal(k.stats.vfrees, 1);
  assert.deepEqual(k.checkInvariants(), []);
});

test('work queued from task context is told apart, and a kworker run leaves no such mark behind', () => {
  // LAZY_MAX_PAGES 1: the kworker's vfree() queues drain_vmap_work from task context, which the same run purges.
  for (const [preset, fromTask] of [['linux-6.18', false], ['linux-4.14', true]] as const) {
    const { k } = setup(preset, { LAZY_MAX_PAGES: 1 });
    const pids = [0, 1, 2].map((i) => k.kernelClone(0, 10 + i, 100, { thread: true }));
    for (const p of pids) k.wakeUpNewTask(0, 20, p, 0);
    for (const [i, p] of pids.entries()) runAndDie(k, 0, p, 100 + i * 10, 100);
    // 4.14: the third stack finds the cache full at its final switch, vfree_atomic from task context.
    assert.equal(k.taskWorkPending(0), fromTask, preset);
    if (!fromTask) {
      k.rcuGpKthread(300);
      k.tick(0, 400, true);
      k.tick(1, 400, true);
      k.rcuGpKthread(500);
      k.tick(0, 600, true);
      assert.equal(k.taskWorkPending(0), false, preset);
    }
    k.runWork(0, 700);
    assert.equal(k.stats.vfrees, 1, preset);
    assert.equal(k.stats.purges, 1, `${preset}: the drain ran in the same kworker run`);
    assert.equal(k.workPending(0), false, preset);
    // A later callback's work must not inherit the task-context mark of the drain.
    const more = [3, 4, 5].map((i) => k.kernelClone(0, 800 + i, 100, { thread: true }));
    for (const p of more) k.wakeUpNewTask(0, 820, p, 0);
    for (const [i, p] of more.entries()) runAndDie(k, 0, p, 900 + i * 10, 100);
    if (!fromTask) {
      for (let t = 1100; t < 2000 && !k.workPending(0); t += 200) {
        k.rcuGpKthread(t);
        k.tick(0, t + 100, true);
        k.tick(1, t + 100, true);
      }
      assert.equal(k.workPending(0), true, preset);
    }
    assert.equal(k.taskWorkPending(0), fromTask, `${preset}: after a run with a drain`);
  }
});

test('hotplug: 6.18 drains an offlined CPU\'s cache (free_vm_stack_cache); 4.9 leaves it, a leak', () => {
  for (const [preset, drained] of [['linux-6.18', true], ['linux-4.9', false]] as const) {
    const { k } = setup(preset);
    lifeOn(k, 10, 1);
    lifeOn(k, 100, 1);
    assert.equal(k.cacheOccupancy(1), 2);
    k.contextSwitch(1, 300, 0, 'S');
    k.cpuDown(0, 400, 1);
    assert.equal(k.cacheOccupancy(1), drained ? 0 : 2);
    assert.equal(k.stats.vfrees, drained ? 2 : 0);
    k.checkLeaksAtEnd(500);
    assert.equal(k.violations.filter((v) => v.kind === 'leak').length, drained ? 0 : 2);
  }
});

test('4.8: the order-2 stack lives until the task_struct is freed after a grace period', () => {
  const { k } = setup('linux-4.8');
  const pid = threadLife(k, 0, 100, 10);
  runAndDie(k, 0, pid, 20, 100);
  assert.equal(k.stats.stackPages, (2 + 1) * 4, 'stack still held after the final switch');
  k.rcuGpKthread(100);
  k.tick(0, 200, true);
  k.tick(1, 200, true);
  k.rcuGpKthread(300);
  k.tick(0, 400, true);
  assert.equal(k.stats.stackPages, 2 * 4, 'freed by delayed_put_task_struct → free_task');
  assert.deepEqual(k.checkInvariants(), []);
});

test('memcg: 6.18 charges every reuse and uncharges in do_exit; 4.9 charges once at vmalloc', () => {
  for (const [preset, charges] of [['linux-6.18', 3], ['linux-4.9', 1]] as const) {
    const { k } = setup(preset);
    const m = k.memcgCreate(0);
    k.setTaskMemcg(100, m);
    for (let i = 0; i < 3; i++) lifeOn(k, 100 * (i + 1), 0);
    assert.equal(k.stats.memcgCharges, charges, preset);
  }
});

test('a memcg at its limit fails the fork with -ENOMEM and leaks nothing', () => {
  const { k } = setup('linux-6.18');
  const m = k.memcgCreate(4);
  k.setTaskMemcg(100, m);
  const ok = k.kernelClone(0, 10, 100, { thread: true });
  assert.ok(ok > 0);
  const failed = k.kernelClone(0, 20, 100, { thread: true });
  assert.equal(failed, -12);
  assert.equal(k.stats.forkFailures, 1);
  assert.deepEqual(k.checkInvariants(), []);
});

test('copy_process failure after dup_task_struct puts the stack back (bad_fork_free)', () => {
  const { k } = setup('linux-6.18');
  const r = k.kernelClone(0, 10, 100, { thread: true, failAfterDup: true });
  assert.equal(r, -12);
  assert.equal(k.cacheOccupancy(0), 1, 'the stack went to the cache via put_task_stack');
  assert.equal(k.nrKernelStackKb, 2 * 16, 'exit_task_stack_account undid the accounting');
  assert.deepEqual(k.checkInvariants(), []);
});

test('stack overflow: guard-page oops when vmapped, silent thread_info corruption on 4.8', () => {
  const a = setup('linux-6.18').k;
  a.stackOverflow(0, 10, 100, 64);
  assert.equal(a.violations[0].kind, 'stack-overflow-guard');
  const b = setup('linux-4.8').k;
  b.stackOverflow(0, 10, 100, 64);
  assert.equal(b.violations[0].kind, 'thread-info-corrupted');
});

test('lazy purge: one TLB flush when vmap_lazy_nr passes lazy_max_pages (5 pages per stack)', () => {
  const { k } = setup('linux-4.9-nocache', { LAZY_MAX_PAGES: 50 });
  for (let i = 0; i < 11; i++) lifeOn(k, 100 * (i + 1), 0);
  assert.equal(k.stats.vfrees, 11);
  assert.equal(k.stats.purges, 1, 'the 11th free takes the lazy total to 55 > 50');
  assert.equal(k.stats.tlbFlushIpis, 1, 'one IPI to the other online CPU');
});
