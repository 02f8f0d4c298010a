// Payload parsers: both renderings where two exist (the kernel's TP_printk and
// libtraceevent's plugin), comms with spaces, `=`, dashes and key look-alikes,
// exact 64-bit addresses, and null for anything else.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLONE_THREAD,
  CLONE_VM,
  isDeadState,
  parseAllocVmapArea,
  parseCaptureMarker,
  parseFreeVmapAreaNoflush,
  parseKmemCacheAlloc,
  parsePurgeVmapAreaLazy,
  parseRcuUtilization,
  parseSchedMigrateTask,
  parseSchedProcessExit,
  parseSchedProcessFork,
  parseSchedProcessFree,
  parseSchedSwitch,
  parseSchedWakeup,
  parseSchedWakeupNew,
  parseTaskNewtask,
  parseTracingMarkWrite,
} from '../../src/trace/events.ts';

describe('sched_switch', () => {
  it('reads the kernel rendering', () => {
    assert.deepEqual(
      parseSchedSwitch(
        'prev_comm=bash prev_pid=4300 prev_prio=120 prev_state=X ==> next_comm=swapper/3 next_pid=0 next_prio=120',
      ),
      {
        prevComm: 'bash',
        prevPid: 4300,
        prevPrio: 120,
        prevState: 'X',
        nextComm: 'swapper/3',
        nextPid: 0,
        nextPrio: 120,
        rendering: 'tp_printk',
      },
    );
  });

  it('keeps comms with spaces, = and key look-alikes whole', () => {
    const s = parseSchedSwitch(
      'prev_comm=Web Content prev_pid=1234 prev_prio=120 prev_state=R+ ==> next_comm=a=b prev_pid=7 next_pid=55 next_prio=100',
    );
    assert.equal(s?.prevComm, 'Web Content');
    assert.equal(s?.prevState, 'R+');
    assert.equal(s?.nextComm, 'a=b prev_pid=7');
    assert.equal(s?.nextPid, 55);
    const t = parseSchedSwitch(
      'prev_comm=x prev_pid=9 y prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=z next_pid=2 next_prio=120',
    );
    assert.equal(t?.prevComm, 'x prev_pid=9 y');
    assert.equal(t?.prevPid, 1);
  });

  it('finds the real ==> when a comm contains one', () => {
    const s = parseSchedSwitch(
      'prev_comm=a ==> next_comm=b prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=c ==> d next_pid=2 next_prio=-1',
    );
    assert.equal(s?.prevComm, 'a ==> next_comm=b');
    assert.equal(s?.nextComm, 'c ==> d');
    assert.equal(s?.nextPrio, -1);
  });

  it('keeps multi-letter states as printed', () => {
    for (const state of ['R', 'R+', 'S', 'D', 'D|K', 'x', 'Z', 'I', 'T', 't', 'P']) {
      const s = parseSchedSwitch(
        `prev_comm=a prev_pid=1 prev_prio=120 prev_state=${state} ==> next_comm=b next_pid=2 next_prio=120`,
      );
      assert.equal(s?.prevState, state);
    }
  });

  it('reads the plugin rendering, with and without prio, and trace-cmd padding', () => {
    assert.deepEqual(parseSchedSwitch('        Web Content:1234 [120] R+ ==> kworker/u16:1:77 [120]'), {
      prevComm: 'Web Content',
      prevPid: 1234,
      prevPrio: 120,
      prevState: 'R+',
      nextComm: 'kworker/u16:1',
      nextPid: 77,
      nextPrio: 120,
      rendering: 'plugin',
    });
    const noPrio = parseSchedSwitch('perf:14569 S ==> swapper/1:0');
    assert.equal(noPrio?.prevPrio, null);
    assert.equal(noPrio?.nextPrio, null);
    assert.equal(noPrio?.prevState, 'S');
  });

  it('plugin rendering with ==> inside a comm', () => {
    const s = parseSchedSwitch('a ==> b:1 [120] S ==> c ==> d:2 [120]');
    assert.equal(s?.prevComm, 'a ==> b');
    assert.equal(s?.nextComm, 'c ==> d');
  });

  it('returns null for anything else', () => {
    for (const p of [
      '',
      'prev_comm=a prev_pid=x prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120',
      'prev_comm=a prev_pid=1 prev_prio=120 prev_state=S next_comm=b next_pid=2 next_prio=120',
      'prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2',
      'prev_comm=a prev_pid=1 prev_prio=120 prev_state=S1 ==> next_comm=b next_pid=2 next_prio=120',
      'hello world',
    ]) {
      assert.equal(parseSchedSwitch(p), null, p);
    }
  });
});

describe('isDeadState', () => {
  it('is true for X, Z (4.14+) and x (TASK_DEAD before 4.14), alone or joined', () => {
    for (const s of ['X', 'Z', 'x', 'x|K', 'Z|X']) assert.equal(isDeadState(s), true, s);
    for (const s of ['R', 'R+', 'S', 'D', 'D|K', 'I', 'P', 'T', 't', '']) assert.equal(isDeadState(s), false, s);
  });
});

describe('sched_wakeup and sched_wakeup_new', () => {
  it('reads the current kernel rendering', () => {
    assert.deepEqual(parseSchedWakeup('comm=memfd:sealed-91 pid=14921 prio=120 target_cpu=001'), {
      comm: 'memfd:sealed-91',
      pid: 14921,
      prio: 120,
      targetCpu: 1,
      success: null,
    });
  });

  it('reads the 3.x rendering with success=', () => {
    assert.deepEqual(parseSchedWakeupNew('comm=bash pid=4300 prio=120 success=1 target_cpu=003'), {
      comm: 'bash',
      pid: 4300,
      prio: 120,
      targetCpu: 3,
      success: 1,
    });
    assert.equal(parseSchedWakeup('comm=bash pid=4300 prio=120 success=1')?.targetCpu, null);
  });

  it('reads a comm with spaces and pid= inside', () => {
    const w = parseSchedWakeup('comm=a pid=5 b pid=77 prio=120 target_cpu=000');
    assert.equal(w?.comm, 'a pid=5 b');
    assert.equal(w?.pid, 77);
  });

  it('reads the plugin rendering, whole or partial', () => {
    assert.deepEqual(parseSchedWakeup('rcu_sched:9 [120] success=1 CPU:000'), {
      comm: 'rcu_sched',
      pid: 9,
      prio: 120,
      targetCpu: 0,
      success: 1,
    });
    assert.deepEqual(parseSchedWakeup('  kworker/u16:1:77 [120] CPU:003'), {
      comm: 'kworker/u16:1',
      pid: 77,
      prio: 120,
      targetCpu: 3,
      success: null,
    });
  });

  it('returns null for anything else', () => {
    assert.equal(parseSchedWakeup('comm=bash pid=1 prio=high target_cpu=000'), null);
    assert.equal(parseSchedWakeup('no pid here'), null);
  });
});

describe('sched_process_fork', () => {
  it('reads parent and child', () => {
    assert.deepEqual(parseSchedProcessFork('comm=bash pid=4242 child_comm=bash child_pid=4300'), {
      comm: 'bash',
      pid: 4242,
      childComm: 'bash',
      childPid: 4300,
    });
  });

  it('reads comms with spaces and key look-alikes', () => {
    const f = parseSchedProcessFork('comm=Web Content pid=1 child_comm=x child_comm=y child_pid=2');
    assert.deepEqual(f, { comm: 'Web Content', pid: 1, childComm: 'x child_comm=y', childPid: 2 });
  });

  it('returns null for anything else', () => {
    assert.equal(parseSchedProcessFork('comm=bash pid=4242 child_pid=4300'), null);
  });
});

describe('task_newtask', () => {
  it('reads hex clone flags without 0x as an exact bigint', () => {
    const t = parseTaskNewtask('pid=21753 comm=tbench clone_flags=3d0f00 oom_score_adj=0');
    assert.deepEqual(t, { pid: 21753, comm: 'tbench', cloneFlags: 0x3d0f00n, oomScoreAdj: 0 });
    assert.ok(t !== null && (t.cloneFlags & CLONE_THREAD) !== 0n && (t.cloneFlags & CLONE_VM) !== 0n);
  });

  it('keeps flags above bit 31 exact (%llx, CLONE_INTO_CGROUP)', () => {
    const t = parseTaskNewtask('pid=1 comm=a clone_flags=200000011 oom_score_adj=-1000');
    assert.equal(t?.cloneFlags, 0x200000011n);
    assert.equal(t?.oomScoreAdj, -1000);
  });

  it('reads a comm with spaces and = inside', () => {
    assert.equal(parseTaskNewtask('pid=5 comm=a comm=b c clone_flags=11 oom_score_adj=0')?.comm, 'a comm=b c');
  });

  it('returns null for bad flags', () => {
    assert.equal(parseTaskNewtask('pid=5 comm=a clone_flags=0x11 oom_score_adj=0'), null);
    assert.equal(parseTaskNewtask('pid=5 comm=a clone_flags=zz oom_score_adj=0'), null);
  });
});

describe('sched_process_exit, sched_process_free, sched_migrate_task', () => {
  it('reads exit with group_dead=true|false and without it', () => {
    assert.deepEqual(parseSchedProcessExit('comm=sleep pid=27500 prio=120 group_dead=true'), {
      comm: 'sleep',
      pid: 27500,
      prio: 120,
      groupDead: true,
    });
    assert.equal(parseSchedProcessExit('comm=t pid=1 prio=120 group_dead=false')?.groupDead, false);
    assert.deepEqual(parseSchedProcessExit('comm=df pid=2425 prio=120'), {
      comm: 'df',
      pid: 2425,
      prio: 120,
      groupDead: null,
    });
  });

  it('reads free', () => {
    assert.deepEqual(parseSchedProcessFree('comm=Web Content pid=4300 prio=120'), {
      comm: 'Web Content',
      pid: 4300,
      prio: 120,
    });
    assert.equal(parseSchedProcessFree('comm=a pid=1'), null);
  });

  it('reads migrate', () => {
    assert.deepEqual(parseSchedMigrateTask('comm=bash pid=27503 prio=120 orig_cpu=1 dest_cpu=0'), {
      comm: 'bash',
      pid: 27503,
      prio: 120,
      origCpu: 1,
      destCpu: 0,
    });
    assert.equal(parseSchedMigrateTask('comm=bash pid=27503 prio=120 orig_cpu=1'), null);
  });
});

describe('vmalloc events', () => {
  it('reads alloc_vmap_area with its decimal va_start exactly', () => {
    const a = parseAllocVmapArea(
      'va_start: 18446683600619405312 size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0',
    );
    assert.deepEqual(a, {
      vaStart: 18446683600619405312n,
      sizeBytes: 20480,
      alignBytes: 16384,
      vstart: 0xffffc90000000000n,
      vend: 0xffffe8ffffffffffn,
      failed: 0,
    });
    // The same address as free_vmap_area_noflush prints it in hex.
    assert.equal(a?.vaStart, 0xffffc90002f18000n);
  });

  it('reads free_vmap_area_noflush and purge_vmap_area_lazy', () => {
    assert.deepEqual(parseFreeVmapAreaNoflush('va_start=0xffffc90002f30000 nr_lazy=9220 nr_lazy_max=16384'), {
      vaStart: 0xffffc90002f30000n,
      nrLazyPages: 9220,
      nrLazyMaxPages: 16384,
    });
    assert.deepEqual(parsePurgeVmapAreaLazy('start=0xffffc90001888000 end=0xffffc9000bf5d000 num_purged=3563'), {
      start: 0xffffc90001888000n,
      end: 0xffffc9000bf5d000n,
      numPurged: 3563,
    });
  });

  it('returns null for the wrong separators or bases', () => {
    assert.equal(parseAllocVmapArea('va_start=0xffffc90000000000 size=20480 align=16384 vstart=0x0 vend=0x1 failed=0'), null);
    assert.equal(parseFreeVmapAreaNoflush('va_start=18446683600619405312 nr_lazy=1 nr_lazy_max=2'), null);
    assert.equal(parsePurgeVmapAreaLazy('start=0x1 end=0x2'), null);
  });
});

describe('rcu_utilization, tracing_mark_write', () => {
  it('reads the rcu string', () => {
    assert.deepEqual(parseRcuUtilization('Start RCU core'), { s: 'Start RCU core' });
    assert.deepEqual(parseRcuUtilization('End RCU core'), { s: 'End RCU core' });
    assert.equal(parseRcuUtilization('  '), null);
  });

  it('keeps marker text, dropping a print-event prefix', () => {
    assert.deepEqual(parseTracingMarkWrite('capture: end'), { text: 'capture: end' });
    assert.deepEqual(parseTracingMarkWrite('tracing_mark_write: hello: x=1'), { text: 'hello: x=1' });
  });

  it('reads the capture markers of examples/traces', () => {
    assert.deepEqual(parseCaptureMarker('capture: begin reader_pid=27458 capture_pid=27440'), {
      kind: 'begin',
      readerPid: 27458,
      capturePid: 27440,
    });
    assert.deepEqual(parseCaptureMarker('capture: cmd_start pid=27502'), { kind: 'cmd_start', pid: 27502 });
    assert.deepEqual(parseCaptureMarker('capture: cmd_end rc=0'), { kind: 'cmd_end', rc: 0 });
    assert.deepEqual(parseCaptureMarker('capture: end'), { kind: 'end' });
    assert.equal(parseCaptureMarker('B|123|foo'), null);
  });
});

describe('kmem_cache_alloc', () => {
  it('reads the 6.18+ rendering with name=', () => {
    assert.deepEqual(
      parseKmemCacheAlloc(
        'call_site=dup_task_struct+0x2e/0x1b0 ptr=000000003f2a4c5e name=task_struct bytes_req=3456 bytes_alloc=3584 gfp_flags=GFP_KERNEL node=-1 accounted=true',
      ),
      {
        callSite: 'dup_task_struct+0x2e/0x1b0',
        ptr: '000000003f2a4c5e',
        name: 'task_struct',
        bytesReq: 3456,
        bytesAlloc: 3584,
        gfpFlags: 'GFP_KERNEL',
        node: -1,
        accounted: true,
      },
    );
  });

  it('reads the 6.0-6.17 rendering without name=, and a module call site with a space', () => {
    const k = parseKmemCacheAlloc(
      'call_site=foo_init+0x10/0x20 [foo] ptr=ffff888100a3c000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL|__GFP_ZERO node=0 accounted=false',
    );
    assert.equal(k?.callSite, 'foo_init+0x10/0x20 [foo]');
    assert.equal(k?.name, null);
    assert.equal(k?.gfpFlags, 'GFP_KERNEL|__GFP_ZERO');
    assert.equal(k?.accounted, false);
  });

  it('reads the old kmem_alloc rendering without node= and accounted=', () => {
    const k = parseKmemCacheAlloc(
      'call_site=ffffffff8107a5e1 ptr=ffff88003a1c8000 bytes_req=2112 bytes_alloc=2112 gfp_flags=GFP_KERNEL|GFP_NOTRACK',
    );
    assert.deepEqual([k?.node, k?.accounted, k?.bytesAlloc], [null, null, 2112]);
  });

  it('returns null for anything else', () => {
    assert.equal(parseKmemCacheAlloc('call_site=x ptr=y name=task_struct'), null);
  });
});
