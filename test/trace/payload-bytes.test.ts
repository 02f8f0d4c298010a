// The payload fast path reads bytes: splitGreedy (src/trace/events.ts) on the
// reader's own block of ASCII text, found through asciiBytesOf while the block's
// lines are handed out, or on a copy of the payload. Whenever splitGreedy says
// yes, its split must be splitFields' split; on well-formed payloads it must say
// yes. And the replay's parsers, given the reader's text in place, must read
// the same fields as the general parsers do from the payload string.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import {
  PayloadFields,
  parseAllocVmapAt,
  parseExitAt,
  parseForkAt,
  parseFreeAt,
  parseFreeVmapAt,
  parseNewtaskAt,
  parseSwitchAt,
  parseWakeupAt,
} from '../../src/replay/fastparse.ts';
import {
  ALLOC_VMAP_LAYOUT,
  asciiBytes,
  COMM_PID_PRIO_LAYOUT,
  EXIT_LAYOUT,
  FieldSpans,
  FORK_LAYOUT,
  FREE_VMAP_LAYOUT,
  type Layout,
  MIGRATE_LAYOUT,
  NEWTASK_LAYOUT,
  PURGE_VMAP_LAYOUT,
  parseAllocVmapArea,
  parseFreeVmapAreaNoflush,
  parseSchedProcessExit,
  parseSchedProcessFork,
  parseSchedProcessFree,
  parseSchedSwitch,
  parseSchedWakeup,
  parseTaskNewtask,
  SWITCH_LAYOUT,
  splitFields,
  splitGreedy,
  WAKEUP_LAYOUT,
} from '../../src/trace/events.ts';
import { asciiBytesOf, type RecordView } from '../../src/trace/formats.ts';
import { readTraceStream } from '../../src/trace/reader.ts';
import { examplePath } from './collect.ts';

const SEED = Number(process.env.KSTACK_SEED ?? 20251125);

/** Each layout the replay splits greedily, its prefix, and a well-formed payload maker. */
const LAYOUTS: { name: string; lay: Layout; prefix: string; make: (c: string, n: number) => string }[] = [
  {
    name: 'sched_switch',
    lay: SWITCH_LAYOUT,
    prefix: 'prev_comm=',
    make: (c, n) => `prev_comm=${c} prev_pid=${n} prev_prio=120 prev_state=${['S', 'R+', 'D|K', 'X'][n % 4]} ==> next_comm=${c}x next_pid=${n + 1} next_prio=${n % 140}`,
  },
  { name: 'sched_wakeup', lay: WAKEUP_LAYOUT, prefix: 'comm=', make: (c, n) => `comm=${c} pid=${n} prio=120 target_cpu=${String(n % 64).padStart(3, '0')}` },
  { name: 'sched_process_fork', lay: FORK_LAYOUT, prefix: 'comm=', make: (c, n) => `comm=${c} pid=${n} child_comm=${c} child_pid=${n + 1}` },
  { name: 'task_newtask', lay: NEWTASK_LAYOUT, prefix: 'pid=', make: (c, n) => `pid=${n} comm=${c} clone_flags=${(n * 7919).toString(16)} oom_score_adj=${n % 2 ? -1000 : 0}` },
  { name: 'sched_process_exit', lay: EXIT_LAYOUT, prefix: 'comm=', make: (c, n) => `comm=${c} pid=${n} prio=120 group_dead=${n % 2 === 0}` },
  { name: 'sched_process_free', lay: COMM_PID_PRIO_LAYOUT, prefix: 'comm=', make: (c, n) => `comm=${c} pid=${n} prio=120` },
  { name: 'sched_migrate_task', lay: MIGRATE_LAYOUT, prefix: 'comm=', make: (c, n) => `comm=${c} pid=${n} prio=120 orig_cpu=${n % 3} dest_cpu=${n % 5}` },
  {
    name: 'alloc_vmap_area',
    lay: ALLOC_VMAP_LAYOUT,
    prefix: 'va_start: ',
    make: (_c, n) => `va_start: ${18446683600570023936n + BigInt(n) * 20480n} size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=${n % 2}`,
  },
  { name: 'free_vmap_area_noflush', lay: FREE_VMAP_LAYOUT, prefix: 'va_start=', make: (_c, n) => `va_start=0x${(0xffffc90000a58000n + BigInt(n) * 0x5000n).toString(16)} nr_lazy=${n} nr_lazy_max=32768` },
  { name: 'purge_vmap_area_lazy', lay: PURGE_VMAP_LAYOUT, prefix: 'start=', make: (_c, n) => `start=0x${n.toString(16)} end=0x${(n + 4096).toString(16)} num_purged=${n % 9}` },
];

/** splitFields' values for payload p, as alloc_vmap_area's parser calls it for the `va_start: ` prefix. */
function general(p: string, lay: Layout, prefix: string): string[] | null {
  if (prefix === 'va_start: ') return p.startsWith(prefix) ? splitFields(`va_start=${p.slice(prefix.length)}`, lay) : null;
  return splitFields(p, lay);
}

/** splitGreedy's values for p placed at `pad` inside a larger buffer, or null when it declines. */
function greedy(p: string, lay: Layout, prefix: string, pad: string): string[] | null {
  const text = `${pad}${p}${pad}`;
  const b = Buffer.from(text, 'latin1');
  const sp = new FieldSpans();
  if (!splitGreedy(b, pad.length, pad.length + p.length, lay, asciiBytes(prefix), sp)) return null;
  return lay.keys.map((_, i) => text.slice(sp.start[i], sp.end[i]));
}

const COMM_ALPHABET = 'abz09 =:-_/()[]<>|+.,x'.split('');
const EDIT_ALPHABET = [' ', '=', '-', '0', '9', 'a', 'f', 'x', 'X', 'R', '|', '+', 't', 'e', ' pid=', ' prio=', ' next_pid=', ' ==> next_comm=', ' prev_state=', ' group_dead=', '0x'];

describe('splitGreedy on bytes', () => {
  it('splits every well-formed payload, as splitFields does', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LAYOUTS),
        fc.array(fc.constantFrom('a', 'b', 'z', '0', '9', '/', '-', '_', '.'), { minLength: 1, maxLength: 15 }),
        fc.nat(4_000_000),
        ({ lay, prefix, make }, comm, n) => {
          const p = make(comm.join(''), n);
          const want = general(p, lay, prefix);
          assert.notEqual(want, null, p);
          assert.deepEqual(greedy(p, lay, prefix, ''), want, p);
          assert.deepEqual(greedy(p, lay, prefix, 'x: comm=a pid=1 '), want, p);
        },
      ),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('on odd comms and damaged payloads, gives splitFields\' split or declines', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LAYOUTS),
        fc.array(fc.constantFrom(...COMM_ALPHABET), { maxLength: 15 }),
        fc.integer({ min: -5, max: 99_999_999_999 }),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...EDIT_ALPHABET), fc.boolean()), { maxLength: 4 }),
        ({ lay, prefix, make }, comm, n, edits) => {
          let p = make(comm.join(''), n);
          for (const [at, piece, insert] of edits) {
            const i = at % (p.length + 1);
            p = p.slice(0, i) + piece + p.slice(insert ? i : i + 1);
          }
          const got = greedy(p, lay, prefix, 'y ');
          if (got !== null) assert.deepEqual(got, general(p, lay, prefix), p);
        },
      ),
      { seed: SEED, numRuns: 6000 },
    );
  });
});

/** The replay's parsers in place (text, offsets) against the general parsers on the payload string. */
const IN_PLACE: Record<string, (v: RecordView, o: PayloadFields) => [unknown, unknown]> = {
  sched_switch: (v, o) => {
    const s = parseSchedSwitch(v.payload);
    const fast = parseSwitchAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid, o.pid2, o.comm(), o.comm2(), o.dead] : null;
    return [fast, s && [s.prevPid, s.nextPid, s.prevComm, s.nextComm, /[XZx]/.test(s.prevState)]];
  },
  task_newtask: (v, o) => {
    const n = parseTaskNewtask(v.payload);
    const fast = parseNewtaskAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid, o.comm(), o.flag] : null;
    return [fast, n && [n.pid, n.comm, (n.cloneFlags & 0x10000n) !== 0n]];
  },
  sched_process_fork: (v, o) => {
    const f = parseSchedProcessFork(v.payload);
    const fast = parseForkAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid, o.pid2, o.comm2()] : null;
    return [fast, f && [f.pid, f.childPid, f.childComm]];
  },
  sched_process_exit: (v, o) => {
    const e = parseSchedProcessExit(v.payload);
    const fast = parseExitAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid, o.flagKnown ? o.flag : null] : null;
    return [fast, e && [e.pid, e.groupDead]];
  },
  sched_process_free: (v, o) => {
    const f = parseSchedProcessFree(v.payload);
    return [parseFreeAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid] : null, f && [f.pid]];
  },
  sched_wakeup_new: (v, o) => {
    const w = parseSchedWakeup(v.payload);
    const fast = parseWakeupAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.pid, o.flagKnown ? o.num : null] : null;
    return [fast, w && [w.pid, w.targetCpu]];
  },
  alloc_vmap_area: (v, o) => {
    const a = parseAllocVmapArea(v.payload);
    const fast = parseAllocVmapAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.addr, o.num, o.num2, o.num3] : null;
    return [fast, a && [a.vaStart, a.sizeBytes, a.alignBytes, a.failed]];
  },
  free_vmap_area_noflush: (v, o) => {
    const f = parseFreeVmapAreaNoflush(v.payload);
    const fast = parseFreeVmapAt(v.text, v.payloadStart, v.payloadEnd, o) ? [o.addr, o.num] : null;
    return [fast, f && [f.vaStart, f.nrLazyPages]];
  },
};

/** Runs every IN_PLACE check on the records of `input`; returns how many lines were read from the reader's block. */
async function checkInPlace(input: Buffer, name: string): Promise<number> {
  const o = new PayloadFields();
  let inBlock = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    // Odd chunk sizes: lines cut across chunks take the reader's string path.
    for (let i = 0; i < input.length; i += 40_000) yield input.subarray(i, i + 40_000);
  }
  await readTraceStream(
    chunks(),
    {
      onView(v) {
        const check = IN_PLACE[v.event];
        if (check === undefined) return;
        if (asciiBytesOf(v.text) !== null) inBlock++;
        const [fast, want] = check(v, o);
        assert.deepEqual(fast, want, `${name}:${v.lineNo}: ${v.payload}`);
      },
    },
    name,
  );
  return inBlock;
}

describe('payload parsers read in place', () => {
  it('read the general parsers\' fields from the reader\'s block, on two example traces', async () => {
    for (const t of ['perf-messaging-thread.trace.gz', 'recorded/rec-churn-3000.trace.gz']) {
      const inBlock = await checkInPlace(readFileSync(examplePath(t)), t);
      assert.ok(inBlock > 1000, `${t}: ${inBlock} lines read in place`);
    }
  });

  it('agree on odd comms and on lines whose block is not ASCII', async () => {
    const lines = [
      '  a b=c pid=9-11 [000] .....   1.000001: sched_switch: prev_comm=a b=c pid=9 prev_pid=11 prev_prio=120 prev_state=S ==> next_comm=x ==> next_comm=y next_pid=12 next_prio=120',
      '   sh-12 [001] .....   1.000002: task_newtask: pid=13 comm=a comm=b clone_flags=3d0f00 oom_score_adj=0',
      '   sh-12 [001] .....   1.000003: sched_process_fork: comm=sh child_pid=1 pid=12 child_comm=sh pid=2 child_pid=13',
      '   sh-13 [001] .....   1.000004: sched_process_exit: comm=sh pid=13 prio=120 group_dead=true',
      '   sh-13 [001] .....   1.000005: sched_process_exit: comm=sh pid=13 prio=120',
      '   sh-12 [001] .....   1.000006: sched_process_free: comm=sh pid=13 prio=120 prio=1',
      '   sh-12 [001] .....   1.000007: sched_wakeup_new: comm=sh pid=13 prio=120 target_cpu=-1',
      '   sh-12 [001] .....   1.000008: alloc_vmap_area: va_start: 18446683600570023936 size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe90000000000 failed=0',
      '   sh-12 [001] .....   1.000009: free_vmap_area_noflush: va_start=0xffffc90000a58000 nr_lazy=99999999999999999999 nr_lazy_max=1',
    ];
    const ascii = `${lines.join('\n')}\n`;
    assert.ok((await checkInPlace(Buffer.from(ascii), 'odd')) > 0);
    // One non-ASCII comm makes its whole block go the string path: same fields.
    await checkInPlace(Buffer.from(`   é-1 [000] .....   0.5: sched_process_free: comm=é pid=1 prio=120\n${ascii}`), 'utf8');
    await checkInPlace(gzipSync(ascii), 'gzip');
  });
});
