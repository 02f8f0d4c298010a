import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuddyZone, PageUse } from '../../src/mm/page_alloc.ts';

test('buddy: splitting and merging conserve pages; freeing both buddies restores the top order', () => {
  const z = new BuddyZone(1024, 1);
  const a = z.allocPages(2, 0, PageUse.Stack)!;
  const b = z.allocPages(2, 0, PageUse.Stack)!;
  assert.equal(z.freePages, 1024 - 8);
  assert.equal(b.pfn, a.pfn ^ 4, 'the second order-2 block is the first one\'s buddy');
  assert.deepEqual(z.checkConservation(), []);
  z.freePagesAt(a.pfn, 2, 0);
  z.freePagesAt(b.pfn, 2, 0);
  assert.equal(z.freePages, 1024);
  assert.equal(z.nrFree[10], 1, 'merged all the way back to one order-10 block');
  assert.deepEqual(z.checkConservation(), []);
});

test('buddy: pinned single pages fragment the zone; compaction migrates movable ones; else the order-2 path fails', () => {
  const z = new BuddyZone(1024, 1);
  // Pin one page in every aligned 4-page block: no order-2 block can form.
  const held: number[] = [];
  for (let i = 0; i < 1024; i++) held.push(z.allocPages(0, 0, i % 4 === 0 ? PageUse.Movable : PageUse.Movable)!.pfn);
  for (const pfn of held) if (pfn % 4 !== 0) z.freePagesAt(pfn, 0, 0);
  z.drainPcp(0);
  assert.equal(z.freePages, 768);
  const got = z.allocPages(2, 0, PageUse.Stack);
  assert.ok(got, 'compaction made a block');
  assert.equal(got!.slow, true);
  assert.equal(z.compactions, 1);
  assert.deepEqual(z.checkConservation(), []);

  const u = new BuddyZone(1024, 1);
  const pins: number[] = [];
  for (let i = 0; i < 1024; i++) pins.push(u.allocPages(0, 0, PageUse.Unmovable)!.pfn);
  for (const pfn of pins) if (pfn % 4 !== 0) u.freePagesAt(pfn, 0, 0);
  u.drainPcp(0);
  assert.equal(u.allocPages(2, 0, PageUse.Stack), null, 'unmovable pins: the high-order path fails');
  assert.equal(u.allocFailures, 1);
});

test('buddy: double free is refused', () => {
  const z = new BuddyZone(1024, 1);
  const a = z.allocPages(2, 0, PageUse.Stack)!;
  z.freePagesAt(a.pfn, 2, 0);
  assert.throws(() => z.freePagesAt(a.pfn, 2, 0), /double free/);
});
