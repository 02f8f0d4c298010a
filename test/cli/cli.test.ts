// The kstack command as a user runs it: exit codes, --json, --events, errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

function kstack(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/kstack.js', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('sim --json: the acceptance command reports a pinned hit rate of at least 99.9%', () => {
  const r = kstack('sim', '--workload', 'pthread-loop', '--config', 'linux-6.18', '--cpus', '2', '--placement', 'pin:0', '--ops', '20000', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.ok(j.runs[0].stackCache.hitRate >= 0.999);
  for (const k of ['config', 'workload', 'cpus', 'ops', 'usPerOp', 'vmallocs', 'vfrees', 'purges', 'tlbFlushes', 'peakStackKiB', 'peakRcuPendingStacks', 'violations']) {
    assert.ok(k in j.runs[0], k);
  }
});

test('sim --events writes ftrace text that starts like the kernel\'s trace file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kstack-'));
  const f = join(dir, 'ev.txt');
  const r = kstack('sim', '--workload', 'pthread-loop', '--ops', '50', '--events', f);
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(f, 'utf8');
  assert.match(text, /^# tracer: nop\n/);
  assert.match(text, / \[000\] \.{5} +\d+\.\d{6}: sched_switch: prev_comm=/);
  assert.match(text, /stack_cache_(hit|miss)/);
});

test('a mutation found is exit 1; bad usage is exit 2 with the reason', () => {
  const found = kstack('sim', '--workload', 'stack-readers', '--ops', '3000', '--mutate', 'no-pin-wchan', '--seed', '3');
  assert.equal(found.code, 1);
  assert.match(found.out, /use-after-free/);
  const bad = kstack('sim', '--workload', 'nope');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown workload 'nope'/);
  const noWorkload = kstack('sim');
  assert.equal(noWorkload.code, 2);
  assert.equal(kstack('frobnicate').code, 2);
  assert.equal(kstack('sim', '--help').code, 0);
});
