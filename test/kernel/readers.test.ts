// The pinning protocol: a reader that pins keeps a dead task's stack; one that does not reads freed memory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { READER_KINDS } from '../../src/kernel/task_stack.ts';
import { mkKernel, threadLife } from './helpers.ts';

for (const kind of ['stack-trace', 'wchan', 'syscall'] as const) {
  test(`${kind}: a pinned reader holds the stack past the final switch; the last put releases it on the reader's CPU`, () => {
    const { k } = mkKernel('linux-6.18');
    k.adoptTask(0, 100, 'parent', 0);
    k.contextSwitch(0, 0, 100, 'R');
    const pid = threadLife(k, 0, 100, 10);
    k.contextSwitch(0, 20, pid, 'S');
    const r = k.stackReaderBegin(1, 25, kind, pid)!;
    k.doExit(0, 30, pid, false);
    k.contextSwitch(0, 31, 100, 'S');
    assert.equal(k.cacheOccupancy(0), 0, 'not released at the final switch: pinned');
    k.stackReaderAccess(1, 40, r);
    k.stackReaderEnd(1, 50, r);
    assert.equal(k.cacheOccupancy(1), 1, 'released into the reader CPU\'s cache');
    assert.equal(k.violations.length, 0);
    assert.deepEqual(k.checkInvariants(), []);
  });

  test(`${kind} without try_get_task_stack reads a freed stack: a use-after-free finding`, () => {
    const { k } = mkKernel('linux-6.18', {}, 2, [`no-pin-${kind}`]);
    k.adoptTask(0, 100, 'parent', 0);
    k.contextSwitch(0, 0, 100, 'R');
    const pid = threadLife(k, 0, 100, 10);
    k.contextSwitch(0, 20, pid, 'S');
    const r = k.stackReaderBegin(1, 25, kind, pid)!;
    k.doExit(0, 30, pid, false);
    k.contextSwitch(0, 31, 100, 'S');
    k.stackReaderAccess(1, 40, r);
    assert.equal(k.violations.length, 1);
    assert.equal(k.violations[0].kind, 'use-after-free');
    assert.match(k.violations[0].message, /CACHED/);
    k.stackReaderEnd(1, 50, r);
  });
}

test('every reader kind names the kernel function it models', () => {
  assert.deepEqual([...READER_KINDS], ['stack-trace', 'wchan', 'syscall', 'kthread']);
});
