// The streaming reader on real traces and on the awkward inputs a user can hand
// it: gzip under any name, stdin, cut gzip, cut lines, huge lines, split UTF-8,
// corrupt gzip, files that are not traces at all.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LINE_CHARS_MAX, readTrace, readTraceText, TraceFormatError } from '../../src/trace/reader.ts';
import { collectChunks, collectFile, collectText, examplePath, fixturePath } from './collect.ts';

const EXAMPLES = [
  'bash-true-loop',
  'burst-k4',
  'perf-messaging-thread',
  'pthread-loop-pin0',
  'pthread-loop',
  'stress-ng-pthread',
] as const;

interface TraceMeta {
  lines: number;
  per_cpu: Record<string, { read: number }>;
  groundtruth: { lines: number; unparsed: number; dead_switches: number };
}

function readMeta(name: string): TraceMeta {
  return JSON.parse(readFileSync(examplePath(`${name}.meta.json`), 'utf8')) as TraceMeta;
}

const scratch = mkdtempSync(join(tmpdir(), 'kstack-reader-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function scratchFile(name: string, bytes: Buffer | string): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

const LINE_A = '            bash-4242    [002] d..1.  5075.958079: sched_process_fork: comm=bash pid=4242 child_comm=bash child_pid=4300\n';
const LINE_B = '          <idle>-0       [003] ..s1.  5075.972000: sched_process_free: comm=bash pid=4300 prio=120\n';

describe('real traces (examples/traces)', () => {
  it('bash-true-loop: every line is a record, with the exact count of each event', async () => {
    const meta = readMeta('bash-true-loop');
    const counts = new Map<string, number>();
    const stats = await readTrace(examplePath('bash-true-loop.trace.gz'), {
      onRecord(r) {
        counts.set(r.event, (counts.get(r.event) ?? 0) + 1);
      },
    });
    assert.equal(stats.records, meta.groundtruth.lines);
    assert.equal(stats.records, 11238);
    assert.equal(stats.lines, 11238);
    assert.equal(stats.skippedLines, 0);
    assert.equal(stats.truncated, false);
    assert.equal(stats.format, 'ftrace');
    assert.deepEqual(stats.lost, []);
    // Counted with `zcat FILE | grep -c '[0-9]: EVENT: '`.
    assert.deepEqual(Object.fromEntries([...counts].sort()), {
      alloc_vmap_area: 20,
      free_vmap_area_noflush: 21,
      rcu_utilization: 2204,
      sched_migrate_task: 102,
      sched_process_exit: 1006,
      sched_process_fork: 1006,
      sched_process_free: 1006,
      sched_switch: 2509,
      sched_wakeup: 1348,
      sched_wakeup_new: 1006,
      task_newtask: 1006,
      tracing_mark_write: 4,
    });
  });

  it('bash-true-loop: first and last records exactly', async () => {
    const { records } = await collectFile(examplePath('bash-true-loop.trace.gz'));
    assert.deepEqual(records[0], {
      lineNo: 1,
      comm: 'bash',
      pid: 27440,
      cpu: 1,
      flags: '...1.',
      tsNs: 871_980_379_000,
      event: 'tracing_mark_write',
      payload: 'capture: begin reader_pid=27458 capture_pid=27440',
    });
    assert.equal(records.at(-1)?.lineNo, 11238);
    assert.equal(records.at(-1)?.payload, 'capture: end');
  });

  for (const name of EXAMPLES) {
    it(`${name}: record count and per-CPU counts match its meta.json`, async () => {
      const meta = readMeta(name);
      const perCpu = new Map<number, number>();
      const stats = await readTrace(examplePath(`${name}.trace.gz`), {
        onRecord(r) {
          perCpu.set(r.cpu, (perCpu.get(r.cpu) ?? 0) + 1);
        },
      });
      assert.equal(stats.records, meta.groundtruth.lines);
      assert.equal(stats.skippedLines, 0);
      assert.equal(stats.truncated, false);
      for (const [cpu, c] of Object.entries(meta.per_cpu)) assert.equal(perCpu.get(Number(cpu)), c.read, `cpu ${cpu}`);
    });
  }
});

describe('input sources', () => {
  it('detects gzip by its magic bytes, not the name', async () => {
    const text = LINE_A + LINE_B;
    const gzNamedTxt = await collectFile(scratchFile('really-gzip.txt', gzipSync(text)));
    const plainNamedGz = await collectFile(scratchFile('really-plain.trace.gz', text));
    assert.equal(gzNamedTxt.records.length, 2);
    assert.deepEqual(plainNamedGz.records, gzNamedTxt.records);
  });

  it('reads concatenated gzip members as one stream', async () => {
    const c = await collectFile(scratchFile('two-members.gz', Buffer.concat([gzipSync(LINE_A), gzipSync(LINE_B)])));
    assert.equal(c.records.length, 2);
  });

  it('reads "-" as stdin, plain or gzip', () => {
    const code =
      "import { readTrace } from './src/trace/reader.ts';" +
      "let n = 0; const s = await readTrace('-', { onRecord() { n++; } });" +
      'process.stdout.write(JSON.stringify([n, s.records, s.skippedLines, s.truncated]));';
    for (const input of [Buffer.from(LINE_A + LINE_B), gzipSync(LINE_A + LINE_B)]) {
      const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        input,
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout), [2, 2, 0, false]);
    }
  });

  it('gives the same records whatever the chunk boundaries, even inside UTF-8 and CRLF', async () => {
    const text = `  Ünïcødé-1 [000] 1.000000: e: ✓ ok\r\n${LINE_A}  日本語-2 [001] 2.000000: f: x\r\n`;
    const whole = collectText(text);
    const bytes = Buffer.from(text);
    for (const step of [1, 2, 3, 5, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
      const c = await collectChunks(chunks);
      assert.deepEqual(c.records, whole.records, `chunk size ${step}`);
      assert.equal(c.stats.truncated, false);
    }
    assert.equal(whole.records[0].comm, 'Ünïcødé');
    assert.equal(whole.records[2].comm, '日本語');
  });

  it('passes file-system errors through, naming the file', async () => {
    await assert.rejects(readTrace(join(scratch, 'missing.trace'), { onRecord() {} }), /missing\.trace/);
  });

  it('lets an exception from onRecord through and stops reading', async () => {
    let seen = 0;
    await assert.rejects(
      readTrace(examplePath('pthread-loop.trace.gz'), {
        onRecord() {
          if (++seen === 10) throw new Error('consumer gave up');
        },
      }),
      /consumer gave up/,
    );
    assert.equal(seen, 10);
  });
});

describe('truncated and damaged input', () => {
  it('keeps every complete record of a cut gzip and says truncated', async () => {
    const gz = readFileSync(examplePath('bash-true-loop.trace.gz'));
    const full = await collectFile(examplePath('bash-true-loop.trace.gz'));
    const cut = await collectFile(scratchFile('cut.trace.gz', gz.subarray(0, Math.floor(gz.length / 2))));
    assert.equal(cut.stats.truncated, true);
    assert.ok(cut.records.length > 1000);
    assert.deepEqual(cut.records, full.records.slice(0, cut.records.length));
  });

  it('a gzip cut inside its trailer still yields every record', async () => {
    const gz = gzipSync(LINE_A + LINE_B);
    const c = await collectFile(scratchFile('cut-trailer.gz', gz.subarray(0, gz.length - 3)));
    assert.equal(c.records.length, 2);
    assert.equal(c.stats.truncated, true);
    assert.equal(c.stats.skippedLines, 0);
  });

  it('a last line without its newline is dropped as a cut line, counted, and marks truncated', () => {
    const c = collectText(LINE_A + LINE_B.slice(0, 60));
    assert.equal(c.records.length, 1);
    assert.equal(c.stats.truncated, true);
    assert.equal(c.stats.skippedLines, 1);
    assert.equal(c.stats.lines, 2);
    assert.match(c.stats.skippedExamples[0].reason, /cut last line/);
  });

  it('a trailing blank fragment is not a cut line', () => {
    const c = collectText(`${LINE_A}   `);
    assert.equal(c.stats.truncated, false);
    assert.equal(c.stats.skippedLines, 0);
  });

  it('raises TraceFormatError for corrupt gzip data, naming the file', async () => {
    const gz = Buffer.from(readFileSync(examplePath('bash-true-loop.trace.gz')));
    gz[500] ^= 0xff;
    const path = scratchFile('corrupt.trace.gz', gz);
    await assert.rejects(readTrace(path, { onRecord() {} }), (err: unknown) => {
      assert.ok(err instanceof TraceFormatError);
      assert.equal(err.file, path);
      assert.match(err.message, /corrupt gzip data/);
      assert.ok(err.message.startsWith(`${path}:`));
      return true;
    });
  });

  it('skips and counts lines over LINE_CHARS_MAX without buffering them, in memory and streamed', async () => {
    const huge = `  a-1 [000] 1.000000: e: ${'x'.repeat(LINE_CHARS_MAX + 10)}\n`;
    const text = LINE_A + huge + LINE_B;
    const inMemory = collectText(text);
    const bytes = Buffer.from(text);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
    const streamed = await collectChunks(chunks);
    for (const c of [inMemory, streamed]) {
      assert.equal(c.records.length, 2);
      assert.equal(c.stats.skippedLines, 1);
      assert.equal(c.stats.skippedExamples[0].lineNo, 2);
      assert.equal(c.stats.skippedExamples[0].text.length, 200);
      assert.match(c.stats.skippedExamples[0].reason, /longer than 65536/);
      assert.equal(c.records[1].lineNo, 3);
    }
  });

  it('a line just under the limit is still read', () => {
    const payload = 'y'.repeat(LINE_CHARS_MAX - 40);
    const c = collectText(`  a-1 [000] 1.000000: e: ${payload}\n`);
    assert.equal(c.records.length, 1);
    assert.equal(c.records[0].payload, payload);
  });
});

describe('not a trace', () => {
  it('raises TraceFormatError naming the file, the line and what was expected', async () => {
    const path = fixturePath('not-a-trace.txt');
    await assert.rejects(readTrace(path, { onRecord() {} }), (err: unknown) => {
      assert.ok(err instanceof TraceFormatError);
      assert.equal(err.file, path);
      assert.equal(err.lineNo, 2);
      assert.match(err.message, /not a trace/);
      assert.match(err.message, /expected an event line like/);
      assert.match(err.message, /line 1: expected/);
      return true;
    });
  });

  it('gives up after 1000 lines without an event line', () => {
    const text = `${'nothing to see here\n'.repeat(1500)}${LINE_A}`;
    assert.throws(
      () => readTraceText(text, { onRecord() {} }, 'junk.txt'),
      (err: unknown) => err instanceof TraceFormatError && err.lineNo === 1000 && err.message.startsWith('junk.txt:1000:'),
    );
  });

  it('an empty input or a header with no events is an empty trace, not an error', () => {
    assert.equal(collectText('').stats.records, 0);
    const header = collectText('# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:2\n');
    assert.equal(header.stats.records, 0);
    assert.equal(header.stats.cpusDeclared, 2);
    assert.equal(header.stats.skippedLines, 0);
  });

  it('a long stretch of lines without a colon is skipped line by line (no rescan per line)', () => {
    const c = collectText(`${LINE_A}${'no colon on this line at all\n'.repeat(20_000)}${LINE_B}`);
    assert.equal(c.records.length, 2);
    assert.equal(c.stats.skippedLines, 20_000);
    assert.equal(c.records[1].lineNo, 20_002);
  });

  it('a few unparseable lines after events are skips, not an error', () => {
    const c = collectText(`${LINE_A}garbage\n`);
    assert.equal(c.records.length, 1);
    assert.equal(c.stats.skippedLines, 1);
  });
});
