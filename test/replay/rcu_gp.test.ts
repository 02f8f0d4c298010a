// RcuGpTracker: grace periods read off the grace-period kthread's FQS timer,
// and which callbacks each CPU gave which grace period (rcu_accelerate_cbs).
// Times are in ns; two CPUs; the kthread runs on CPU 0 unless said.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GP_IDLE, GP_IN_PROGRESS, GP_UNKNOWN, RcuGpTracker } from '../../src/replay/rcu_gp.ts';

/** One run of the kthread on `cpu`: switched in, its timer events, switched out asleep. */
function run(g: RcuGpTracker, cpu: number, t: number, events: ('T' | 'C')[], wokenByCore = false): void {
  if (wokenByCore) g.kthreadWokenByCore(1 - cpu);
  g.kthreadRuns();
  for (const e of events) {
    if (e === 'T') g.fqsTimerStart(cpu, t);
    else g.fqsTimerCancel(cpu, t);
  }
  g.kthreadSleeps(cpu, t + 1);
}

/** A pass of rcu_core() on `cpu` (not in ksoftirqd unless said), with its End. */
function pass(g: RcuGpTracker, cpu: number, t: number, opts: { ksoftirqd?: boolean } = {}): void {
  g.rcuCore(cpu, t, opts.ksoftirqd ?? false);
  g.rcuCoreEnd(cpu);
}

/** From an unknown start to a grace period in progress that began at `t` with both CPUs' callbacks up to their passes. */
function anchored(): RcuGpTracker {
  const g = new RcuGpTracker(2);
  run(g, 0, 100, ['C']); // woken early: a grace period ended; now idle
  assert.equal(g.state, GP_IDLE);
  assert.equal(g.active, false, 'no start seen yet: the estimate decides');
  pass(g, 0, 150); // no grace period in progress: rcu_core accelerates
  pass(g, 1, 160);
  run(g, 0, 200, ['T']); // rcu_gp_init, then the FQS wait
  assert.equal(g.state, GP_IN_PROGRESS);
  assert.equal(g.active, true);
  return g;
}

/** anchored(), then CPU 1 notes the grace period and CPU 0 reports its QS: CPU 1's report, once it has had a QS, is the last. */
function cpu0Reported(): RcuGpTracker {
  const g = anchored();
  pass(g, 1, 210); // notes
  g.quiescent(1);
  g.quiescent(0);
  pass(g, 0, 215); // CPU 0 reports
  return g;
}

test('the tracker stays out until a grace period is seen to start', () => {
  const g = new RcuGpTracker(2);
  assert.equal(g.state, GP_UNKNOWN);
  run(g, 0, 100, ['T']); // an FQS wait: a grace period is in progress, when it began is unknown
  assert.equal(g.state, GP_IN_PROGRESS);
  assert.equal(g.active, false);
  run(g, 0, 200, ['C', 'T']); // end and start: from here the tracker decides
  assert.equal(g.active, true);
  assert.equal(g.inits, 1);
  assert.equal(g.firstInitNs, 200);
});

test('callbacks queued before a CPU last accelerated ride the next grace period; later ones the one after', () => {
  const g = anchored();
  // Both CPUs accelerated at 150/160 (idle rcu_core): their callbacks up to then wait for this grace period.
  run(g, 1, 300, ['C', 'T'], true); // the last QS came in: cleanup, and the next grace period starts
  // rcu_gp_cleanup advanced the kthread's CPU (1) only; CPU 0's callbacks move to its done list when it notes the end.
  assert.deepEqual([...g.readyNs], [-1, 160]);
  pass(g, 0, 310);
  assert.deepEqual([...g.readyNs], [150, 160]);
  assert.equal(g.ends, 1);
});

test('a CPU accelerates when it notes a new grace period and when it reports its quiescent state', () => {
  const g = anchored();
  pass(g, 1, 210); // notes the new grace period (note_gp_changes): accelerates
  g.quiescent(1); // a context switch
  pass(g, 1, 220); // reports its QS (rcu_report_qs_rdp): accelerates; CPU 0 still owes one, so no wakeup is expected
  pass(g, 0, 230); // CPU 0 (the kthread's) had noted it at rcu_gp_init and has seen no QS since: no report
  run(g, 0, 400, ['C', 'T'], true);
  pass(g, 1, 410); // CPU 1 notes the end (and the new start)
  // The grace period that started at 200 covers CPU 1's callbacks up to 160 only: 210 and 220 came after its start.
  assert.deepEqual([...g.readyNs], [150, 160]);
  run(g, 0, 600, ['C', 'T'], true);
  pass(g, 1, 610);
  // The next one (started at 400) covers CPU 1 up to its report at 220, and CPU 0 up to its own rcu_gp_cleanup at 400.
  assert.deepEqual([...g.readyNs], [400, 220]);
});

test('a report that would end the grace period without waking the kthread is undone', () => {
  const g = cpu0Reported();
  pass(g, 1, 220); // CPU 1 would be last, but no wakeup of the kthread follows in this pass: it did not report
  // So when the forcing pass runs (timer fired, nothing cancelled) with CPU 1 busy, CPU 1 still owes its QS.
  run(g, 0, 300, ['T']);
  assert.equal(g.ends, 0, 'CPU 1 busy: the forcing pass cannot end the grace period');
});

test('a last report while the kthread is already woken (its timer) ends the grace period though no wakeup shows', () => {
  const g = cpu0Reported();
  g.kthreadWoken(); // process_timeout woke it (a sched_wakeup outside rcu_core); it has not run yet
  pass(g, 1, 220); // CPU 1 is last: rcu_gp_kthread_wake finds it TASK_RUNNING, so the trace shows nothing
  // It runs, sees no CPU owing a QS, ends the grace period and starts the next (one timer_start, no cancel).
  run(g, 0, 300, ['T']);
  assert.equal(g.ends, 1);
  assert.equal(g.inits, 2);
  // CPU 1's callbacks up to its report (220) ride the next grace period, not this one.
  pass(g, 1, 310);
  assert.deepEqual([...g.readyNs], [150, 160]);
});

test('a wakeup of the kthread counts only until it runs', () => {
  const g = cpu0Reported();
  g.kthreadWoken();
  run(g, 0, 240, ['T']); // it ran a forcing pass (CPU 1 busy, owing) and sleeps again: a later wakeup would show
  pass(g, 1, 260); // last, no wakeup in this pass: undone as before
  run(g, 0, 300, ['T']);
  assert.equal(g.ends, 0);
});

test('a last report while the kthread runs, before it waits again, ends the grace period at its next timer_start', () => {
  const g = cpu0Reported();
  g.kthreadWoken(); // its timer fired
  g.kthreadRuns(); // switched in on CPU 0: it checks rnp->qsmask before arming the timer again
  pass(g, 1, 250); // CPU 1 is last meanwhile: swake_up_one finds no waiter, so nothing prints
  g.fqsTimerStart(0, 252); // one timer_start, no cancel: cleanup, then the next grace period
  g.kthreadSleeps(0, 253);
  assert.equal(g.ends, 1);
  assert.equal(g.inits, 2);
  // Once it has armed its timer it is waiting: a last report then must wake it (and would print).
  const h = cpu0Reported();
  h.kthreadWoken();
  h.kthreadRuns();
  h.fqsTimerStart(0, 245);
  pass(h, 1, 250);
  h.kthreadSleeps(0, 253);
  assert.equal(h.ends, 0);
});

test("a wakeup of the sleeping kthread from elsewhere while a CPU's last report is in its pass confirms that report", () => {
  const g = cpu0Reported();
  g.rcuCore(1, 250, false); // CPU 1 would be last; its pass is still open
  g.kthreadWoken(); // the wakeup prints on the kthread's CPU (a queued remote wakeup, or its timer at the same time)
  g.rcuCoreEnd(1); // so the report is not undone
  g.kthreadRuns();
  g.fqsTimerStart(0, 255); // no cancel: cleanup and the next start
  g.kthreadSleeps(0, 256);
  assert.equal(g.ends, 1);
  // The same wakeup after the pass has ended proves nothing: the report was undone at its End.
  const h = cpu0Reported();
  pass(h, 1, 250);
  h.kthreadWoken();
  h.kthreadRuns();
  h.fqsTimerStart(0, 255);
  h.kthreadSleeps(0, 256);
  assert.equal(h.ends, 0);
});

test('a wakeup of the kthread by IPI after a last report undone at its End restores the report', () => {
  const g = cpu0Reported();
  pass(g, 1, 250); // CPU 1 would be last; no wakeup in its pass, so undone at End
  g.remoteWakeup(0); // then the kthread's CPU prints the queued remote wakeup from its IPI (hardirq)
  run(g, 0, 300, ['T']); // one timer_start: cleanup and the next start
  assert.equal(g.ends, 1);
  // The same wakeup from the timer softirq is the timer's: the report stays undone, and CPU 1 (busy) still owes.
  const h = cpu0Reported();
  pass(h, 1, 250);
  h.kthreadWoken();
  run(h, 0, 300, ['T']);
  assert.equal(h.ends, 0);
  // And once the kthread has run since, a later IPI wakeup is not that report's.
  const k = cpu0Reported();
  pass(k, 1, 250);
  run(k, 0, 260, ['T']);
  k.remoteWakeup(0);
  run(k, 0, 300, ['T']);
  assert.equal(k.ends, 0);
});

test('a forcing pass ends the grace period when every CPU still owing a QS is idle', () => {
  const g = anchored();
  g.quiescent(0);
  pass(g, 0, 210); // CPU 0 reports
  g.idle(1, 205, true); // CPU 1 went idle and stays idle (dyntick): the forcing pass reports it
  run(g, 0, 300, ['T']); // timer fired: rcu_gp_fqs → cleanup → rcu_gp_init → arms the timer again
  assert.equal(g.ends, 1);
  assert.equal(g.inits, 2);
  assert.equal(g.state, GP_IN_PROGRESS);
});

test('a forcing pass with a busy CPU owing its QS leaves the grace period in progress', () => {
  const g = anchored();
  g.quiescent(0);
  pass(g, 0, 210);
  g.idle(1, 150, false); // CPU 1 busy since before the grace period
  run(g, 0, 300, ['T']);
  assert.equal(g.ends, 0);
  assert.equal(g.inits, 1);
});

test('woken by the last report, its timer having fired meanwhile: cleanup and the next start without a cancel', () => {
  const g = anchored();
  run(g, 0, 300, ['T'], true);
  assert.equal(g.ends, 1);
  assert.equal(g.inits, 2);
});

test('asleep with no timer armed while a grace period was in progress: it ended and no other was needed', () => {
  const g = anchored();
  run(g, 0, 300, []); // the timer fired, a forcing pass ended it, no new one: swait_event_idle_exclusive
  assert.equal(g.state, GP_IDLE);
  assert.equal(g.ends, 1);
  // With none in progress every rcu_core accelerates (and asks for one).
  pass(g, 1, 350);
  run(g, 0, 400, ['T']);
  run(g, 0, 500, ['C', 'T'], true);
  pass(g, 1, 510);
  assert.equal(g.readyNs[1], 350);
});

test("a CPU whose note_gp_changes finds the rcu_node locked by another CPU's pass advances nothing until its next pass", () => {
  const g = anchored();
  run(g, 0, 300, ['C', 'T'], true); // the grace period ends: CPU 0 (the kthread's) is advanced, CPU 1 not yet
  g.quiescent(0);
  g.rcuCore(0, 310, false); // CPU 0 reports its QS for the new grace period: it holds the rnp lock
  g.rcuCore(1, 310, false); // CPU 1 in the same microsecond: raw_spin_trylock_rcu_node fails, note_gp_changes returns
  g.rcuCoreEnd(1);
  g.rcuCoreEnd(0);
  assert.equal(g.readyNs[1], -1, 'the trylock failed: nothing moved to the done list');
  pass(g, 1, 320); // the next pass takes the lock: rcu_advance_cbs
  assert.equal(g.readyNs[1], 160);
});

test("another CPU's pass long past its locking does not stop a note", () => {
  const g = anchored();
  run(g, 0, 300, ['C', 'T'], true);
  g.quiescent(0);
  g.rcuCore(0, 310, false); // CPU 0 reports at 310 and runs callbacks for a while
  g.rcuCore(1, 5000, false); // CPU 1 starts 4.7 µs later: the lock was released long ago
  assert.equal(g.readyNs[1], 160);
});

test('a preempted kthread keeps its armed timer across the preemption', () => {
  const g = anchored();
  g.kthreadRuns();
  g.fqsTimerCancel(0, 300); // woken early: cleanup
  g.fqsTimerStart(0, 301); // rcu_gp_init, timer armed
  // preempted (prev_state R: not kthreadSleeps), then back and asleep: the timer is still armed
  g.kthreadRuns();
  g.kthreadSleeps(0, 310);
  assert.equal(g.state, GP_IN_PROGRESS);
  assert.equal(g.ends, 1);
});
