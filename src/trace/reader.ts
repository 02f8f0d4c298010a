// Streaming reader of kernel trace text: ftrace (`trace_pipe`, `trace`),
// `trace-cmd report` and `perf script` output, plain or gzip'd, from a file or
// stdin. Memory stays bounded: the input is decompressed and split into lines
// chunk by chunk, and a line longer than LINE_CHARS_MAX is counted and dropped
// rather than buffered. Each chunk is handled synchronously, so `onRecord` runs
// once per event line with no promise in between.
import { InputError } from '../errors.ts';

import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import {
  EventLineParser,
  EXPECTED_EVENT_LINE,
  isBlankLine,
  isPerfCallchainLine,
  isTraceCmdPreamble,
  type LineFamily,
  parseHeaderCpus,
  parseLostMarker,
  parseTraceCmdCpus,
  RecordView,
  withAsciiBlock,
} from './formats.ts';
import type { LostEvents, ReaderStats, TraceFormat, TraceRecord } from './types.ts';

interface CommonReadOptions {
  /** Called for each lost-events marker; `count` is 0 when trace-cmd did not know it. */
  onLost?(l: LostEvents): void;
  /** How many skipped lines to keep as examples in the stats (default 10). */
  maxSkippedExamples?: number;
}

export interface ReadOptions extends CommonReadOptions {
  /** Called synchronously, in input order, once per event line. */
  onRecord(r: TraceRecord): void;
}

/** For readTraceViews. */
export interface ViewReadOptions extends CommonReadOptions {
  /**
   * Called as onRecord would be, with the same RecordView each time, refilled
   * per line, so no record or string is made unless asked for. Valid only
   * during the call: toRecord() keeps one.
   */
  onView(v: RecordView): void;
}

/** The input is not a trace at all, or its gzip data is corrupt. Names the file and the line. */
export class TraceFormatError extends InputError {
  readonly file: string;
  readonly lineNo: number;

  constructor(file: string, lineNo: number, detail: string) {
    super(`${file}:${lineNo}: ${detail}`);
    this.name = 'TraceFormatError';
    this.file = file;
    this.lineNo = lineNo;
  }
}

/** Lines longer than this many characters are skipped, not buffered. */
export const LINE_CHARS_MAX = 64 * 1024;
/** With no event line among this many lines, the input is not a trace. */
export const DETECT_LINES_MAX = 1000;

const SKIPPED_EXAMPLES_DEFAULT = 10;
const EXAMPLE_CHARS_MAX = 200;
const RAW_CHUNK_BYTES = 256 * 1024;
/**
 * Decompressed bytes per chunk. Each chunk costs a trip through the event
 * loop and the stream machinery, about 0.1 ms on the reference VM whatever
 * its size; zlib fills the next one on the thread pool meanwhile. 1 MiB
 * chunks make that a few ms per 27 MB trace instead of ten (the chunk is a
 * Buffer, outside the V8 heap: BLOCK_BYTES is what bounds the strings).
 */
const GUNZIP_CHUNK_BYTES = 1024 * 1024;
/**
 * Whole lines decoded into one string at a time, up to about this many bytes.
 * V8 puts any object over 128 KiB (kMaxRegularHeapObjectSize) in the
 * large-object space, one mapping each and freed only by a full GC: a 256 KiB
 * chunk decoded whole costs six times as much as the same bytes decoded as
 * 64 KiB young-generation strings.
 */
const BLOCK_BYTES = 64 * 1024;
const CH_NEWLINE = 10;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

/**
 * Reads a trace file (`-` for stdin) to the end. Gzip is recognised by its
 * magic bytes, not the file name. A gzip stream that ends early, or a last line
 * without its newline, sets `truncated` and keeps every complete record before
 * it. Throws TraceFormatError for input that is not a trace or corrupt gzip
 * data; file-system errors are passed through as they are.
 */
export async function readTrace(source: string, opts: ReadOptions | ViewReadOptions): Promise<ReaderStats> {
  const name = source === '-' ? '<stdin>' : source;
  const raw: Readable = source === '-' ? process.stdin : createReadStream(source, { highWaterMark: RAW_CHUNK_BYTES });
  try {
    return await readTraceStream(raw, opts, name);
  } finally {
    raw.destroy();
  }
}

/**
 * The reader over any byte stream (a Readable, or an async iterable of Buffers
 * in whatever chunks); `name` is used in errors. Same rules as readTrace.
 */
export async function readTraceStream(
  input: AsyncIterable<Buffer>,
  opts: ReadOptions | ViewReadOptions,
  name = '<stream>',
): Promise<ReaderStats> {
  const sink = new TraceLineSink(name, opts);
  let inSink = false;
  let gzipCut = false;
  try {
    for await (const chunk of decompressed(input)) {
      inSink = true;
      sink.pushBytes(chunk);
      inSink = false;
    }
  } catch (err) {
    if (inSink || !isZlibError(err)) throw err;
    // zlib says "unexpected end of file" (Z_BUF_ERROR) for a cut stream.
    if (err.code !== 'Z_BUF_ERROR') {
      throw new TraceFormatError(
        name,
        sink.lineCount() + 1,
        `corrupt gzip data (${err.message}) after ${sink.lineCount()} decompressed lines; expected a gzip stream`,
      );
    }
    gzipCut = true;
  }
  sink.endBytes();
  return sink.finish(gzipCut);
}

/** The same reader over text already in memory (tests, small inputs). */
export function readTraceText(text: string, opts: ReadOptions | ViewReadOptions, name = '<text>'): ReaderStats {
  const sink = new TraceLineSink(name, opts);
  sink.pushText(text);
  return sink.finish(false);
}

interface ZlibError extends Error {
  code: string;
}

function isZlibError(err: unknown): err is ZlibError {
  if (!(err instanceof Error)) return false;
  const code = (err as Partial<ZlibError>).code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** The bytes of `input`, gunzipped when they start with the gzip magic. */
async function* decompressed(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const chunks: AsyncIterator<Buffer> = input[Symbol.asyncIterator]();
  const head = await readHead(chunks, 2);
  if (head.length < 2 || head[0] !== GZIP_MAGIC_0 || head[1] !== GZIP_MAGIC_1) {
    yield* prepended(head, chunks);
    return;
  }
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
  const source = Readable.from(prepended(head, chunks), { objectMode: false });
  // Errors from either side reach the loop below through `gunzip`.
  pipeline(source, gunzip, () => {});
  yield* gunzip as AsyncIterable<Buffer>;
}

/** At least `bytes` bytes from the start (fewer only at end of input): a pipe may deliver one byte at a time. */
async function readHead(chunks: AsyncIterator<Buffer>, bytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const next = await chunks.next();
    if (next.done === true) break;
    parts.push(next.value);
    length += next.value.length;
  }
  return Buffer.concat(parts, length);
}

async function* prepended(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await rest.next();
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/**
 * Splits text into lines (on `\n`, dropping a `\r` before it) and turns each
 * line into a record, a lost-events marker, a header line, or a counted skip.
 */
class TraceLineSink {
  private readonly name: string;
  private readonly onRecord: ((r: TraceRecord) => void) | undefined;
  private readonly onView: ((v: RecordView) => void) | undefined;
  private readonly view: RecordView | null;
  private readonly onLost: ((l: LostEvents) => void) | undefined;
  private readonly examplesMax: number;
  private readonly parser = new EventLineParser();
  /** For pushBytes: the input's bytes that are not whole lines of ASCII, in order. */
  private readonly decoder = new StringDecoder('utf8');
  /** Where the byte path parses a line in onRecord mode (toRecord() keeps it). */
  private readonly scratchView = new RecordView();
  private readonly stats: ReaderStats = {
    format: 'ftrace',
    lines: 0,
    records: 0,
    skippedLines: 0,
    skippedExamples: [],
    lost: [],
    cpusDeclared: null,
    truncated: false,
  };
  /** Text after the last newline seen, waiting for the rest of its line. */
  private pending = '';
  /** Start of a line over LINE_CHARS_MAX whose rest is being discarded, or null. */
  private hugeHead: string | null = null;
  /** Family of the first event line; later lines of the other family are skipped. */
  private family: 'ftrace' | 'perf-script' | null = null;
  private familyLineNo = 0;
  private traceCmdSeen = false;
  /** Newline-terminated lines that were skipped; a cut last line is not one. */
  private completeSkips = 0;
  private firstSkip: { lineNo: number; reason: string } | null = null;

  constructor(name: string, opts: ReadOptions | ViewReadOptions) {
    this.name = name;
    if ('onView' in opts) {
      this.onRecord = undefined;
      this.onView = opts.onView;
      this.view = new RecordView();
    } else {
      this.onRecord = opts.onRecord;
      this.onView = undefined;
      this.view = null;
    }
    this.onLost = opts.onLost;
    this.examplesMax = Math.max(0, opts.maxSkippedExamples ?? SKIPPED_EXAMPLES_DEFAULT);
  }

  lineCount(): number {
    return this.stats.lines;
  }

  /**
   * The next bytes of a UTF-8 input. Whole lines go in blocks of about
   * BLOCK_BYTES; a block of pure ASCII (every line of a kernel trace, bar a
   * comm set to something else) is decoded as latin1, where byte and
   * character offsets agree, and its headers are parsed on the bytes. Any
   * other bytes go through the one StringDecoder as pushText: a block starts
   * after a newline and ends with one, so the decoder holds no partial
   * character across the blocks it does not see, and the text is what
   * decoding the whole input at once would give.
   */
  pushBytes(chunk: Buffer): void {
    let start = 0;
    if (this.hugeHead !== null || this.pending.length > 0) {
      const nl = chunk.indexOf(CH_NEWLINE);
      if (nl < 0) {
        this.pushText(this.decoder.write(chunk));
        return;
      }
      this.pushText(this.decoder.write(chunk.subarray(0, nl + 1)));
      start = nl + 1;
    }
    const end = chunk.lastIndexOf(CH_NEWLINE) + 1;
    while (start < end) {
      let stop = end;
      if (end - start > BLOCK_BYTES) {
        stop = chunk.lastIndexOf(CH_NEWLINE, start + BLOCK_BYTES - 1) + 1;
        // One line longer than a block: the block is that line.
        if (stop <= start) stop = chunk.indexOf(CH_NEWLINE, start + BLOCK_BYTES) + 1;
      }
      const block = chunk.subarray(start, stop);
      if (isAscii(block)) {
        const text = block.toString('latin1');
        withAsciiBlock(text, block, () => this.pushAsciiLines(block, text));
      } else this.pushText(this.decoder.write(block));
      start = stop;
    }
    if (start < chunk.length) this.pushText(this.decoder.write(chunk.subarray(start)));
  }

  /** Ends a pushBytes input: a partial UTF-8 character left in the decoder. */
  endBytes(): void {
    this.pushText(this.decoder.end());
  }

  /** pushText for whole lines of ASCII, `text` being `bytes` decoded. */
  private pushAsciiLines(bytes: Buffer, text: string): void {
    this.parser.setText(text);
    let start = 0;
    for (;;) {
      // The string's indexOf, not the Buffer's: that one is a call into C++ per line.
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (nl - start > LINE_CHARS_MAX) this.skipHugeLine(text.slice(start, start + EXAMPLE_CHARS_MAX), true);
      else this.handleLine(text, start, nl, bytes);
      start = nl + 1;
    }
  }

  pushText(text: string): void {
    let start = 0;
    if (this.hugeHead !== null || this.pending.length > 0) {
      const nl = text.indexOf('\n');
      if (nl < 0) {
        this.appendPending(text);
        return;
      }
      this.appendPending(text.slice(0, nl));
      this.endPendingLine();
      start = nl + 1;
    }
    this.parser.setText(text);
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      if (nl - start > LINE_CHARS_MAX) this.skipHugeLine(text.slice(start, start + EXAMPLE_CHARS_MAX), true);
      else this.handleLine(text, start, nl);
      start = nl + 1;
    }
    if (start < text.length) this.appendPending(text.slice(start));
  }

  /** Ends the input: a leftover partial line means the input was cut. `inputCut`: the byte stream itself ended early. */
  finish(inputCut: boolean): ReaderStats {
    if (this.hugeHead !== null) {
      this.skipHugeLine(this.hugeHead, false);
      this.stats.truncated = true;
    } else if (this.pending.length > 0) {
      const last = this.pending;
      this.pending = '';
      this.stats.lines++;
      if (!isBlankLine(last)) {
        this.skip(last, 'cut last line: the input ends without a newline, so this line may be incomplete', false);
        this.stats.truncated = true;
      }
    }
    if (inputCut) this.stats.truncated = true;
    if (this.stats.records === 0 && this.completeSkips > 0) this.throwNotATrace(this.stats.lines);
    return this.stats;
  }

  private appendPending(text: string): void {
    if (this.hugeHead !== null) return;
    if (this.pending.length + text.length <= LINE_CHARS_MAX) {
      this.pending += text;
      return;
    }
    this.hugeHead = (this.pending + text.slice(0, EXAMPLE_CHARS_MAX)).slice(0, EXAMPLE_CHARS_MAX);
    this.pending = '';
  }

  private endPendingLine(): void {
    if (this.hugeHead !== null) {
      this.skipHugeLine(this.hugeHead, true);
      this.hugeHead = null;
      return;
    }
    const line = this.pending;
    this.pending = '';
    this.parser.setText(line);
    this.handleLine(line, 0, line.length);
  }

  private skipHugeLine(head: string, complete: boolean): void {
    this.stats.lines++;
    this.skip(head, `line longer than ${LINE_CHARS_MAX} characters (not buffered)`, complete);
    this.checkDetected();
  }

  /** text[lo, hi) is one line, without its newline; `bytes`, when given, is `text` as ASCII bytes. */
  private handleLine(text: string, lo: number, hi: number, bytes: Uint8Array | null = null): void {
    const lineNo = ++this.stats.lines;
    if (hi > lo && text.charCodeAt(hi - 1) === 13) hi--;
    if (lineNo === 1 && text.charCodeAt(lo) === 0xfeff) lo++;
    if (lo < hi && text.charCodeAt(lo) === 35 /* '#' */) {
      this.stats.cpusDeclared ??= parseHeaderCpus(text.slice(lo, hi));
      this.checkDetected();
      return;
    }
    const rec = bytes === null ? this.parseText(lo, hi, lineNo) : this.parseBytes(bytes, text, lo, hi, lineNo);
    if (rec !== null) this.acceptRecord(rec, text, lo, hi);
    else this.handleNonEvent(text.slice(lo, hi), lineNo);
    this.checkDetected();
  }

  private parseText(lo: number, hi: number, lineNo: number): TraceRecord | null {
    const view = this.view;
    return view === null ? this.parser.parseRange(lo, hi, lineNo) : this.parser.parseRangeInto(lo, hi, lineNo, view);
  }

  /** The byte fast path, else the string parser (which decides the lines the fast path is unsure of). */
  private parseBytes(bytes: Uint8Array, text: string, lo: number, hi: number, lineNo: number): TraceRecord | null {
    const view = this.view;
    if (view !== null) return this.parser.parseBytesInto(bytes, text, lo, hi, lineNo, view) ?? this.parser.parseRangeInto(lo, hi, lineNo, view);
    const v = this.parser.parseBytesInto(bytes, text, lo, hi, lineNo, this.scratchView);
    return v === null ? this.parser.parseRange(lo, hi, lineNo) : v.toRecord();
  }

  private acceptRecord(rec: TraceRecord, text: string, lo: number, hi: number): void {
    const family = this.parser.family;
    const group = family === 'perf-script' ? 'perf-script' : 'ftrace';
    if (this.family === null) {
      this.family = group;
      this.familyLineNo = rec.lineNo;
    } else if (group !== this.family) {
      const first = `first event line (line ${this.familyLineNo}) is ${describeFamily(this.family)}`;
      this.skip(text.slice(lo, hi), `${describeFamily(family)} line in a trace whose ${first}`, true);
      return;
    }
    if (family === 'trace-cmd-latency') this.traceCmdSeen = true;
    this.stats.format = this.formatName();
    this.stats.records++;
    const view = this.view;
    if (view !== null) this.onView?.(view);
    else this.onRecord?.(rec);
  }

  private handleNonEvent(line: string, lineNo: number): void {
    if (isBlankLine(line)) return;
    const lost = parseLostMarker(line);
    if (lost !== null) {
      const l: LostEvents = { lineNo, cpu: lost.cpu, count: lost.count };
      this.stats.lost.push(l);
      this.onLost?.(l);
      return;
    }
    const cpus = parseTraceCmdCpus(line);
    if (cpus !== null || isTraceCmdPreamble(line)) {
      this.stats.cpusDeclared ??= cpus;
      this.traceCmdSeen = true;
      if (this.family !== 'perf-script') this.stats.format = 'trace-cmd';
      return;
    }
    if (this.family === 'perf-script' && isPerfCallchainLine(line)) return;
    this.skip(line, this.parser.fault, true);
  }

  private formatName(): TraceFormat {
    if (this.family === 'perf-script') return 'perf-script';
    return this.traceCmdSeen ? 'trace-cmd' : 'ftrace';
  }

  private skip(line: string, reason: string, complete: boolean): void {
    const lineNo = this.stats.lines;
    this.stats.skippedLines++;
    if (complete) this.completeSkips++;
    this.firstSkip ??= { lineNo, reason };
    if (this.stats.skippedExamples.length < this.examplesMax) {
      this.stats.skippedExamples.push({ lineNo, text: line.slice(0, EXAMPLE_CHARS_MAX), reason });
    }
  }

  private checkDetected(): void {
    if (this.stats.records === 0 && this.stats.lines >= DETECT_LINES_MAX) this.throwNotATrace(this.stats.lines);
  }

  private throwNotATrace(lineNo: number): never {
    const first = this.firstSkip;
    const why = first === null ? '' : `; line ${first.lineNo}: ${first.reason}`;
    throw new TraceFormatError(
      this.name,
      lineNo,
      `not a trace: no event line in the first ${lineNo} lines, expected ${EXPECTED_EVENT_LINE}${why}`,
    );
  }
}

function describeFamily(family: LineFamily): string {
  return family === 'perf-script' ? 'perf script' : family === 'ftrace' ? 'ftrace' : 'trace-cmd -l';
}
