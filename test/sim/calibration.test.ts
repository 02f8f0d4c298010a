// The simulator against the reference machine: the stack-cache miss rates of
// the five public workloads, recorded on Linux 6.18 with tracing on, must be
// reproduced within 5 percentage points by the default placement and
// linux-6.18 under --traced (the runs pay the same per-tracepoint cost).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { runSim } from '../../src/sim/run.ts';

const REAL = [
  { workload: 'pthread-loop', placement: 'default', ops: 20000, realMissPct: 45.6 },
  { workload: 'pthread-loop', placement: 'pin:0', ops: 20000, realMissPct: 0 },
  { workload: 'burst:k=4', placement: 'default', ops: 10000, realMissPct: 70.6 },
  { workload: 'messaging:groups=20', placement: 'default', ops: 1, realMissPct: 99.1 },
  { workload: 'fork-exec', placement: 'default', ops: 1000, realMissPct: 2 },
];

for (const w of REAL) {
  test(`${w.workload} (${w.placement}) misses within 5 pp of the real ${w.realMissPct}%`, () => {
    const r = runSim({ config: getPreset('linux-6.18'), workload: w.workload, cpus: 2, placement: w.placement, ops: w.ops, seed: 1, traced: true });
    const pct = r.stackCache.missRate * 100;
    assert.ok(Math.abs(pct - w.realMissPct) <= 5, `model ${pct.toFixed(1)}% vs real ${w.realMissPct}%`);
    assert.deepEqual(r.violations, []);
  });
}
