// The model's events name a new child by its real pid, even when the replay
// cloned it at the task_struct marker, before task_newtask gave the pid.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { ArrayTracer, type KernelEvent } from '../../src/kernel/events.ts';
import { ProvisionalPidTracer } from '../../src/replay/provisional.ts';
import { replayTrace } from '../../src/replay/replay.ts';
import { readTrace } from '../../src/trace/reader.ts';

const ev = (tsNs: number, pid: number, args: KernelEvent['args']): KernelEvent => ({ tsNs, cpu: 0, pid, comm: 'x', ctx: 'task', name: 'sched_switch', args });

test('held events are relabelled on resolve and keep their order; release leaves them as they are', () => {
  const sink = new ArrayTracer();
  const t = new ProvisionalPidTracer(sink);
  t.emit(ev(1, 5, {}));
  t.hold(1000, 2);
  t.emit(ev(2, 1000, { child_pid: 1000, pid: 5, prio: 1000 }));
  t.cloned(1000);
  t.hold(1001, 3);
  t.emit(ev(3, 1001, { next_pid: 1001 }));
  t.cloned(1001);
  assert.equal(sink.events.length, 1, 'held while a pid is provisional');
  t.resolve(1000, 42, 10);
  assert.equal(sink.events.length, 1, 'still held: 1001 is provisional');
  t.release(1001);
  assert.deepEqual(
    sink.events.map((e) => [e.tsNs, e.pid, e.args]),
    [
      [1, 5, {}],
      [2, 42, { child_pid: 42, pid: 5, prio: 1000 }],
      [3, 1001, { next_pid: 1001 }],
    ],
  );
  t.emit(ev(4, 7, {}));
  assert.equal(sink.events.length, 4, 'nothing provisional: straight through');
  t.hold(9, 5);
  t.emit(ev(5, 9, {}));
  t.finish();
  assert.equal(sink.events.length, 5, 'finish flushes what is still held');
});

test("a clone's events that overrun task_newtask are fitted into the real window, in order", () => {
  const sink = new ArrayTracer();
  const t = new ProvisionalPidTracer(sink);
  t.hold(1000, 100);
  for (const ts of [100, 120, 150, 160]) t.emit(ev(ts, 5, { child_pid: 1000 }));
  t.cloned(1000);
  t.emit(ev(130, 7, {})); // another CPU, after the clone returned: not the clone's
  t.resolve(1000, 42, 130);
  assert.deepEqual(
    sink.events.map((e) => e.tsNs),
    [100, 110, 125, 130, 130],
  );
  assert.deepEqual(
    sink.events.map((e) => e.args.child_pid),
    [42, 42, 42, 42, undefined],
  );
});

test('replay --events of a marked recording: every child is named by the pid the trace gives it', async () => {
  const sink = new ArrayTracer();
  const r = await replayTrace('examples/traces/recorded/rec-prime-forkexec-500.trace.gz', { config: getPreset('linux-6.18'), validate: false, makeTracer: () => sink });
  assert.equal(r.anomalies.staleRenamed, 0);
  const newtasks = sink.events.filter((e) => e.name === 'task_newtask');
  assert.equal(newtasks.length, r.forks);
  const newtaskAt = new Map(newtasks.map((e) => [Number(e.args.pid), e.tsNs]));
  for (const e of sink.events) {
    if (e.name === 'sched_switch' && newtaskAt.has(Number(e.args.next_pid))) {
      assert.ok(e.tsNs >= newtaskAt.get(Number(e.args.next_pid))!, `child ${e.args.next_pid} runs at ${e.tsNs} before task_newtask`);
    }
    assert.ok(e.pid < 1 << 30, `${e.name} at ${e.tsNs} on a provisional pid ${e.pid}`);
    for (const [k, v] of Object.entries(e.args)) if (k.endsWith('pid')) assert.ok(Number(v) < 1 << 30, `${e.name} ${k}=${v}`);
  }
});

test("replay --events: an exec'd child's comm is the trace's, not its parent's", async () => {
  const file = 'examples/traces/recorded/rec-prime-forkexec-500.trace.gz';
  const traced = new Map<number, string>();
  await readTrace(file, {
    onRecord(r) {
      if (r.event === 'sched_process_exit') traced.set(r.pid, r.comm);
    },
  });
  const sink = new ArrayTracer();
  await replayTrace(file, { config: getPreset('linux-6.18'), validate: false, makeTracer: () => sink });
  const exits = sink.events.filter((e) => e.name === 'sched_process_exit');
  assert.ok(exits.length >= 500);
  assert.ok([...traced.values()].filter((c) => c === 'true').length >= 500, 'the children exec /bin/true');
  for (const e of exits) if (traced.has(Number(e.args.pid))) assert.equal(e.args.comm, traced.get(Number(e.args.pid)), `pid ${e.args.pid}`);
});
