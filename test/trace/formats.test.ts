// Golden tests of the reader on every input format, plus one hand-made line per
// odd case. Fixtures: test/fixtures/traces/*.txt, each with the reviewed
// expected output next to it (*.expected.json). KSTACK_UPDATE_GOLDEN=1 rewrites
// the expected files; review the diff before committing it.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { readTraceText } from '../../src/trace/reader.ts';
import type { TraceRecord } from '../../src/trace/types.ts';
import { collectFile, collectText, FIXTURES_DIR, fixturePath, only } from './collect.ts';

const UPDATE_GOLDEN = process.env.KSTACK_UPDATE_GOLDEN === '1';

describe('reader golden fixtures', () => {
  const names = readdirSync(FIXTURES_DIR)
    .filter((n) => n.endsWith('.txt') && n !== 'not-a-trace.txt')
    .sort();
  for (const name of names) {
    it(name, async () => {
      const got = await collectFile(fixturePath(name));
      const goldenPath = fixturePath(name.replace(/\.txt$/, '.expected.json'));
      const actual = { stats: got.stats, lost: got.lost, records: got.records };
      if (UPDATE_GOLDEN) writeFileSync(goldenPath, `${JSON.stringify(actual, null, 1)}\n`);
      const expected: unknown = JSON.parse(readFileSync(goldenPath, 'utf8'));
      assert.deepEqual(actual, expected);
    });
  }
});

describe('ftrace lines', () => {
  it('splits a comm with a space at the last -<pid>', () => {
    const r = only(collectText('     Web Content-1234    [001] d..2.  5075.958079: sched_switch: x\n'));
    assert.equal(r.comm, 'Web Content');
    assert.equal(r.pid, 1234);
  });

  it('keeps slashes and colons in kworker comms', () => {
    const r = only(collectText('   kworker/u16:1-77      [003] .....  5075.958100: foo: y\n'));
    assert.equal(r.comm, 'kworker/u16:1');
    assert.equal(r.pid, 77);
    assert.equal(r.cpu, 3);
  });

  it('keeps a comm that itself ends in -<digits>', () => {
    const r = only(collectText(' memfd:sealed-91-14921   [001] d..2.   871.983239: sched_switch: p\n'));
    assert.equal(r.comm, 'memfd:sealed-91');
    assert.equal(r.pid, 14921);
  });

  it('reads <...> and <idle> comms', () => {
    const c = collectText(
      '           <...>-8642    [000] .N.1.  5075.958200: a: 1\n          <idle>-0       [002] dNh4.  5075.958300: b: 2\n',
    );
    assert.deepEqual(
      c.records.map((r) => [r.comm, r.pid]),
      [
        ['<...>', 8642],
        ['<idle>', 0],
      ],
    );
  });

  it('reads comms with parentheses, brackets, dashes and digits', () => {
    const r = only(collectText('   a (b)-[c]:9-31337 [000] d..1.  5.000001: ev: z\n'));
    assert.equal(r.comm, 'a (b)-[c]:9');
    assert.equal(r.pid, 31337);
    assert.equal(r.tsNs, 5_000_001_000);
  });

  it('reads the TGID column, numeric or dashes', () => {
    const c = collectText(
      '            bash-4300    (   4242) [003] d..2.  1.000000: a: x\n          <idle>-0       (-------) [003] ..s1.  1.000001: b: y\n',
    );
    assert.deepEqual(
      c.records.map((r) => [r.comm, r.pid, r.cpu, r.flags]),
      [
        ['bash', 4300, 3, 'd..2.'],
        ['<idle>', 0, 3, '..s1.'],
      ],
    );
  });

  it('reads 5-char, 4-char and absent flags', () => {
    const c = collectText(
      [
        '  bash-1 [000] dNh4.  1.000000: a: x',
        '  bash-1 [000] d..2  1.000000: a: x',
        '  bash-1 [000]  1.000000: a: x',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      c.records.map((r) => r.flags),
      ['dNh4.', 'd..2', ''],
    );
  });

  it('reads old narrow columns (pid %-5d, no padding)', () => {
    const r = only(collectText('bash-4242 [2] d..1 5075.958079: ev: p\n'));
    assert.deepEqual([r.comm, r.pid, r.cpu, r.flags, r.tsNs], ['bash', 4242, 2, 'd..1', 5_075_958_079_000]);
  });

  it('reads µs, ns and counter-clock timestamps as integer ns', () => {
    const c = collectText(
      ['  a-1 [000] 5075.958079: e: x', '  a-1 [000] 5075.958079123: e: x', '  a-1 [000] 1234567890123: e: x', ''].join(
        '\n',
      ),
    );
    assert.deepEqual(
      c.records.map((r) => r.tsNs),
      [5_075_958_079_000, 5_075_958_079_123, 1_234_567_890_123],
    );
  });

  it('keeps the payload verbatim, including further ": "', () => {
    const r = only(collectText('  bash-2 [001] ...1.  1.5: tracing_mark_write: capture: begin reader_pid=3 capture_pid=2\n'));
    assert.equal(r.event, 'tracing_mark_write');
    assert.equal(r.payload, 'capture: begin reader_pid=3 capture_pid=2');
    assert.equal(r.tsNs, 1_500_000_000);
  });

  it('accepts an event with an empty payload', () => {
    const r = only(collectText('  bash-2 [001] 1.000000: my_event:\n'));
    assert.equal(r.event, 'my_event');
    assert.equal(r.payload, '');
  });

  it('reads lost-events markers and reports them', () => {
    const c = collectText('CPU:1 [LOST 42 EVENTS]\n  a-1 [001] 1.000000: e: x\n');
    assert.deepEqual(c.lost, [{ lineNo: 1, cpu: 1, count: 42 }]);
    assert.deepEqual(c.stats.lost, c.lost);
    assert.equal(c.stats.skippedLines, 0);
  });

  it('takes #P:N from the trace header and does not count header lines as skipped', () => {
    const c = collectText('# tracer: nop\n#\n# entries-in-buffer/entries-written: 1/1   #P:8\n  a-1 [001] 1.000000: e: x\n');
    assert.equal(c.stats.cpusDeclared, 8);
    assert.equal(c.stats.skippedLines, 0);
    assert.equal(c.stats.lines, 4);
    assert.equal(c.stats.format, 'ftrace');
  });

  it('handles CRLF line endings', () => {
    const c = collectText('  a-1 [001] d..2.  1.000000: e: x y\r\n  b-2 [000] .....  2.000000: f: z\r\n');
    assert.deepEqual(
      c.records.map((r) => [r.comm, r.event, r.payload]),
      [
        ['a', 'e', 'x y'],
        ['b', 'f', 'z'],
      ],
    );
    assert.equal(c.stats.truncated, false);
  });
});

describe('trace-cmd report lines', () => {
  it('detects trace-cmd from cpus=N and reads lines without flags', () => {
    const c = collectText('cpus=2\n          <idle>-0     [001] 21953.174222: sched_wakeup: bash:4242 [120] success=1 CPU:001\n');
    assert.equal(c.stats.format, 'trace-cmd');
    assert.equal(c.stats.cpusDeclared, 2);
    const r = only(c);
    assert.deepEqual([r.comm, r.pid, r.cpu, r.flags], ['<idle>', 0, 1, '']);
  });

  it('reads the -l latency field whose leading digits are the CPU', () => {
    const c = collectText(
      ['cpus=16', '          <idle>-0       0d.h1. 106467.859747: function: x', '  bash-4242   12.....  1.000000: e: y', ''].join(
        '\n',
      ),
    );
    assert.deepEqual(
      c.records.map((r) => [r.comm, r.pid, r.cpu, r.flags]),
      [
        ['<idle>', 0, 0, 'd.h1.'],
        ['bash', 4242, 12, '.....'],
      ],
    );
  });

  it('reads both dropped-events markers; an unknown count is 0', () => {
    const c = collectText('cpus=4\nCPU:2 [120 EVENTS DROPPED]\nCPU:0 [EVENTS DROPPED]\n  a-1 [001] 1.000000: e: x\n');
    assert.deepEqual(c.lost, [
      { lineNo: 2, cpu: 2, count: 120 },
      { lineNo: 3, cpu: 0, count: 0 },
    ]);
  });

  it('ignores the version and empty-CPU preamble', () => {
    const c = collectText('version = 6\ncpus=4\nCPU 3 is empty\n  a-1 [001] 1.000000: e: x\n');
    assert.equal(c.stats.skippedLines, 0);
    assert.equal(c.stats.format, 'trace-cmd');
  });
});

describe('perf script lines', () => {
  it('reads comm tid [cpu] time: sys:event: and drops the subsystem', () => {
    const r = only(collectText(' df  2425 [000]  4934.005589: sched:sched_process_exit: comm=df pid=2425 prio=120\n'));
    assert.deepEqual([r.comm, r.pid, r.cpu, r.tsNs, r.event, r.payload], [
      'df',
      2425,
      0,
      4_934_005_589_000,
      'sched_process_exit',
      'comm=df pid=2425 prio=120',
    ]);
  });

  it('reads right-aligned event names and comms with spaces', () => {
    const c = collectText(
      '     Web Content  1234 [003] 975758.720900:       sched:sched_switch: a\n       swapper     0 [002]  9113.660136:   sched:sched_wakeup_new: b\n',
    );
    assert.equal(c.stats.format, 'perf-script');
    assert.deepEqual(
      c.records.map((r) => [r.comm, r.pid, r.cpu, r.event, r.payload]),
      [
        ['Web Content', 1234, 3, 'sched_switch', 'a'],
        ['swapper', 0, 2, 'sched_wakeup_new', 'b'],
      ],
    );
  });

  it('keeps the tid of pid/tid', () => {
    const r = only(collectText('          python    1234/1235    [008] 4934.005589123: sched:sched_switch: x\n'));
    assert.deepEqual([r.comm, r.pid, r.cpu, r.tsNs], ['python', 1235, 8, 4_934_005_589_123]);
  });

  it('skips a sample period before the event', () => {
    const r = only(collectText('  perf 1 [000] 1.000000:          1 sched:sched_switch: x\n'));
    assert.equal(r.event, 'sched_switch');
    assert.equal(r.payload, 'x');
  });

  it('ignores -g callchain lines and the blank line after them', () => {
    const c = collectText(
      '  bash  4242 [002]  1.000000: sched:e: x\n\tffffffff8109a1e0 kernel_clone+0x1a0 ([kernel.kallsyms])\n\n  bash  4242 [002]  2.000000: sched:e: y\n',
    );
    assert.equal(c.records.length, 2);
    assert.equal(c.stats.skippedLines, 0);
  });

  it('skips ftrace lines in a perf trace, saying why', () => {
    const c = collectText('  bash  4242 [002]  1.000000: sched:e: x\n  bash-4242 [002] 2.000000: e: y\n');
    assert.equal(c.records.length, 1);
    assert.equal(c.stats.skippedLines, 1);
    assert.match(c.stats.skippedExamples[0].reason, /ftrace line in a trace whose first event line \(line 1\) is perf script/);
  });
});

describe('skipped lines', () => {
  it('counts unparseable lines with their number, text and what was expected', () => {
    const c = collectText('  a-1 [001] 1.000000: e: x\nthis is garbage\n  a-1 [001] 1.000000 e: x\n');
    assert.equal(c.records.length, 1);
    assert.equal(c.stats.skippedLines, 2);
    assert.deepEqual(
      c.stats.skippedExamples.map((e) => [e.lineNo, e.text]),
      [
        [2, 'this is garbage'],
        [3, '  a-1 [001] 1.000000 e: x'],
      ],
    );
    for (const e of c.stats.skippedExamples) assert.match(e.reason, /expected/);
  });

  it('cuts example text to 200 characters and keeps maxSkippedExamples of them', () => {
    const lines = ['  a-1 [001] 1.000000: e: x'];
    for (let i = 0; i < 5; i++) lines.push('z'.repeat(300));
    const records: TraceRecord[] = [];
    const stats = readTraceText(`${lines.join('\n')}\n`, { onRecord: (r) => records.push(r), maxSkippedExamples: 2 });
    assert.equal(stats.skippedLines, 5);
    assert.equal(stats.skippedExamples.length, 2);
    assert.equal(stats.skippedExamples[0].text.length, 200);
  });

  it('ignores blank lines', () => {
    const c = collectText('\n   \n  a-1 [001] 1.000000: e: x\n\n');
    assert.equal(c.stats.skippedLines, 0);
    assert.equal(c.stats.lines, 4);
    assert.equal(c.records[0].lineNo, 3);
  });
});
