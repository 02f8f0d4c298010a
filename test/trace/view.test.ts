// readTrace with onView (one RecordView refilled per line, fields sliced on
// demand) must see exactly the records onRecord sees, with the same stats.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readTrace, readTraceText } from '../../src/trace/reader.ts';
import type { TraceRecord } from '../../src/trace/types.ts';

describe('RecordView', () => {
  for (const dir of ['examples/traces', 'examples/traces/recorded']) {
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.trace.gz'))) {
      it(`${name}: the same records and stats as onRecord`, async () => {
        const a: TraceRecord[] = [];
        const b: TraceRecord[] = [];
        const sa = await readTrace(`${dir}/${name}`, { onRecord: (r) => a.push(r) });
        const sb = await readTrace(`${dir}/${name}`, { onView: (v) => b.push(v.toRecord()) });
        assert.deepEqual(sb, sa);
        assert.equal(b.length, a.length);
        for (let i = 0; i < a.length; i++) assert.deepEqual(b[i], a[i]);
      });
    }
  }

  it('odd lines: perf script, trace-cmd -l, tgid, CRLF, a line split across pushes', () => {
    const text = [
      '  bash-1 [000] d..1.   1.000001: sched_switch: prev_comm=a prev_pid=1 prev_prio=1 prev_state=S ==> next_comm=b next_pid=2 next_prio=1\r',
      '  memfd:sealed-91-13210 (  13210) [001] d..2.   845.356436: task_newtask: pid=5 comm=a clone_flags=10000 oom_score_adj=0',
      'garbage line',
      '  x-3 [002]   2.5: print: hello',
      '',
    ].join('\n');
    const a: TraceRecord[] = [];
    const b: TraceRecord[] = [];
    const sa = readTraceText(text, { onRecord: (r) => a.push(r) });
    const sb = readTraceText(text, { onView: (v) => b.push(v.toRecord()) });
    assert.deepEqual(sb, sa);
    assert.deepEqual(b, a);
    assert.equal(a.length, 3);
  });
});
