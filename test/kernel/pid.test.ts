import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PID_MAX_DEFAULT, PidTable, RESERVED_PIDS } from '../../src/kernel/pid.ts';
import { TaskStruct } from '../../src/kernel/task.ts';

test('alloc_pid is cyclic: it wraps from pid_max to RESERVED_PIDS and skips pids in use', () => {
  const t = new PidTable(PID_MAX_DEFAULT - 2);
  const a = t.alloc()!;
  t.set(a, new TaskStruct());
  assert.equal(a, PID_MAX_DEFAULT - 2);
  assert.equal(t.alloc(), PID_MAX_DEFAULT - 1);
  t.set(RESERVED_PIDS, new TaskStruct());
  assert.equal(t.alloc(), RESERVED_PIDS + 1, 'wrapped past pid_max, skipped the taken RESERVED_PIDS');
});

test('pids above pid_max (from a replayed trace) live in the map side', () => {
  const t = new PidTable(1000);
  const task = new TaskStruct();
  t.set(1 << 30, task);
  t.set(500, new TaskStruct());
  assert.equal(t.get(1 << 30), task);
  assert.equal(t.size, 2);
  t.delete(1 << 30);
  assert.equal(t.has(1 << 30), false);
  assert.equal(t.size, 1);
  assert.deepEqual([...t.values()].length, 1);
});
