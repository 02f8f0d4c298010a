// Property tests of the reader (fast-check). Round trip: records rendered in
// any of the three formats, with every column variant, come back exactly; cut
// anywhere, they come back up to the cut with `truncated`; chunked anywhere or
// gzip'd, nothing changes. Hostile input (random bytes, random gzip, cut real
// gzip) never throws anything but TraceFormatError and never hangs: every input
// is bounded. A failure prints `seed` and `path`; reproduce it with
// KSTACK_SEED=<seed> npm test -- trace/fuzz (fast-check's path narrows it further).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { LINE_CHARS_MAX, readTraceText, TraceFormatError } from '../../src/trace/reader.ts';
import type { TraceRecord } from '../../src/trace/types.ts';
import { type Collected, collectChunks, collectText, examplePath } from './collect.ts';

const SEED = Number(process.env.KSTACK_SEED ?? 20251125);
const TIMEOUT_MS = 120_000;

function params(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns, endOnFailure: false };
}

// ---------------------------------------------------------------------------
// Rendering records the way each tool prints them.

type Family = 'ftrace' | 'trace-cmd-l' | 'perf';

interface LineSpec {
  comm: string;
  pid: number;
  /** ftrace TGID column, or perf `-F pid,tid`'s pid printed before the tid. */
  tgid: number | null;
  tgidDashes: boolean;
  cpu: number;
  flags: string;
  ts: { sec: number; frac: string } | { counter: number };
  subsystem: string;
  event: string;
  payload: string;
  hugePayload: number | null;
  padding: number;
}

const COMM_ALPHABET = 'abcXYZ019 -/:()<>.=_[]'.split('');
const PAYLOAD_ALPHABET = 'abz09 =:-_/()[]<>|+.,#ü✓'.split('');

const commArb = fc
  .array(fc.constantFrom(...COMM_ALPHABET), { maxLength: 15 })
  .map((cs) => cs.join(''))
  // A comm cannot start with a blank (the column is right-aligned padding), and
  // one holding ": " can make an earlier, equally valid header: both are
  // ambiguous in the kernel's own output.
  .filter((c) => !c.startsWith(' ') && !c.includes(': '));

const flagsArb = fc
  .tuple(
    fc.constantFrom('d', 'D', 'b', 'X', '.'),
    fc.array(fc.constantFrom('.', 'N', 'n', 'p', 'h', 's', 'H', 'z', '1', '2', 'f'), { minLength: 3, maxLength: 4 }),
  )
  .map(([first, rest]) => first + rest.join(''));

const tsArb = fc.oneof(
  fc.record({
    sec: fc.integer({ min: 0, max: 9_000_000 }),
    frac: fc.oneof(fc.stringMatching(/^\d{6}$/), fc.stringMatching(/^\d{9}$/)),
  }),
  fc.record({ counter: fc.integer({ min: 0, max: 2 ** 52 }) }),
);

const lineSpecArb: fc.Arbitrary<LineSpec> = fc.record({
  comm: commArb,
  pid: fc.integer({ min: 0, max: 4_194_304 }),
  tgid: fc.option(fc.integer({ min: 1, max: 4_194_304 })),
  tgidDashes: fc.boolean(),
  cpu: fc.integer({ min: 0, max: 8191 }),
  flags: fc.oneof(fc.constant(''), flagsArb),
  ts: tsArb,
  subsystem: fc.constantFrom('sched', 'task', 'vmalloc', 'rcu', 'ftrace'),
  event: fc.stringMatching(/^[a-z_][a-z0-9_]{0,30}$/),
  payload: fc.array(fc.constantFrom(...PAYLOAD_ALPHABET), { maxLength: 120 }).map((cs) => cs.join('')),
  hugePayload: fc.option(fc.integer({ min: -80, max: 80 }), { freq: 8 }),
  padding: fc.integer({ min: 1, max: 12 }),
});

function tsText(ts: LineSpec['ts']): string {
  return 'counter' in ts ? String(ts.counter) : `${ts.sec}.${ts.frac}`;
}

function expectedTsNs(ts: LineSpec['ts']): number {
  if ('counter' in ts) return ts.counter;
  const scale = 10n ** BigInt(9 - ts.frac.length);
  return Number(BigInt(ts.sec) * 1_000_000_000n + BigInt(ts.frac) * scale);
}

function payloadOf(s: LineSpec, headerChars: number): string {
  if (s.hugePayload === null) return s.payload;
  return 'h'.repeat(Math.max(0, LINE_CHARS_MAX - headerChars + s.hugePayload));
}

function renderLine(s: LineSpec, family: Family): { line: string; record: Omit<TraceRecord, 'lineNo'> } {
  const pad = ' '.repeat(s.padding);
  let header: string;
  let flags = s.flags;
  if (family === 'ftrace') {
    const tgid = s.tgid === null ? '' : s.tgidDashes ? '(-------) ' : `(${String(s.tgid).padStart(7)}) `;
    const cpu = `[${String(s.cpu).padStart(3, '0')}]`;
    header = `${s.comm.padStart(16)}-${String(s.pid).padEnd(7)}${pad}${tgid}${cpu} ${flags === '' ? '' : `${flags} `}${pad}${tsText(s.ts)}: ${s.event}: `;
  } else if (family === 'trace-cmd-l') {
    flags = flags === '' ? 'd.h1.' : flags;
    header = `${s.comm.padStart(16)}-${String(s.pid).padEnd(7)}${pad}${s.cpu}${flags} ${tsText(s.ts)}: ${s.event}: `;
  } else {
    flags = '';
    const task = s.tgid === null ? String(s.pid).padStart(5) : `${String(s.tgid).padStart(7)}/${String(s.pid).padEnd(7)}`;
    const name = `${s.subsystem}:${s.event}`.padStart(20 + s.padding);
    header = `${s.comm.padStart(16)} ${task}${pad}[${String(s.cpu).padStart(3, '0')}] ${tsText(s.ts)}:${pad}${name}: `;
  }
  const payload = payloadOf(s, header.length);
  return {
    line: header + payload,
    record: { comm: s.comm, pid: s.pid, cpu: s.cpu, flags, tsNs: expectedTsNs(s.ts), event: s.event, payload },
  };
}

interface Rendered {
  text: string;
  /** Expected records, lineNo filled in; lines over LINE_CHARS_MAX are left out. */
  records: TraceRecord[];
  hugeLines: number;
  /** Index just past each line's newline. */
  lineEnds: number[];
}

function render(specs: LineSpec[], family: Family, eol: '\n' | '\r\n'): Rendered {
  const parts: string[] = [];
  const records: TraceRecord[] = [];
  const lineEnds: number[] = [];
  let hugeLines = 0;
  let offset = 0;
  specs.forEach((s, i) => {
    // perf comms need a non-blank end: perf pads the tid, so trailing blanks are padding.
    const spec = family === 'perf' ? { ...s, comm: s.comm.trimEnd() === '' ? 'x' : s.comm.trimEnd() } : s;
    const { line, record } = renderLine(spec, family);
    const full = line + eol;
    parts.push(full);
    offset += full.length;
    lineEnds.push(offset);
    if (line.length + eol.length - 1 > LINE_CHARS_MAX) hugeLines++;
    else records.push({ lineNo: i + 1, ...record });
  });
  return { text: parts.join(''), records, hugeLines, lineEnds };
}

const familyArb = fc.constantFrom<Family>('ftrace', 'trace-cmd-l', 'perf');
const eolArb = fc.constantFrom<'\n' | '\r\n'>('\n', '\r\n');
const specsArb = fc.array(lineSpecArb, { minLength: 1, maxLength: 12 });

function expectOnlyFormatErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof TraceFormatError)) throw err;
  }
}

async function expectOnlyFormatErrorsAsync(run: () => Promise<unknown>): Promise<Collected | null> {
  try {
    return (await run()) as Collected;
  } catch (err) {
    if (!(err instanceof TraceFormatError)) throw err;
    return null;
  }
}

function chunked(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let i = 0;
  for (let k = 0; i < bytes.length; k++) {
    const size = sizes.length === 0 ? bytes.length : sizes[k % sizes.length];
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

// ---------------------------------------------------------------------------

describe('reader properties', { timeout: TIMEOUT_MS }, () => {
  it('round-trips rendered records in every format, LF or CRLF, huge lines skipped', () => {
    fc.assert(
      fc.property(specsArb, familyArb, eolArb, (specs, family, eol) => {
        const r = render(specs, family, eol);
        if (r.records.length === 0) {
          assert.throws(() => collectText(r.text), TraceFormatError);
          return;
        }
        const c = collectText(r.text);
        assert.deepEqual(c.records, r.records);
        assert.equal(c.stats.skippedLines, r.hugeLines);
        assert.equal(c.stats.lines, specs.length);
        assert.equal(c.stats.truncated, false);
        assert.equal(c.stats.format, family === 'perf' ? 'perf-script' : family === 'ftrace' ? 'ftrace' : 'trace-cmd');
      }),
      params(400),
    );
  });

  it('a cut anywhere keeps exactly the complete lines before it and says truncated', () => {
    fc.assert(
      fc.property(specsArb, familyArb, eolArb, fc.double({ min: 0, max: 1, noNaN: true }), (specs, family, eol, at) => {
        const r = render(specs, family, eol);
        const cut = Math.floor(at * r.text.length);
        const text = r.text.slice(0, cut);
        const complete = r.lineEnds.filter((end) => end <= cut).length;
        const expected = r.records.filter((rec) => rec.lineNo <= complete);
        const partial = text.slice(complete === 0 ? 0 : r.lineEnds[complete - 1]);
        const hugeBefore = complete - expected.length;
        if (expected.length === 0 && hugeBefore > 0) {
          assert.throws(() => collectText(text), TraceFormatError);
          return;
        }
        const c = collectText(text);
        assert.deepEqual(c.records, expected);
        assert.equal(c.stats.truncated, !/^[ \t\r\f]*$/.test(partial));
      }),
      params(400),
    );
  });

  it('gives the same result for any chunking, plain or gzip', async () => {
    await fc.assert(
      fc.asyncProperty(
        specsArb,
        familyArb,
        eolArb,
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
        fc.boolean(),
        async (specs, family, eol, sizes, gzip) => {
          const r = render(specs, family, eol);
          if (r.records.length === 0) return;
          const bytes = gzip ? gzipSync(r.text) : Buffer.from(r.text);
          const c = await collectChunks(chunked(bytes, sizes));
          assert.deepEqual(c.records, r.records);
          assert.equal(c.stats.truncated, false);
        },
      ),
      params(150),
    );
  });

  it('random text never throws anything but TraceFormatError', () => {
    const unit = fc.constantFrom('a', ' ', '-', '1', '[', ']', ':', '.', '\n', '\r', '(', ')', '#', 'é', '\u0000', '\t');
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 3000 }), (cs) => {
        expectOnlyFormatErrors(() => readTraceText(cs.join(''), { onRecord() {} }));
      }),
      params(300),
    );
  });

  it('random bytes, plain or behind a gzip magic, never throw anything but TraceFormatError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), fc.boolean(), async (bytes, magic) => {
        const input = magic ? Buffer.concat([Buffer.from([0x1f, 0x8b]), bytes]) : Buffer.from(bytes);
        await expectOnlyFormatErrorsAsync(() => collectChunks([input]));
      }),
      params(200),
    );
  });

  it('valid lines with random bytes spliced in never throw anything but TraceFormatError', async () => {
    await fc.assert(
      fc.asyncProperty(
        specsArb,
        familyArb,
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (specs, family, junk, at) => {
          const text = Buffer.from(render(specs, family, '\n').text);
          const i = Math.floor(at * text.length);
          const input = Buffer.concat([text.subarray(0, i), junk, text.subarray(i)]);
          await expectOnlyFormatErrorsAsync(() => collectChunks([input]));
        },
      ),
      params(200),
    );
  });

  it('a real gzip cut at any offset returns the records before the cut, truncated', async () => {
    const gz = readFileSync(examplePath('bash-true-loop.trace.gz'));
    const full = await collectChunks([gz]);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: gz.length - 1 }),
        fc.integer({ min: 512, max: 65536 }),
        async (cut, chunkBytes) => {
          const c = await collectChunks(chunked(gz.subarray(0, cut), [chunkBytes]));
          assert.equal(c.stats.truncated, true);
          assert.ok(c.records.length <= full.records.length);
          assert.deepEqual(c.records, full.records.slice(0, c.records.length));
          assert.ok(c.stats.skippedLines <= 1);
        },
      ),
      params(60),
    );
  });
});
