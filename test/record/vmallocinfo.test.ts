// kstack record's list of the stacks alive at the start (src/trace/vmallocinfo.ts):
// which /proc/vmallocinfo lines are stacks, that hashed addresses are refused,
// and that kptr_restrict is written back on every path.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addressesAreReal, parseVmallocinfo, readStackAreas } from '../../src/trace/vmallocinfo.ts';

// Lines as 6.18 prints them on the reference machine (kptr_restrict 1), plus a
// stack whose caller is the out-of-line copy_process of another build.
const REAL = `0xffffc90000000000-0xffffc90000005000   20480 irq_init_percpu_irqstack+0xed/0x120 vmap
0xffffc9000000c000-0xffffc90000011000   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4
0xffffc90000024000-0xffffc90000029000   20480 kernel_clone+0xb8/0x400 pages=4 vmalloc N0=4
0xffffc90000030000-0xffffc90000035000   20480 fork_idle+0x4a/0x110 pages=4 vmalloc N0=4
0xffffc90000040000-0xffffc90000045000   20480 copy_process+0x1f2/0x1d00 pages=4 vmalloc N0=4
0xffffc90000048000-0xffffc9000004d000   20480 dup_task_struct.isra.0+0x5c/0x2f0 pages=4 vmalloc N0=4
0xffffc90000050000-0xffffc90000053000   12288 bpf_prog_alloc_no_stats+0x38/0x1a0 pages=2 vmalloc N0=2
0xffffc90000060000-0xffffc90000065000   20480 load_module+0x8e1/0x2400 pages=4 vmalloc N0=4
0xffffc90000070000-0xffffc90000072000    8192 vp_modern_map_capability+0x14c/0x260 phys=0x0000004000206000 ioremap
0xffffc90000080000-0xffffc90000085000   20480 unpurged vm_area
`;

describe('parseVmallocinfo', () => {
  it('keeps vmalloc areas allocated on the fork path, by size, and nothing else', () => {
    const a = parseVmallocinfo(REAL);
    assert.deepEqual(a.bySize, { '20480': ['0xffffc9000000c000', '0xffffc90000024000', '0xffffc90000030000', '0xffffc90000040000', '0xffffc90000048000'] });
    assert.deepEqual(a.callers, { kernel_clone: 2, fork_idle: 1, copy_process: 1, dup_task_struct: 1 });
    assert.ok(addressesAreReal(a));
  });

  it('hashed addresses (kptr_restrict 0) are not real, nor is an empty list', () => {
    // %pK with kptr_restrict 0: 16 hex digits like a real address, but not in the kernel half.
    const hashed = REAL.replace(/0xffffc900/g, '0x00000000');
    assert.equal(parseVmallocinfo(hashed).bySize['20480'][0].length, 18);
    assert.equal(addressesAreReal(parseVmallocinfo(hashed)), false);
    assert.equal(addressesAreReal(parseVmallocinfo('')), false);
  });
});

describe('readStackAreas', () => {
  const fakeProc = (kptr: string, vmallocinfo: string | null): string => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-proc-'));
    mkdirSync(join(dir, 'sys/kernel'), { recursive: true });
    writeFileSync(join(dir, 'sys/kernel/kptr_restrict'), `${kptr}\n`);
    if (vmallocinfo !== null) writeFileSync(join(dir, 'vmallocinfo'), vmallocinfo);
    return dir;
  };

  it('reads the list and writes kptr_restrict back', () => {
    const dir = fakeProc('0', REAL);
    try {
      const r = readStackAreas(dir);
      assert.ok(r.ok);
      assert.equal(r.areas.bySize['20480'].length, 5);
      assert.equal(r.kptrRestrict, '0');
      assert.equal(r.restoreError, null);
      assert.equal(readFileSync(join(dir, 'sys/kernel/kptr_restrict'), 'utf8').trim(), '0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes kptr_restrict back when the read fails, and says why', () => {
    const dir = fakeProc('2', null);
    try {
      const r = readStackAreas(dir);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.why, /vmallocinfo/);
      assert.equal(readFileSync(join(dir, 'sys/kernel/kptr_restrict'), 'utf8').trim(), '2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a list whose addresses are hashed', () => {
    const dir = fakeProc('1', REAL.replace(/0xffffc900/g, '0x00000000'));
    try {
      const r = readStackAreas(dir);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.why, /real addresses/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
