// Traces recorded on the reference machine with `kstack record` (so they carry
// the kmem_cache_alloc task_struct marker), held to the issue's 99.9% bar.
// The rec-gp-* recordings also carry the grace-period kthread's FQS timer
// (timer_start / timer_cancel), from which the replay reads grace periods
// (src/replay/rcu_gp.ts); the older ones do not, and the same tracker is told
// what each run of the kthread did by who woke it (driver.ts, timerless).
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { replayTrace } from '../../src/replay/replay.ts';

const RECORDED: { name: string; minAgreement: number; vfreeSlack?: number }[] = [
  { name: 'rec-burst-4-2500', minAgreement: 0.999 },
  // fork+_exit+waitpid, children often dying on the other CPU than the parent
  { name: 'rec-churn-3000', minAgreement: 0.999 },
  // recorded before the timer was: grace periods read off the kthread's runs and who woke them (1 wrong; 10 estimated)
  { name: 'rec-churn-3000-b', minAgreement: 0.999 },
  // a shell's vfork+exec loop of /bin/true, across a pid_max wrap
  { name: 'rec-sh-true-3000', minAgreement: 0.999 },
  // with the kthread's timer: grace periods read, not estimated
  { name: 'rec-gp-churn-3000', minAgreement: 0.999 },
  // threads of a pthread burst
  { name: 'rec-gp-burst-4-2500', minAgreement: 0.9999 },
  // fork+_exit+waitpid from tbench
  { name: 'rec-gp-fork-2000', minAgreement: 0.999 },
  // a shell's loop of /bin/true with the timer: 0 wrong of 2,999 since a last quiescent state reported
  // to a kthread already woken or running counts (rcu_gp.ts); 5 before those rules
  { name: 'rec-gp-sh-true-3000', minAgreement: 0.9995 },
  // recorded with the stack-cache prologue (kstack record's prime): the starting fill no longer matters
  { name: 'rec-prime-churn-3000', minAgreement: 0.999 },
  { name: 'rec-prime-sh-true-3000', minAgreement: 0.999 },
  // primed, and with the stacks alive at the start listed (meta stack_areas_at_start): every stack free classified
  { name: 'rec-prime-fork-2000', minAgreement: 0.999 },
  { name: 'rec-prime-forkexec-500', minAgreement: 0.999 },
  // the last batch's vfree_atomic work is still queued when the trace ends (kworker/1 woken, never run):
  // 1,148 / 1,133 when the model ran the work at the callback instead of at the kworker
  { name: 'rec-prime-churn-3000-b', minAgreement: 0.999 },
  // a batch run pass by pass under ksoftirqd with the kworker between passes: the model learns it ran only
  // when ksoftirqd sleeps, after the last kworker run; 1,056 / 1,082 without counting that work as done
  { name: 'rec-prime-churn-3000-c', minAgreement: 0.999 },
];

test('the primed recordings: every starting fill gives the same stack vfree total', async () => {
  for (const name of ['rec-prime-churn-3000', 'rec-prime-sh-true-3000', 'rec-prime-fork-2000', 'rec-prime-forkexec-500', 'rec-prime-churn-3000-b', 'rec-prime-churn-3000-c']) {
    const r = await replayTrace(`examples/traces/recorded/${name}.trace.gz`, { config: getPreset('linux-6.18'), validate: true });
    assert.equal(r.vfrees.predictedMin, r.vfrees.predictedMax, `${name}: ${JSON.stringify(r.vfrees)}`);
    assert.ok(r.burnIn <= 8, `${name}: burn-in ${r.burnIn} (the prologue's own forks)`);
  }
});

for (const { name, minAgreement, vfreeSlack = 1 } of RECORDED) {
  test(`${name}: recorded with the task_struct marker, agreement ≥ ${(100 * minAgreement).toFixed(2)}%, stack vfrees within ${vfreeSlack === 1 ? '1%' : `${vfreeSlack} vfrees`}`, async () => {
    const r = await replayTrace(`examples/traces/recorded/${name}.trace.gz`, { config: getPreset('linux-6.18'), validate: true });
    assert.ok(r.agreement !== null && r.agreement >= minAgreement, `agreement ${r.agreement}`);
    assert.ok(r.scored >= 490, `scored ${r.scored}`);
    const { predicted, observed } = r.vfrees;
    assert.ok(Math.abs(predicted - observed) <= Math.max(vfreeSlack, 0.01 * observed), `vfrees ${predicted} / ${observed}`);
  });
}

test('recordings that list the stacks alive at their start leave no stack free unclassified', async () => {
  for (const name of ['rec-prime-fork-2000', 'rec-prime-forkexec-500', 'rec-prime-churn-3000-b', 'rec-prime-churn-3000-c']) {
    const r = await replayTrace(`examples/traces/recorded/${name}.trace.gz`, { config: getPreset('linux-6.18'), validate: true });
    assert.ok(r.stacksAtStart !== null && r.stacksAtStart > 50, `${name}: ${r.stacksAtStart} listed`);
    assert.equal(r.vfrees.observedUnclassified, 0, name);
    assert.equal(r.vfrees.predicted, r.vfrees.observed, `${name}: ${r.vfrees.predicted} / ${r.vfrees.observed}`);
  }
});

test('rec-gp-churn-3000: grace periods read off the kthread timer; without it, off its runs and who woke them; without those wakeups, worse', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-gp-'));
  try {
    const src = 'examples/traces/recorded/rec-gp-churn-3000';
    const text = gunzipSync(readFileSync(`${src}.trace.gz`)).toString('utf8');
    const stripped = text
      .split('\n')
      .filter((l) => !/ timer_(start|cancel): /.test(l))
      .join('\n');
    assert.ok(stripped.length < text.length, 'the recording has timer lines');
    // Also the kthread's wakeups made into wakeups of nobody: its runs then say nothing of who woke them.
    const blind = stripped.replace(/sched_wakeup: comm=rcu_preempt pid=\d+/g, 'sched_wakeup: comm=nobody pid=999999');
    assert.ok(blind !== stripped, 'the recording has wakeups of rcu_preempt');
    // And the kthread not named at all: no runs to read, only the estimate (crossProof).
    const anon = stripped.replaceAll('rcu_preempt', 'rcu_unnamed');
    writeFileSync(join(dir, 's.trace.gz'), gzipSync(stripped));
    writeFileSync(join(dir, 'b.trace.gz'), gzipSync(blind));
    writeFileSync(join(dir, 'a.trace.gz'), gzipSync(anon));
    const cfg = getPreset('linux-6.18');
    const read = await replayTrace(`${src}.trace.gz`, { config: cfg, validate: true });
    const woken = await replayTrace(join(dir, 's.trace.gz'), { config: cfg, validate: true });
    const est = await replayTrace(join(dir, 'b.trace.gz'), { config: cfg, validate: true });
    const guess = await replayTrace(join(dir, 'a.trace.gz'), { config: cfg, validate: true });
    assert.equal(est.gracePeriods.source, 'kthread-wakeups');
    assert.equal(guess.gracePeriods.source, 'estimate');
    assert.ok(guess.agreement !== null && guess.agreement >= 0.995 && guess.agreement < 0.9999, `estimate: ${guess.agreement}`);
    assert.equal(read.gracePeriods.source, 'kthread-timer');
    assert.ok(read.gracePeriods.started > 50 && read.gracePeriods.ended >= read.gracePeriods.started - 1, JSON.stringify(read.gracePeriods));
    assert.equal(woken.gracePeriods.source, 'kthread-wakeups');
    assert.ok(Math.abs(woken.gracePeriods.ended - read.gracePeriods.ended) <= 0.05 * read.gracePeriods.ended, `${woken.gracePeriods.ended} vs ${read.gracePeriods.ended} grace periods`);
    assert.ok(read.agreement !== null && woken.agreement !== null && est.agreement !== null);
    assert.ok(woken.agreement >= 0.999, `without the timer: ${woken.agreement}`);
    assert.ok(est.agreement < woken.agreement, `without the wakeups: ${est.agreement} vs ${woken.agreement}`);
    // The timer's stack vfrees are within 0.3%; read off the runs, within 1%.
    assert.ok(Math.abs(read.vfrees.predicted - read.vfrees.observed) <= 0.003 * read.vfrees.observed, `vfrees ${read.vfrees.predicted}/${read.vfrees.observed}`);
    assert.ok(Math.abs(woken.vfrees.predicted - woken.vfrees.observed) <= 0.01 * woken.vfrees.observed, `vfrees ${woken.vfrees.predicted}/${woken.vfrees.observed}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
