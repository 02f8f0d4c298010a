// The replay's allocation-free payload parsers (src/replay/fastparse.ts) must
// give exactly what the general parsers (src/trace/events.ts) give: on every
// payload of every shipped trace, on hostile payloads, and on a payload read in
// place inside a larger string (the reader's chunk).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  CLONE_THREAD,
  isDeadState,
  parseAllocVmapArea,
  parseFreeVmapAreaNoflush,
  parseKmemCacheAlloc,
  parsePurgeVmapAreaLazy,
  parseSchedMigrateTask,
  parseSchedProcessExit,
  parseSchedProcessFork,
  parseSchedProcessFree,
  parseSchedSwitch,
  parseSchedWakeup,
  parseTaskNewtask,
} from '../../src/trace/events.ts';
import { readTraceText } from '../../src/trace/reader.ts';
import {
  PayloadFields,
  parseAllocVmapAt,
  parseExitAt,
  parseForkAt,
  parseFreeAt,
  parseFreeVmapAt,
  parseKmemTaskStructAt,
  parseMigrateAt,
  parseNewtaskAt,
  parsePurgeVmapAt,
  parseSwitchAt,
  parseWakeupAt,
} from '../../src/replay/fastparse.ts';

type Fast = (s: string, lo: number, hi: number, o: PayloadFields) => boolean;

/** What the fast parser reports, in the general parser's terms. */
const CASES: Record<string, { fast: Fast; general: (p: string) => unknown; view: (o: PayloadFields) => unknown }> = {
  sched_switch: {
    fast: parseSwitchAt,
    general: (p) => {
      const s = parseSchedSwitch(p);
      if (s === null) return null;
      const st = s.prevState;
      const prevState = st === 'R+' ? 'R+' : st === 'R' ? 'R' : st.startsWith('D') ? 'D' : 'S';
      return [s.prevPid, s.nextPid, s.prevComm, s.nextComm, isDeadState(st), prevState];
    },
    view: (o) => [o.pid, o.pid2, o.comm(), o.comm2(), o.dead, o.prevState],
  },
  task_newtask: {
    fast: parseNewtaskAt,
    general: (p) => {
      const n = parseTaskNewtask(p);
      return n === null ? null : [n.pid, n.comm, (n.cloneFlags & CLONE_THREAD) !== 0n];
    },
    view: (o) => [o.pid, o.comm(), o.flag],
  },
  sched_process_fork: {
    fast: parseForkAt,
    general: (p) => {
      const f = parseSchedProcessFork(p);
      return f === null ? null : [f.pid, f.childPid, f.childComm];
    },
    view: (o) => [o.pid, o.pid2, o.comm2()],
  },
  sched_process_exit: {
    fast: parseExitAt,
    general: (p) => {
      const e = parseSchedProcessExit(p);
      return e === null ? null : [e.pid, e.groupDead];
    },
    view: (o) => [o.pid, o.flagKnown ? o.flag : null],
  },
  sched_process_free: {
    fast: parseFreeAt,
    general: (p) => {
      const f = parseSchedProcessFree(p);
      return f === null ? null : [f.pid];
    },
    view: (o) => [o.pid],
  },
  sched_wakeup_new: {
    fast: parseWakeupAt,
    general: (p) => {
      const w = parseSchedWakeup(p);
      return w === null ? null : [w.pid, w.targetCpu];
    },
    view: (o) => [o.pid, o.flagKnown ? o.num : null],
  },
  sched_migrate_task: {
    fast: parseMigrateAt,
    general: (p) => {
      const m = parseSchedMigrateTask(p);
      return m === null ? null : [m.pid, m.destCpu];
    },
    view: (o) => [o.pid, o.num],
  },
  alloc_vmap_area: {
    fast: parseAllocVmapAt,
    general: (p) => {
      const a = parseAllocVmapArea(p);
      return a === null ? null : [a.vaStart, a.sizeBytes, a.alignBytes, a.failed];
    },
    view: (o) => [o.addr, o.num, o.num2, o.num3],
  },
  free_vmap_area_noflush: {
    fast: parseFreeVmapAt,
    general: (p) => {
      const f = parseFreeVmapAreaNoflush(p);
      return f === null ? null : [f.vaStart, f.nrLazyPages];
    },
    view: (o) => [o.addr, o.num],
  },
  kmem_cache_alloc: {
    fast: parseKmemTaskStructAt,
    general: (p) => {
      const a = parseKmemCacheAlloc(p);
      return a === null ? null : [a.name === 'task_struct' || (a.name === null && a.callSite.startsWith('dup_task_struct'))];
    },
    view: (o) => [o.flag],
  },
  purge_vmap_area_lazy: {
    fast: parsePurgeVmapAt,
    general: (p) => (parsePurgeVmapAreaLazy(p) === null ? null : []),
    view: () => [],
  },
};

const HOSTILE: Record<string, string[]> = {
  sched_switch: [
    'prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120',
    'prev_comm=x next_pid=9 prev_pid=1 prev_prio=120 prev_state=X ==> next_comm=b next_pid=2 next_prio=120',
    'prev_comm=a prev_pid=1 prev_prio=120 prev_state=R+ ==> next_comm=b ==> next_comm=c next_pid=2 next_prio=-1',
    'prev_comm=a prev_pid=1 prev_prio=120 prev_state=D|K ==> next_comm=b next_pid=2 next_prio=120 ',
    ' prev_comm=a prev_pid=1 prev_prio=120 prev_state=Z ==> next_comm=b next_pid=2 next_prio=120',
    'prev_comm= prev_pid=1 prev_prio=120 prev_state=x ==> next_comm= next_pid=2 next_prio=120',
    'a:1 [120] S ==> b:2 [120]',
    'prev_comm=a prev_pid=01234567890 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120',
  ],
  task_newtask: [
    'pid=5 comm=a pid=6 clone_flags=3d0f00 oom_score_adj=0',
    'pid=5 comm=a clone_flags=1 clone_flags=10000 oom_score_adj=0',
    'pid=5 comm=a clone_flags=FFFFFFFFFFFFFFFF oom_score_adj=-1000',
    'pid=5 comm=a clone_flags=FFFFFFFFFFFFFFFFF oom_score_adj=0',
    'pid=-0 comm= clone_flags=0 oom_score_adj=0',
    'pid=5 comm=a\u00a0 clone_flags=10000 oom_score_adj=0\u00a0',
  ],
  sched_process_fork: [
    'comm=a pid=1 child_comm=b child_pid=2',
    'comm=a child_pid=3 pid=1 child_comm=b pid=7 child_pid=2',
    'comm=a pid=1 child_comm=b child_pid=x',
  ],
  sched_process_exit: [
    'comm=a pid=1 prio=120 group_dead=false',
    'comm=a pid=1 prio=120',
    'comm=a group_dead=true pid=1 prio=120',
    'comm=a pid=1 prio=120 group_dead=maybe',
    'comm=a pid=1 prio=120 group_dead=',
  ],
  sched_process_free: ['comm=a pid=1 prio=120', 'comm=a pid=1 prio=1 prio=2', 'comm=a pid=12345678901 prio=1'],
  sched_wakeup_new: [
    'comm=a pid=1 prio=120 target_cpu=001',
    'comm=a pid=1 prio=120 success=1 target_cpu=002',
    'comm=a pid=1 prio=120 success=1',
    'a:1 [120] success=1 CPU:003',
    'comm=a pid=1 prio=120 target_cpu=-1',
  ],
  sched_migrate_task: ['comm=a pid=1 prio=120 orig_cpu=0 dest_cpu=1', 'comm=a pid=1 prio=120 orig_cpu=0 dest_cpu=x'],
  alloc_vmap_area: [
    'va_start: 18446683600570023936 size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe90000000000 failed=0',
    'va_start:  size=1 align=2 vstart=0x1 vend=0x2 failed=0',
    'va_start: 123456789012345678901 size=1 align=2 vstart=0x1 vend=0x2 failed=0',
    'va_start=1 size=1 align=2 vstart=0x1 vend=0x2 failed=0',
  ],
  free_vmap_area_noflush: [
    'va_start=0xffffc90000a58000 nr_lazy=5 nr_lazy_max=32768',
    'va_start=0xffffc90000a58000 nr_lazy=99999999999999999999 nr_lazy_max=1',
    'va_start=ffff nr_lazy=5 nr_lazy_max=1',
  ],
  purge_vmap_area_lazy: ['start=0x1 end=0x2 num_purged=3', 'start=0x1 end=0x2 num_purged='],
  kmem_cache_alloc: [
    'call_site=copy_process+0x1a5/0x1d80 ptr=0000000004044000 name=task_struct bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    'call_site=copy_process+0x1a5/0x1d80 ptr=0000000004044000 name=task_structs bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    'call_site=copy_process+0x1a5/0x1d80 ptr=0000000004044000 name=task_struc bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    'call_site=x name=task_struct ptr=1 name=vm_area_struct bytes_req=1 bytes_alloc=1 gfp_flags=GFP_KERNEL node=0 accounted=false',
    'call_site=dup_task_struct+0x2e/0x1a0 ptr=00000000c3e1a7b1 bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    'call_site=dup_task_struct+0x2e/0x1a0 ptr=00000000c3e1a7b1 bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL',
    'call_site=kmem_cache_alloc_node+0x2e ptr=1 bytes_req=5888 bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1',
    'call_site=copy_process+0x1a5/0x1d80 ptr=0000000004044000 name=task_struct bytes_req=x bytes_alloc=5888 gfp_flags=GFP_KERNEL node=-1 accounted=true',
    'call_site=a b ptr=1 name=task_struct bytes_req=1 bytes_alloc=1 gfp_flags=GFP_KERNEL node=-1 accounted=maybe',
  ],
};

function check(event: string, payload: string): void {
  const c = CASES[event];
  const want = c.general(payload);
  for (const [pre, post] of [
    ['', ''],
    ['xx: comm=a pid=1 ==> next_comm=', '\nnext_pid=3 next_prio=4 pid=5'],
  ]) {
    const s = pre + payload + post;
    const o = new PayloadFields();
    const got = c.fast(s, pre.length, pre.length + payload.length, o) ? c.view(o) : null;
    assert.deepEqual(got, want, `${event}: ${JSON.stringify(payload)}`);
  }
}

describe('fast payload parsers', () => {
  it('agree with the general parsers on every payload of every shipped trace', () => {
    const dirs = ['examples/traces', 'examples/traces/recorded'];
    let checked = 0;
    for (const dir of dirs) {
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.trace.gz'))) {
        const text = gunzipSync(readFileSync(`${dir}/${name}`)).toString('utf8');
        readTraceText(text, {
          onRecord(r) {
            if (r.event in CASES) {
              check(r.event, r.payload);
              checked++;
            }
          },
        });
      }
    }
    assert.ok(checked > 100000, `${checked} payloads`);
  });

  it('agree with the general parsers on hostile payloads', () => {
    for (const [event, payloads] of Object.entries(HOSTILE)) for (const p of payloads) check(event, p);
  });
});
