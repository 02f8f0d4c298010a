// Driver rules around task release and the grace-period kthread's timer, on
// hand-made ftrace lines (2 CPUs, linux-6.18): a thread cloned at the
// task_struct marker is autoreaped; a zombie is reaped when its parent next
// runs; only the kthread's own timer, cancelled outside interrupts, ends a
// grace period.
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { ReplayDriver } from '../../src/replay/driver.ts';
import { RcuCbKind } from '../../src/kernel/rcu.ts';
import { readTraceText } from '../../src/trace/reader.ts';

function drive(lines: string[]): ReplayDriver {
  const d = new ReplayDriver({ config: getPreset('linux-6.18'), cpuCount: 2, allFills: false, onFork: () => {} });
  readTraceText(`${lines.join('\n')}\n`, { onRecord: (r) => d.onRecord(r) });
  return d;
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
