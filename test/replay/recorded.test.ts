// Traces recorded on the reference machine with `kstack record` (so they carry
// the kmem_cache_alloc task_struct marker): agreement at least 99.9%.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { replayTrace } from '../../src/replay/replay.ts';

const RECORDED = ['rec-fork-2000', 'rec-forkexec-500', 'rec-burst-4-2500'];

for (const name of RECORDED) {
  test(`${name}: recorded with the task_struct marker, agreement ≥ 99.9%`, async () => {
    const r = await replayTrace(`examples/traces/recorded/${name}.trace.gz`, { config: getPreset('linux-6.18'), validate: true });
    assert.ok(r.agreement !== null && r.agreement >= 0.999, `agreement ${r.agreement}`);
    assert.ok(r.scored >= 490, `scored ${r.scored}`);
  });
}
