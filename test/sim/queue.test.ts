import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/queue.ts';

// The queue must pop in (time, priority, insertion order) whatever mix of
// pushes and pops (the front slot and the heap must agree on one order).
test('event queue pops in (time, priority, insertion) order under interleaved pushes and pops', () => {
  const op = fc.oneof(
    fc.record({ push: fc.constant(true), time: fc.integer({ min: 0, max: 40 }), prio: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ push: fc.constant(false), time: fc.constant(0), prio: fc.constant(0) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const q = new EventQueue();
      const ref: { time: number; prio: number; seq: number }[] = [];
      let seq = 0;
      for (const o of ops) {
        if (o.push) {
          const time = o.time;
          q.push(time, o.prio, seq);
          ref.push({ time, prio: o.prio, seq });
          seq++;
        } else if (ref.length > 0) {
          ref.sort((a, b) => a.time - b.time || a.prio - b.prio || a.seq - b.seq);
          const want = ref.shift()!;
          assert.equal(q.peekTime(), want.time);
          assert.equal(q.pop(), want.seq);
        }
        assert.equal(q.size, ref.length);
      }
      ref.sort((a, b) => a.time - b.time || a.prio - b.prio || a.seq - b.seq);
      for (const want of ref) assert.equal(q.pop(), want.seq);
      assert.equal(q.size, 0);
      assert.equal(q.peekTime(), Number.POSITIVE_INFINITY);
    }),
    { numRuns: 300 },
  );
});
