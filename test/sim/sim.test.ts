import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { ArrayTracer } from '../../src/kernel/events.ts';
import { runSim } from '../../src/sim/run.ts';
import { formatEvent } from '../../src/trace/ftrace-writer.ts';
import { runSeed } from '../../src/cli/seed.ts';

test('pinned pthread-loop on 6.18 hits the stack cache on at least 99.9% of forks', () => {
  const r = runSim({ config: getPreset('linux-6.18'), workload: 'pthread-loop', cpus: 2, placement: 'pin:0', ops: 20000, seed: 1 });
  assert.ok(r.stackCache.hitRate >= 0.999, `hit rate ${r.stackCache.hitRate}`);
  assert.equal(r.ops, 20000);
  assert.deepEqual(r.invariantProblems, []);
  assert.deepEqual(r.violations, []);
});

test('same seed, byte-identical event stream; another seed may differ but stays valid', () => {
  const once = (seed: number) => {
    const tr = new ArrayTracer();
    const r = runSim({ config: getPreset('linux-6.18'), workload: 'stack-readers', cpus: 2, placement: 'default', ops: 2000, seed, tracer: tr });
    return { text: tr.events.map(formatEvent).join('\n'), json: JSON.stringify(r) };
  };
  const a = once(7);
  const b = once(7);
  assert.equal(a.text, b.text);
  assert.equal(a.json, b.json);
  assert.ok(a.text.length > 10000);
});

test('mutation: a stack reader without try_get_task_stack produces a use-after-free finding in stack-readers', () => {
  const base = { config: getPreset('linux-6.18'), workload: 'stack-readers', cpus: 2, placement: 'default', ops: 5000, seed: 3 };
  const ok = runSim(base);
  assert.deepEqual(ok.violations, [], 'the correct kernel has no finding');
  const bad = runSim({ ...base, mutations: ['no-pin-stack-trace'] });
  const uaf = bad.violations.filter((v) => v.kind === 'use-after-free');
  assert.ok(uaf.length > 0, 'found');
  assert.match(uaf[0].message, /stack-trace reader/);
  assert.ok(uaf[0].history.length > 0, 'the finding carries its event history');
});

test('the seed experiment lands each published delta inside its range', () => {
  const r = runSeed(5000, 1);
  for (const d of r.deltas) assert.ok(d.inside, `(${d.id}) ${d.what}: model ${d.modelUs} µs outside ${d.publishedUs}`);
});

test('every workload runs on every preset without invariant problems or findings', () => {
  const workloads = ['pthread-loop', 'burst:k=4', 'fork-exit-wait', 'fork-exec', 'thread-pool:workers=4,rounds=20', 'messaging:groups=2,loops=4', 'stack-readers', 'kthread', 'hotplug:period=200,down=50'];
  for (const w of workloads) {
    for (const c of ['linux-4.8', 'linux-4.9', 'linux-6.18']) {
      const ops = w.startsWith('fork-exec') ? 50 : w.startsWith('messaging') ? 1 : 500;
      const r = runSim({ config: getPreset(c), workload: w, cpus: 2, placement: 'default', ops, seed: 1 });
      assert.deepEqual(r.invariantProblems, [], `${w} ${c}`);
      const expectLeak = c === 'linux-4.9' && w.startsWith('hotplug');
      if (!expectLeak) assert.deepEqual(r.violations.map((v) => v.message), [], `${w} ${c}`);
      assert.ok(r.ops > 0, `${w} ${c} made progress`);
      assert.equal(r.boundHit, null);
    }
  }
});
