// Traces recorded on the reference machine with `kstack record` (so they carry
// the kmem_cache_alloc task_struct marker), held to the 99.9% bar. The
// process-churn recordings depend most on the cross-CPU RCU estimate
// (driver.ts, crossProof), so a change to it that loses ground shows up here.
// rec-churn-3000-b, a later recording of the same program, is below the bar
// and held to the figure it reaches today (README, "Not yet explained").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { replayTrace } from '../../src/replay/replay.ts';

const RECORDED: { name: string; minAgreement: number }[] = [
  { name: 'rec-fork-2000', minAgreement: 0.999 },
  { name: 'rec-forkexec-500', minAgreement: 0.999 },
  { name: 'rec-burst-4-2500', minAgreement: 0.999 },
  // fork+_exit+waitpid, children often dying on the other CPU than the parent
  { name: 'rec-churn-3000', minAgreement: 0.999 },
  { name: 'rec-churn-3000-b', minAgreement: 0.9971 },
  // a shell's vfork+exec loop of /bin/true, across a pid_max wrap
  { name: 'rec-sh-true-3000', minAgreement: 0.999 },
];

for (const { name, minAgreement } of RECORDED) {
  test(`${name}: recorded with the task_struct marker, agreement ≥ ${(100 * minAgreement).toFixed(2)}%, stack vfrees within 1%`, async () => {
    const r = await replayTrace(`examples/traces/recorded/${name}.trace.gz`, { config: getPreset('linux-6.18'), validate: true });
    assert.ok(r.agreement !== null && r.agreement >= minAgreement, `agreement ${r.agreement}`);
    assert.ok(r.scored >= 490, `scored ${r.scored}`);
    const { predicted, observed } = r.vfrees;
    assert.ok(Math.abs(predicted - observed) <= Math.max(1, 0.01 * observed), `vfrees ${predicted} / ${observed}`);
  });
}
