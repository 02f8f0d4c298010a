// Driver rules around task release and the grace-period kthread's timer, on
// hand-made ftrace lines (2 CPUs, linux-6.18): a thread cloned at the
// task_struct marker is autoreaped; a zombie is reaped when its parent next
// runs; a free bounds its own CPU's queue; a kworker woken inside rcu_core is
// a stack callback's vfree_atomic; only the
// kthread's own timer, cancelled outside interrupts, ends a grace period.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { isBoundKworkerOf, ReplayDriver } from '../../src/replay/driver.ts';
import { RcuCbKind } from '../../src/kernel/rcu.ts';
import { readTraceText } from '../../src/trace/reader.ts';
import { replayTrace } from '../../src/replay/replay.ts';

function drive(lines: string[]): ReplayDriver {
  const d = new ReplayDriver({ config: getPreset('linux-6.18'), cpuCount: 2, allFills: false, onFork: () => {} });
  readTraceText(`${lines.join('\n')}\n`, { onRecord: (r) => d.onRecord(r) });
  return d;
}

/** How many thread_stack_free_rcu callbacks wait on `cpu`. */
function pending(d: ReplayDriver, cpu: number): number {
  const l = d.primary.cpus[cpu].rcu;
  let n = 0;
  for (let i = l.head; i < l.cbs.length; i++) if (l.cbs[i].kind === RcuCbKind.ThreadStackFreeRcu) n++;
  return n;
}

/** Which tasks have a delayed_put_task_struct queued on `cpu`. */
function delayedPuts(d: ReplayDriver, cpu: number): number[] {
  const l = d.primary.cpus[cpu].rcu;
  const out: number[] = [];
  for (let i = l.head; i < l.cbs.length; i++) {
    const cb = l.cbs[i];
    if (cb.kind === RcuCbKind.DelayedPutTaskStruct && cb.task !== null) out.push(cb.task.pid);
  }
  return out;
}

const PARENT = [
  '            main-100   [000] d..2.   10.000000: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=main next_pid=100 next_prio=120',
  '            main-100   [000] .....   10.000010: kmem_cache_alloc: call_site=copy_process+0x1a5/0x1d80 ptr=000000009f110955 name=task_struct bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
];

test('a thread cloned at the task_struct marker is released at its exit (autoreaped), not left a zombie', () => {
  const d = drive([
    ...PARENT,
    '            main-100   [000] .....   10.000050: task_newtask: pid=101 comm=main clone_flags=3d0f00 oom_score_adj=0',
    '            main-100   [000] .....   10.000051: sched_process_fork: comm=main pid=100 child_comm=main child_pid=101',
    '            main-100   [000] d..2.   10.000060: sched_switch: prev_comm=main prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=main next_pid=101 next_prio=120',
    '            main-101   [000] .....   10.000070: sched_process_exit: comm=main pid=101 prio=120 group_dead=false',
    '            main-101   [000] d..2.   10.000080: sched_switch: prev_comm=main prev_pid=101 prev_prio=120 prev_state=X ==> next_comm=swapper/0 next_pid=0 next_prio=120',
  ]);
  const t = d.primary.task(101);
  assert.ok(t?.autoreap && t.released, `autoreap ${t?.autoreap} released ${t?.released}`);
  assert.deepEqual(delayedPuts(d, 0), [101], 'finish_task_switch dropped the last rcu_users: delayed_put_task_struct on the dying CPU');
});

test('a child process is a zombie until its parent runs again, which reaps it on its own CPU', () => {
  // The parent forks on CPU 0 and sleeps; the child runs, exits and dies on CPU 1.
  const childDies = [
    ...PARENT,
    '            main-100   [000] .....   10.000050: task_newtask: pid=101 comm=main clone_flags=1200000 oom_score_adj=0',
    '            main-100   [000] .....   10.000051: sched_process_fork: comm=main pid=100 child_comm=main child_pid=101',
    '            main-100   [000] d..2.   10.000060: sched_switch: prev_comm=main prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120',
    '          <idle>-0     [001] d..2.   10.000065: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=main next_pid=101 next_prio=120',
    '            main-101   [001] .....   10.000070: sched_process_exit: comm=main pid=101 prio=120 group_dead=true',
    '            main-101   [001] d..2.   10.000080: sched_switch: prev_comm=main prev_pid=101 prev_prio=120 prev_state=Z ==> next_comm=swapper/1 next_pid=0 next_prio=120',
  ];
  const d = drive(childDies);
  assert.equal(d.primary.task(101)?.released, false, 'a zombie after its final switch');
  assert.deepEqual(delayedPuts(d, 1), []);
  const d2 = drive([
    ...childDies,
    '          <idle>-0     [000] d..2.   10.000090: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=main next_pid=100 next_prio=120',
  ]);
  assert.equal(d2.primary.task(101)?.released, true, 'wait4 → release_task when the parent runs');
  assert.deepEqual(delayedPuts(d2, 0), [101], "queued on the parent's CPU");
  assert.deepEqual(delayedPuts(d2, 1), []);
});

test('a free shows every callback queued before it on that CPU has run, up to when the model queued it (release_task), not only its final switch', () => {
  // Four children of a parent on CPU 0 (whose cache starts full: two hits, two misses). 101 dies on CPU 1
  // first; 103 and 104 die on CPU 0 and fill its cache; 102 dies there last, so its stack waits on RCU,
  // queued just before the parent, running again, reaps all four on CPU 0.
  const fork = (pid: number, us: number) => [
    `            main-100   [000] .....   10.0000${us}: task_newtask: pid=${pid} comm=main clone_flags=1200000 oom_score_adj=0`,
    `            main-100   [000] .....   10.0000${us + 1}: sched_process_fork: comm=main pid=100 child_comm=main child_pid=${pid}`,
  ];
  const dies = (pid: number, cpu: number, us: number, next: number, nextComm: string) => [
    `            main-${pid}   [00${cpu}] .....   10.0000${us}: sched_process_exit: comm=main pid=${pid} prio=120 group_dead=true`,
    `            main-${pid}   [00${cpu}] d..2.   10.0000${us + 1}: sched_switch: prev_comm=main prev_pid=${pid} prev_prio=120 prev_state=Z ==> next_comm=${nextComm} next_pid=${next} next_prio=120`,
  ];
  const lines = [
    ...PARENT,
    ...fork(101, 50),
    ...fork(102, 52),
    ...fork(103, 54),
    ...fork(104, 56),
    '            main-100   [000] d..2.   10.000060: sched_switch: prev_comm=main prev_pid=100 prev_prio=120 prev_state=S ==> next_comm=main next_pid=103 next_prio=120',
    '          <idle>-0     [001] d..2.   10.000061: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=main next_pid=101 next_prio=120',
    ...dies(101, 1, 62, 0, 'swapper/1'),
    ...dies(103, 0, 70, 104, 'main'),
    ...dies(104, 0, 72, 102, 'main'),
    ...dies(102, 0, 80, 100, 'main'),
  ];
  const stacksPending = (d: ReplayDriver) => {
    const l = d.primary.cpus[0].rcu;
    let n = 0;
    for (let i = l.head; i < l.cbs.length; i++) if (l.cbs[i].kind === RcuCbKind.ThreadStackFreeRcu) n++;
    return n;
  };
  const before = drive(lines);
  assert.equal(stacksPending(before), 1, "102's stack waits for a grace period on CPU 0");
  assert.equal(delayedPuts(before, 0)[0], 101, "101's delayed_put_task_struct queued after it, at the parent's wait4");
  const d = drive([...lines, '     ksoftirqd/0-14     [000] ..s..   10.004000: sched_process_free: comm=main pid=101 prio=120']);
  assert.equal(stacksPending(d), 0, "rcu_do_batch ran 102's stack callback before 101's delayed_put_task_struct");
});

test('a kworker woken inside rcu_core runs queued stack callbacks up to the first that would not fit in the cache', () => {
  const text = gunzipSync(readFileSync('examples/traces/recorded/rec-gp-churn-3000.trace.gz')).toString('utf8');
  const lines = text.split('\n');
  // Kworker wakeups inside an RCU core pass on their own CPU (vfree_atomic → schedule_work).
  const re = /^\s*\S+-\d+\s+\[00(\d)\] \S+\s+[\d.]+: sched_wakeup: comm=kworker\/(\d):/;
  const inCore = [false, false];
  const wakeups: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /\[00(\d)\].* rcu_utilization: (Start|End) RCU core/.exec(lines[i]);
    if (m) inCore[Number(m[1])] = m[2] === 'Start';
    const w = re.exec(lines[i]);
    if (w && w[1] === w[2] && inCore[Number(w[1])]) wakeups.push(i);
  }
  assert.ok(wakeups.length > 10, `${wakeups.length} kworker wakeups from rcu_core in the recording`);
  // The same prefix with the wakeup's comm changed: what the kworker adds. Most wakeups find the
  // model already agreeing; some find stack callbacks it held back, which then run.
  let ran = 0;
  for (const at of wakeups.slice(0, 40)) {
    const cpu = Number(re.exec(lines[at])?.[1]);
    const withIt = pending(drive(lines.slice(0, at + 1)), cpu);
    const without = pending(drive([...lines.slice(0, at), lines[at].replace(/comm=kworker\/\d:\d+/, 'comm=node')]), cpu);
    assert.ok(withIt <= without, `line ${at + 1}: the wakeup never holds callbacks back`);
    // Up to the first stack that would not fit: at most NR_CACHED_STACKS (2) that fit, and that one.
    assert.ok(without - withIt <= 3, `line ${at + 1}: ${without - withIt} stack callbacks run, more than the cache could explain`);
    if (withIt < without) ran++;
  }
  assert.ok(ran > 0, 'some kworker wakeup ran stack callbacks the model had held back');
});

test("only the kthread's own timer, cancelled outside interrupts, ends a grace period", async () => {
  const text = gunzipSync(readFileSync('examples/traces/recorded/rec-gp-churn-3000.trace.gz')).toString('utf8');
  const lines = text.split('\n');
  // The kthread's 20th timer_start: the tracker has anchored by then.
  let first = -1;
  for (let i = 0, n = 0; i < lines.length && first < 0; i++) if (/^\s*rcu_preempt-\d+ .* timer_start: .*function=process_timeout/.test(lines[i]) && ++n === 20) first = i;
  assert.ok(first > 0);
  const m = /^\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+):/.exec(lines[first]);
  assert.ok(m !== null);
  const [, comm, pid, cpu, ts] = m;
  // Right after it: an expiry of another timer in a softirq on the kthread's
  // way out of an interrupt, and a cancel of another timer in its own context.
  const foreign = [
    `${comm}-${pid} [${cpu}] ..s1. ${ts}: timer_cancel: timer=00000000deadbeef`,
    `${comm}-${pid} [${cpu}] d..1. ${ts}: timer_cancel: timer=00000000deadbeef`,
  ];
  const run = (ls: string[]) => {
    const d = drive(ls);
    return d.gracePeriods;
  };
  const base = run(lines);
  const injected = run([...lines.slice(0, first + 1), ...foreign, ...lines.slice(first + 1)]);
  assert.equal(base.source, 'kthread-timer');
  assert.deepEqual(injected, base);
  // Its own timer cancelled in softirq context is its expiry, not an early wakeup.
  const own = /timer=(\S+)/.exec(lines[first])?.[1];
  const expiry = run([...lines.slice(0, first + 1), `${comm}-${pid} [${cpu}] ..s1. ${ts}: timer_cancel: timer=${own}`, ...lines.slice(first + 1)]);
  assert.deepEqual(expiry, base);
  // The same cancel in task context is an early wakeup: one more end (and start).
  const early = run([...lines.slice(0, first + 1), `${comm}-${pid} [${cpu}] d..1. ${ts}: timer_cancel: timer=${own}`, ...lines.slice(first + 1)]);
  assert.ok(early.ended > base.ended, `${JSON.stringify(early)} vs ${JSON.stringify(base)}`);
});

test('a pass that hands the rest of its batch to ksoftirqd leaves what no anchor proves for ksoftirqd to run', () => {
  const text = gunzipSync(readFileSync('examples/traces/recorded/rec-gp-churn-3000.trace.gz')).toString('utf8');
  const lines = text.split('\n');
  // `End RCU core` on CPU c followed, next on c, by the wakeup of ksoftirqd/c (wakeup_softirqd: RCU_SOFTIRQ re-raised).
  const at = /^\s*(\S+)-(\d+)\s+\[00(\d)\] \S+\s+([\d.]+): (.*)$/;
  const handoffs: number[] = [];
  const lastOn = [-1, -1];
  for (let i = 0; i < lines.length; i++) {
    const m = at.exec(lines[i]);
    if (m === null) continue;
    const c = Number(m[3]);
    const prev = lastOn[c];
    if (prev >= 0 && / rcu_utilization: End RCU core/.test(lines[prev]) && m[5].startsWith(`sched_wakeup: comm=ksoftirqd/${c} `)) handoffs.push(i);
    lastOn[c] = i;
  }
  assert.ok(handoffs.length > 10, `${handoffs.length} hand-offs to ksoftirqd in the recording`);
  let held = 0;
  for (const i of handoffs.slice(0, 40)) {
    const m = at.exec(lines[i]);
    assert.ok(m !== null);
    const [, comm, pid, cpu, ts] = m;
    // An event in task context on that CPU: the softirq is over.
    const after = `${comm}-${pid} [00${cpu}] d..3. ${ts}: sched_wakeup: comm=nobody pid=999999 prio=120 target_cpu=00${cpu}`;
    const handedOff = pending(drive([...lines.slice(0, i + 1), after]), Number(cpu));
    const finished = pending(drive([...lines.slice(0, i), lines[i].replace(/comm=ksoftirqd\/\d+ pid=\d+/, 'comm=nobody pid=999998'), after]), Number(cpu));
    assert.ok(handedOff >= finished, `line ${i + 1}: handing off never runs more`);
    if (handedOff > finished) held++;
  }
  assert.ok(held > 0, 'some hand-off held back ready stack callbacks that a finished softirq would have run');
});

test('an idle CPU with need-resched set is out of dyntick-idle: a forcing pass does not report it', () => {
  const kt = (cpu: number, us: number, what: string) => `     rcu_preempt-15     [00${cpu}] d..1.   10.${String(us).padStart(6, '0')}: ${what}`;
  const sw = (cpu: number, us: number, from: string, to: string) => {
    const [pc, pp] = from.split('-');
    const [nc, np] = to.split('-');
    const state = pp === '15' ? 'I' : 'R';
    return `     ${pc}-${pp}     [00${cpu}] d..2.   10.${String(us).padStart(6, '0')}: sched_switch: prev_comm=${pc} prev_pid=${pp} prev_prio=120 prev_state=${state} ==> next_comm=${nc} next_pid=${np} next_prio=120`;
  };
  const start = (cpu: number, us: number) => kt(cpu, us, 'timer_start: timer=00000000ffa39a2f function=process_timeout expires=1 [timeout=1] bucket_expiry=2 cpu=0 idx=0 flags=');
  const cancel = (cpu: number, us: number) => kt(cpu, us, 'timer_cancel: timer=00000000ffa39a2f');
  const core = (cpu: number, us: number, who: string) => [
    `     ${who}     [00${cpu}] ..s1.   10.${String(us).padStart(6, '0')}: rcu_utilization: Start RCU core`,
    `     ${who}     [00${cpu}] ..s1.   10.${String(us + 1).padStart(6, '0')}: rcu_utilization: End RCU core`,
  ];
  const base = [
    // CPU 1 runs a task throughout; the kthread on CPU 0 ends one grace period and starts the next (anchored).
    sw(1, 1, 'swapper/1-0', 'busy-200'),
    sw(0, 10, 'swapper/0-0', 'rcu_preempt-15'),
    start(0, 11),
    sw(0, 12, 'rcu_preempt-15', 'swapper/0-0'),
    sw(0, 4000, 'swapper/0-0', 'rcu_preempt-15'),
    cancel(0, 4001),
    start(0, 4002),
    sw(0, 4003, 'rcu_preempt-15', 'swapper/0-0'),
    // CPU 1 notes the grace period, has a quiescent state (a tick outside idle) and reports it.
    ...core(1, 4100, 'busy-200'),
    '     busy-200     [001] d.h1.   10.004200: rcu_utilization: Start scheduler-tick',
    '     busy-200     [001] d.h1.   10.004201: rcu_utilization: End scheduler-tick',
    ...core(1, 4210, 'busy-200'),
  ];
  // CPU 0 sits in its idle task; the kthread's timer fires on CPU 1 and it runs a forcing pass there.
  const fqs = [
    '        busy-200     [001] d.s3.   10.008000: sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=001',
    sw(1, 8001, 'busy-200', 'rcu_preempt-15'),
    start(1, 8002),
    sw(1, 8003, 'rcu_preempt-15', 'busy-200'),
  ];
  const plain = drive([...base, ...fqs]);
  // The same, but just before it an interrupt on CPU 0 woke a task there: TIF_NEED_RESCHED, about to leave idle.
  const resched = drive([...base, '          <idle>-0     [000] dNh2.   10.007990: sched_wakeup: comm=busy pid=200 prio=120 target_cpu=000', ...fqs]);
  const nonN = drive([...base, '          <idle>-0     [000] d.h2.   10.007990: sched_wakeup: comm=busy pid=200 prio=120 target_cpu=000', ...fqs]);
  assert.equal(plain.gracePeriods.source, 'kthread-timer');
  // Ends are counted from the first start seen (at 4002).
  assert.equal(plain.gracePeriods.ended, 1, 'CPU 0 idle: the forcing pass reports it and the grace period ends');
  assert.equal(nonN.gracePeriods.ended, 1, 'an interrupt in idle that leaves no reschedule pending changes nothing');
  assert.equal(resched.gracePeriods.ended, 0, 'need-resched in idle: CPU 0 still owes its quiescent state');
});

test("vfree_atomic work waits for the CPU's own bound kworker, and a trace that ends first does not count it", () => {
  assert.ok(isBoundKworkerOf('kworker/1:2', 1));
  assert.ok(isBoundKworkerOf('kworker/1:0-events', 1));
  assert.ok(!isBoundKworkerOf('kworker/1:1H', 1), 'the highpri pool');
  assert.ok(!isBoundKworkerOf('kworker/u4:3', 1), 'unbound');
  assert.ok(!isBoundKworkerOf('kworker/11:2', 1));
  assert.ok(!isBoundKworkerOf('kworker/1:', 1));
  // The recording's last RCU core pass on CPU 1 wakes kworker/1:2 (vfree_atomic's schedule_work) 1.4 ms
  // before the end, and the recorder keeps the CPU until then: the kernel freed that batch after the trace.
  const lines = gunzipSync(readFileSync('examples/traces/recorded/rec-prime-churn-3000-b.trace.gz')).toString('utf8').split('\n').filter((l) => l !== '');
  const d = drive(lines);
  const queued = d.primary.cpus[1].vfreeList.length;
  assert.ok(queued >= 10, `${queued} stacks waiting for kworker/1 at the end`);
  const at = (ms: number, comm: string, pid: number): string =>
    `            node-14224   [001] d..2. ${(27408.871054 + ms / 1000).toFixed(6)}: sched_switch: prev_comm=node prev_pid=14224 prev_prio=120 prev_state=R+ ==> next_comm=${comm} next_pid=${pid} next_prio=120`;
  const vfrees = d.primary.cpuStats[1].vfrees;
  assert.equal(drive([...lines, at(1, 'kworker/1:1H', 51)]).primary.cpuStats[1].vfrees, vfrees, 'the highpri pool does not run system_wq work');
  assert.equal(drive([...lines, at(1, 'kworker/0:2', 52)]).primary.cpuStats[1].vfrees, vfrees, "nor does CPU 0's pool");
  assert.equal(drive([...lines, at(1, 'kworker/1:2', 21707)]).primary.cpuStats[1].vfrees, vfrees + queued, 'kworker/1:2 runs it');
});

test('what-if: work queued from task context (4.10-5.17 vfree_atomic in free_thread_stack) runs at the next switch, not at the end', async () => {
  const file = 'examples/traces/recorded/rec-churn-3000.trace.gz';
  const [v49, v414] = await Promise.all(['linux-4.9', 'linux-4.14'].map((c) => replayTrace(file, { config: getPreset(c), validate: false })));
  // The same cache policy; 4.9 vfree()s a stack that does not fit at once, 4.14 hands it to the kworker.
  assert.equal(v414.model.misses, v49.model.misses);
  assert.ok(v414.model.vfreesQueuedAtEnd <= 2, `${v414.model.vfreesQueuedAtEnd} still queued at the end`);
  assert.equal(v414.model.vfrees + v414.model.vfreesQueuedAtEnd, v49.model.vfrees);
  assert.ok(v414.model.peakStackBytes <= v49.model.peakStackBytes + 2 * 20480, `peak ${v414.model.peakStackBytes} vs ${v49.model.peakStackBytes}`);
  const r = await replayTrace('examples/traces/recorded/rec-prime-churn-3000-b.trace.gz', { config: getPreset('linux-6.18'), validate: true });
  assert.ok(r.model.vfreesQueuedAtEnd >= 10, 'the last batch is reported as still queued');
  assert.equal(r.vfrees.predicted, r.vfrees.observed);
});
