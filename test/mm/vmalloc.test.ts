import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lazyMaxPages, VmapSpace, vaDecimal, vaHex } from '../../src/mm/vmalloc.ts';

test('stack areas are 20 KiB at 16 KiB alignment: consecutive ones land 32 KiB apart, lowest fit first', () => {
  const v = new VmapSpace(false);
  const a = v.alloc(20480, 16384)!;
  const b = v.alloc(20480, 16384)!;
  const c = v.alloc(20480, 16384)!;
  assert.deepEqual([a.start, b.start - a.start, c.start - b.start], [0, 32768, 32768]);
  // An 8 KiB hole after each stack fits a small allocation.
  const small = v.alloc(8192, 4096)!;
  assert.equal(small.start, 20480);
  assert.deepEqual(v.checkConservation(), []);
});

test('lazy free holds the KVA until purge; purge merges it back and the lowest fit reuses it', () => {
  const v = new VmapSpace(false);
  const a = v.alloc(20480, 16384)!;
  v.alloc(20480, 16384);
  assert.equal(v.freeLazy(a.start, a.bytes), 5, 'vmap_lazy_nr counts the guard page: 5 pages');
  assert.equal(v.alloc(20480, 16384)!.start, 65536, 'lazy KVA is not reusable');
  const r = v.purge()!;
  assert.deepEqual(r, { start: 0, end: 20480, areas: 1 });
  assert.equal(v.alloc(20480, 16384)!.start, 0);
  assert.deepEqual(v.checkConservation(), []);
});

test('6.9+ pools: purged areas come back highest address first (list_add), as the real traces show', () => {
  const v = new VmapSpace(true);
  const areas = [0, 1, 2].map(() => v.alloc(20480, 16384)!);
  for (const a of areas) v.freeLazy(a.start, a.bytes);
  v.purge();
  assert.deepEqual([0, 1, 2].map(() => v.alloc(20480, 16384)!.start), [65536, 32768, 0]);
  assert.deepEqual(v.checkConservation(), []);
});

test('lazy_max_pages = fls(online CPUs) * 8192 and addresses print as the kernel does', () => {
  assert.deepEqual([1, 2, 4, 8, 64].map(lazyMaxPages), [8192, 16384, 24576, 32768, 57344]);
  assert.equal(vaHex(0), '0xffffc90000000000');
  assert.equal(vaDecimal(0), '18446683600570023936');
});
