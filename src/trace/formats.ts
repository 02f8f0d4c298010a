// Line-level parsing of the three text renderings of a trace event.
//
//   ftrace      `%16s-%-7d [(%7d) ][%03d] [flags ]%5lu.%06lu: event: payload`
//               (kernel/trace/trace_output.c, trace_print_context(); the TGID
//               column only with `record-tgid`, flags only with `irq-info`, and
//               a bare `%12llu` counter instead of sec.usec under counter clocks)
//   trace-cmd   the same without flags by default; `-l` replaces `[cpu] flags`
//               with one latency field whose leading digits are the CPU (`0d.h1.`)
//   perf script `%16s %5d[/%d] [%03d] %5lu.%06lu: [period ]sys:event: payload`
//               (tools/perf/builtin-script.c default tracepoint fields; the event
//               name right-aligned when several events were recorded)
//
// The header is parsed right to left from the timestamp's `: `, so the comm is
// whatever is left at the start of the line: it may hold spaces, dashes,
// slashes, colons, brackets and `-<digits>` (a comm like `memfd:sealed-91`).
// Every scan has a width limit, so a hostile line costs time linear in its
// length. No regex on the hot path.

import type { TraceRecord } from './types.ts';

/** Header shape of an event line; the reader pins the trace format to the first one seen. */
export type LineFamily = 'ftrace' | 'trace-cmd-latency' | 'perf-script';

/** A `CPU:N [LOST M EVENTS]` (ftrace) or `CPU:N [M EVENTS DROPPED]` (trace-cmd) marker. */
export interface LostMarker {
  cpu: number;
  /** 0 when trace-cmd printed `[EVENTS DROPPED]` without a count. */
  count: number;
}

/** The shape every accepted event line has, for error messages. */
export const EXPECTED_EVENT_LINE =
  'an event line like "<comm>-<pid> [<cpu>] <flags> <sec>.<usec>: <event>: <fields>" ' +
  '(ftrace, trace-cmd report) or "<comm> <tid> [<cpu>] <sec>.<usec>: <sys>:<event>: <fields>" (perf script)';

// Width limits of the header fields. Generous against every kernel's own
// widths (pid %-7d, cpu %03d, flags 4-6 chars, TASK_COMM_LEN 16), tight enough
// that a line of garbage is rejected after a bounded scan.
const TRIES_MAX = 16;
const TS_CHARS_MAX = 32;
const FRAC_DIGITS_MAX = 9;
const CPU_DIGITS_MAX = 6;
const PID_DIGITS_MAX = 10;
const FLAGS_CHARS_MAX = 8;
const TGID_CHARS_MAX = 12;
const PAD_CHARS_MAX = 64;
const EVENT_CHARS_MAX = 128;

const NS_PER_FRAC_DIGITS = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 100, 10, 1];

const CH_TAB = 9;
const CH_SPACE = 32;
const CH_LPAREN = 40;
const CH_RPAREN = 41;
const CH_DASH = 45;
const CH_DOT = 46;
const CH_SLASH = 47;
const CH_0 = 48;
const CH_9 = 57;
const CH_COLON = 58;
const CH_LBRACKET = 91;
const CH_RBRACKET = 93;

const FAULT_NO_COLON = 'expected "<timestamp>: <event>: " but the line has no ": "';
const FAULT_TS = 'expected a timestamp (<sec>.<fraction> with at most 9 fraction digits, or an integer clock) before ": "';
const FAULT_CPU = 'expected "[<cpu>]" (or a trace-cmd -l latency field like "0d.h1.") before the timestamp';
const FAULT_PID = 'expected "<comm>-<pid>" (ftrace, trace-cmd) or "<comm> <tid>" (perf script) before the CPU';
const FAULT_EVENT = 'expected "<event>: " after the timestamp';

function isDigit(c: number): boolean {
  return c >= CH_0 && c <= CH_9;
}

function isBlank(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB;
}

// The flags column (trace_print_lat_fmt()) and the trace-cmd latency field use
// `.`, letters and hex digits only.
function isFlagChar(c: number): boolean {
  return c === CH_DOT || isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

// Every scan below works on absolute indices into `text`, bounded by the
// line's [lo, hi): the reader passes the decoded chunk itself rather than a
// slice per line, which makes charCodeAt a third cheaper.

/** Index of the last non-blank at or before `i` (and at or after `lo`), at most PAD_CHARS_MAX back; lo-1 if none; lo-2 if the run is longer. */
function skipBlanksBack(text: string, i: number, lo: number): number {
  const stop = i - PAD_CHARS_MAX;
  while (i >= lo && isBlank(text.charCodeAt(i))) {
    if (i <= stop) return lo - 2;
    i--;
  }
  return i;
}

/** Integer value of the digits in [start, end), which the caller has checked. */
function digitsValue(text: string, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (text.charCodeAt(i) - CH_0);
  return v;
}

/**
 * Event names the readers of this project look at: a line naming one gets the
 * constant string, not a fresh slice, so a `switch` on it compares pointers.
 * By length, for a lookup that needs no slice.
 */
const KNOWN_EVENTS: readonly string[] = [
  'sched_switch',
  'sched_wakeup',
  'sched_waking',
  'sched_wakeup_new',
  'task_newtask',
  'task_rename',
  'sched_process_fork',
  'sched_process_exit',
  'sched_process_free',
  'sched_process_exec',
  'sched_process_wait',
  'sched_migrate_task',
  'sched_stat_runtime',
  'rcu_utilization',
  'kmem_cache_alloc',
  'kmem_cache_free',
  'alloc_vmap_area',
  'free_vmap_area_noflush',
  'purge_vmap_area_lazy',
  'tracing_mark_write',
  'print',
];
const EVENTS_BY_LENGTH: string[][] = [];
for (const name of KNOWN_EVENTS) (EVENTS_BY_LENGTH[name.length] ??= []).push(name);

/** text.slice(start, end), as a shared constant when it is a known event name. */
function eventName(text: string, start: number, end: number): string {
  const names = EVENTS_BY_LENGTH[end - start];
  if (names !== undefined) {
    // Compared from the end, where names sharing a prefix (sched_process_*) differ;
    // a char loop, as startsWith is a call per candidate.
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      let k = end - start - 1;
      while (k >= 0 && name.charCodeAt(k) === text.charCodeAt(start + k)) k--;
      if (k < 0) return name;
    }
  }
  return text.slice(start, end);
}

/** skipBlanksBack on bytes. */
function skipBlankBytesBack(b: Uint8Array, i: number, lo: number): number {
  const stop = i - PAD_CHARS_MAX;
  while (i >= lo && isBlank(b[i])) {
    if (i <= stop) return lo - 2;
    i--;
  }
  return i;
}

/** digitsValue on bytes. */
function bytesValue(b: Uint8Array, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) v = v * 10 + (b[i] - CH_0);
  return v;
}

/** KNOWN_EVENTS as bytes, by length, beside EVENTS_BY_LENGTH. */
const EVENT_BYTES_BY_LENGTH: Uint8Array[][] = EVENTS_BY_LENGTH.map((names) => names.map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0))));

/** KNOWN_EVENTS by first character (as bytes, beside the constants), for knownEventAt. */
const EVENTS_BY_FIRST: { names: string[]; bytes: Uint8Array[] }[] = [];
for (const name of KNOWN_EVENTS) {
  const group = (EVENTS_BY_FIRST[name.charCodeAt(0)] ??= { names: [], bytes: [] });
  group.names.push(name);
  group.bytes.push(Uint8Array.from(name, (c) => c.charCodeAt(0)));
}

/**
 * The known event name at b[p] when ": " follows it before `hi` - 1, as the
 * shared constant, else null. No known name holds a colon or a blank, so
 * that ": " is the first at or after p: no search for it is needed.
 */
function knownEventAt(b: Uint8Array, p: number, hi: number): string | null {
  const group = EVENTS_BY_FIRST[b[p]];
  if (group === undefined) return null;
  const { names, bytes } = group;
  for (let i = 0; i < bytes.length; i++) {
    const name = bytes[i];
    const e = p + name.length;
    // Where the colon would be decides most candidates in one load.
    if (b[e] !== CH_COLON || b[e + 1] !== CH_SPACE || e + 1 >= hi) continue;
    let k = name.length - 1;
    while (k > 0 && name[k] === b[p + k]) k--;
    if (k === 0) return names[i];
  }
  return null;
}

/** eventName's known-name lookup on bytes: the shared constant, or null. */
function knownEventOfBytes(b: Uint8Array, start: number, end: number): string | null {
  const names = EVENT_BYTES_BY_LENGTH[end - start];
  if (names === undefined) return null;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    let k = end - start - 1;
    while (k >= 0 && name[k] === b[start + k]) k--;
    if (k < 0) return EVENTS_BY_LENGTH[end - start][i];
  }
  return null;
}

// The reader's current block of ASCII text, as the string its records point
// into (RecordView.text) and as the bytes that string was decoded from, while
// the block's lines are handed out. Code given the string and offsets into it
// (the replay driver passes payloads so) reads the bytes instead, a typed-array
// load being cheaper than charCodeAt (src/replay/fastparse.ts). Only a speed-up:
// without it the same code copies the payload's bytes.
let asciiBlockText = '';
let asciiBlockBytes: Uint8Array | null = null;

/** The bytes of `text` when it is the reader's current ASCII block (same offsets), else null. */
export function asciiBytesOf(text: string): Uint8Array | null {
  return asciiBlockBytes !== null && text === asciiBlockText ? asciiBlockBytes : null;
}

/**
 * Runs `fn` with `text` (the decoding of `bytes`, pure ASCII) as the current
 * block; the one before is restored after, so a reader run from inside a
 * callback only hides the outer block, never swaps its bytes.
 */
export function withAsciiBlock(text: string, bytes: Uint8Array, fn: () => void): void {
  const outerText = asciiBlockText;
  const outerBytes = asciiBlockBytes;
  asciiBlockText = text;
  asciiBlockBytes = bytes;
  try {
    fn();
  } finally {
    asciiBlockText = outerText;
    asciiBlockBytes = outerBytes;
  }
}

/**
 * One event line as offsets into the text it was read from, for readers that
 * look at most lines only briefly (the replay): the reader fills one instance
 * per trace again and again, and the string fields are sliced only when read.
 * Valid only until the next line; toRecord() keeps one.
 */
export class RecordView implements TraceRecord {
  lineNo = 0;
  pid = 0;
  cpu = 0;
  tsNs = 0;
  event = '';
  /** The text holding the line (the reader's chunk), and where the fields are in it (commStart: blanks before the comm included). */
  text = '';
  commStart = 0;
  commEnd = 0;
  flagsStart = 0;
  flagsEnd = 0;
  payloadStart = 0;
  payloadEnd = 0;

  get comm(): string {
    // The reader leaves the leading padding in (commStart is the line start):
    // skipping it is only worth doing for the few comms that are read.
    const { text, commEnd } = this;
    let i = this.commStart;
    while (i < commEnd && isBlank(text.charCodeAt(i))) i++;
    return text.slice(i, commEnd);
  }

  get flags(): string {
    return this.flagsEnd > this.flagsStart ? this.text.slice(this.flagsStart, this.flagsEnd) : '';
  }

  get payload(): string {
    return this.text.slice(this.payloadStart, this.payloadEnd);
  }

  toRecord(): TraceRecord {
    const { lineNo, comm, pid, cpu, flags, tsNs, event, payload } = this;
    return { lineNo, comm, pid, cpu, flags, tsNs, event, payload };
  }
}

/** Fills the reader's reusable RecordView with one line's fields (commStart: blanks before the comm included). */
function fillView(
  view: RecordView,
  lineNo: number,
  pid: number,
  cpu: number,
  tsNs: number,
  event: string,
  text: string,
  commStart: number,
  commEnd: number,
  flagsStart: number,
  flagsEnd: number,
  payloadStart: number,
  payloadEnd: number,
): RecordView {
  view.lineNo = lineNo;
  view.pid = pid;
  view.cpu = cpu;
  view.tsNs = tsNs;
  view.event = event;
  view.text = text;
  view.commStart = commStart;
  view.commEnd = commEnd;
  view.flagsStart = flagsStart;
  view.flagsEnd = flagsEnd;
  view.payloadStart = payloadStart;
  view.payloadEnd = payloadEnd;
  return view;
}

/**
 * Parses one line into a TraceRecord. Stateless apart from `family` and `fault`,
 * which describe the last call; one instance is reused for a whole trace.
 */
export class EventLineParser {
  /** Header shape of the last accepted line. */
  family: LineFamily = 'ftrace';
  /** Why the last rejected line did not parse, phrased as what was expected. */
  fault = '';

  // The line being parsed, and the header fields of the candidate header,
  // kept as fields so the right-to-left steps can be small methods.
  private text = '';
  private lo = 0;
  private hi = 0;
  private tsNs = 0;
  private tsStart = 0;
  private cpu = 0;
  private flagsStart = 0;
  private flagsEnd = 0;
  private beforeCpu = 0;
  private eventStart = 0;
  private eventEnd = 0;
  // The first ':' at or after colonFrom is at colonAt (text.length if none):
  // indexOf runs on past a line without one, so its answer is kept for the
  // following lines instead of scanning the same text again for each.
  private colonFrom = 0;
  private colonAt = -1;
  // The same for the first ": " at or after spaceFrom (parseBytesInto).
  private spaceFrom = 0;
  private spaceAt = -1;
  /** Where parseRangeInto puts the line, or null to make a record. */
  private view: RecordView | null = null;

  /** Parses a whole string as one line. */
  parse(line: string, lineNo: number): TraceRecord | null {
    this.setText(line);
    return this.parseRange(0, line.length, lineNo);
  }

  /** Sets the text that parseRange reads: the reader's decoded chunk. */
  setText(text: string): void {
    this.text = text;
    this.colonFrom = 0;
    this.colonAt = -1;
    this.spaceFrom = 0;
    this.spaceAt = -1;
  }

  /** Parses text[lo, hi) of the current text as one line (no newline inside). */
  parseRange(lo: number, hi: number, lineNo: number): TraceRecord | null {
    this.view = null;
    return this.parseLine(lo, hi, lineNo);
  }

  /** As parseRange, but fills `view` (and returns it) instead of making a record. */
  parseRangeInto(lo: number, hi: number, lineNo: number, view: RecordView): RecordView | null {
    this.view = view;
    return this.parseLine(lo, hi, lineNo) === null ? null : view;
  }

  private parseLine(lo: number, hi: number, lineNo: number): TraceRecord | null {
    this.lo = lo;
    this.hi = hi;
    let colon = this.nextColonSpace(lo);
    if (colon < 0) return this.reject(FAULT_NO_COLON);
    const fast = this.parseCommonAt(colon, lineNo);
    if (fast !== null) return fast;
    let firstFault = '';
    // A comm may itself hold ": " (comms are user-set); the first colon that
    // ends a well-formed header wins, as the kernel's comm is at most 15 bytes.
    for (let tries = 0; colon >= 0 && tries < TRIES_MAX; tries++) {
      const rec = this.parseAt(colon, lineNo);
      if (rec !== null) return rec;
      if (firstFault === '') firstFault = this.fault;
      colon = this.nextColonSpace(colon + 2);
    }
    return this.reject(firstFault);
  }

  /** Index of the next `: ` in [from, hi), or -1. */
  private nextColonSpace(from: number): number {
    const { text, hi } = this;
    let i = this.nextColon(from);
    while (i < hi && text.charCodeAt(i + 1) !== CH_SPACE) i = this.nextColon(i + 1);
    return i + 1 < hi ? i : -1;
  }

  private nextColon(from: number): number {
    if (from >= this.colonFrom && from <= this.colonAt) return this.colonAt;
    const at = this.text.indexOf(':', from);
    this.colonFrom = from;
    this.colonAt = at < 0 ? this.text.length : at;
    return this.colonAt;
  }

  private parseAt(colon: number, lineNo: number): TraceRecord | null {
    const { text, lo } = this;
    if (!this.parseTimestamp(colon)) return this.reject(FAULT_TS);
    const cpuTokenEnd = skipBlanksBack(text, this.tsStart - 1, lo);
    if (cpuTokenEnd < lo) return this.reject(FAULT_CPU);
    let family: LineFamily = 'ftrace';
    if (text.charCodeAt(cpuTokenEnd) === CH_RBRACKET) {
      this.flagsStart = this.flagsEnd = 0;
      if (!this.parseBracketCpu(cpuTokenEnd)) return this.reject(FAULT_CPU);
    } else {
      const kind = this.parseFlagsToken(cpuTokenEnd);
      if (kind === 0) return this.reject(FAULT_CPU);
      if (kind === 2) family = 'trace-cmd-latency';
    }
    const pidEnd = skipBlanksBack(text, this.beforeCpu, lo);
    if (pidEnd < lo) return this.reject(FAULT_PID);
    return this.parseTaskAndEvent(colon, lineNo, pidEnd, family);
  }

  /**
   * parseAt for the common shape only: ftrace's `comm-pid [cpu] flags sec.frac:`
   * or `comm-pid [cpu] sec.frac:`, no TGID column. One pass of local scans
   * doing the same checks, in the same order, as the general steps (which
   * are kept as the reference); null when the line has any other shape, and
   * parseAt then decides, so a line is parsed the same either way.
   */
  private parseCommonAt(colon: number, lineNo: number): TraceRecord | null {
    const { text, lo } = this;
    // Timestamp: parseTimestamp accepts digits '.' 1-9 digits, at most
    // TS_CHARS_MAX - 1 characters in all, after a blank.
    let j = colon - 1;
    while (j >= lo && isDigit(text.charCodeAt(j))) j--;
    const fracDigits = colon - 1 - j;
    if (fracDigits < 1 || fracDigits > FRAC_DIGITS_MAX || j < lo || text.charCodeAt(j) !== CH_DOT) return null;
    let k = j - 1;
    while (k >= lo && isDigit(text.charCodeAt(k))) k--;
    if (k === j - 1 || k < lo || colon - (k + 1) > TS_CHARS_MAX - 1 || !isBlank(text.charCodeAt(k))) return null;
    const tsNs = digitsValue(text, k + 1, j) * 1e9 + digitsValue(text, j + 1, colon) * NS_PER_FRAC_DIGITS[fracDigits];
    // `[cpu]`, or the flags column then `[cpu]` (parseFlagsToken's kind 1).
    let end = skipBlanksBack(text, k, lo);
    if (end < lo) return null;
    let flagsStart = 0;
    let flagsEnd = 0;
    if (text.charCodeAt(end) !== CH_RBRACKET) {
      let i = end;
      const stop = end - FLAGS_CHARS_MAX - CPU_DIGITS_MAX;
      while (i >= lo && i > stop && isFlagChar(text.charCodeAt(i))) i--;
      // A leading digit makes it trace-cmd's latency field: parseAt decides.
      if (i < lo || !isBlank(text.charCodeAt(i)) || isDigit(text.charCodeAt(i + 1)) || end - i > FLAGS_CHARS_MAX) return null;
      flagsStart = i + 1;
      flagsEnd = end + 1;
      end = skipBlanksBack(text, i, lo);
      if (end < lo || text.charCodeAt(end) !== CH_RBRACKET) return null;
    }
    let i = end - 1;
    const cpuStop = end - 1 - CPU_DIGITS_MAX;
    while (i > cpuStop && i >= lo && isDigit(text.charCodeAt(i))) i--;
    if (i === end - 1 || i < lo + 1 || text.charCodeAt(i) !== CH_LBRACKET || !isBlank(text.charCodeAt(i - 1))) return null;
    const cpu = digitsValue(text, i + 1, end);
    // `comm-pid`, the pid at most PID_DIGITS_MAX digits.
    const pidEnd = skipBlanksBack(text, i - 1, lo);
    if (pidEnd < lo || text.charCodeAt(pidEnd) === CH_RPAREN) return null;
    i = pidEnd;
    const pidStop = pidEnd - PID_DIGITS_MAX;
    while (i >= lo && i > pidStop && isDigit(text.charCodeAt(i))) i--;
    if (i === pidEnd || i < lo || text.charCodeAt(i) !== CH_DASH) return null;
    const pid = digitsValue(text, i + 1, pidEnd + 1);
    const commEnd = i;
    const payloadStart = this.scanEvent(colon + 2);
    if (payloadStart < 0) return null;
    this.family = 'ftrace';
    const event = eventName(text, this.eventStart, this.eventEnd);
    return this.emit(lineNo, pid, cpu, tsNs, event, text, lo, commEnd, flagsStart, flagsEnd, payloadStart, this.hi);
  }

  /**
   * parseCommonAt on the line's bytes: for a block of pure ASCII, where byte
   * and character offsets agree, `text` being the same block decoded. A
   * typed-array load is a few instructions where charCodeAt on a string whose
   * representation TurboFan cannot know is a dispatch each time, and the
   * header scans are most of the reader's work. Same checks in the same order;
   * null whenever parseCommonAt would be null or might be, and the string
   * parser (parseRangeInto) then decides, so a line is parsed the same either
   * way. Fills `view` on success.
   */
  parseBytesInto(b: Uint8Array, text: string, lo: number, hi: number, lineNo: number, view: RecordView): RecordView | null {
    // The first ": " (nextColonSpace), found by the string's own search, which
    // is several times faster than a loop over the header's padding.
    const colon = this.colonSpaceFrom(text, lo);
    if (colon + 1 >= hi) return null;
    // Numbers are summed while their digits are scanned, right to left: exact
    // (so equal to bytesValue) up to 15 digits; a longer seconds field is read
    // again as bytesValue reads it.
    let j = colon - 1;
    let frac = 0;
    let scale = 1;
    for (; j >= lo; j--) {
      const c = b[j];
      if (!isDigit(c)) break;
      frac += (c - CH_0) * scale;
      scale *= 10;
    }
    const fracDigits = colon - 1 - j;
    if (fracDigits < 1 || fracDigits > FRAC_DIGITS_MAX || j < lo || b[j] !== CH_DOT) return null;
    let k = j - 1;
    let sec = 0;
    scale = 1;
    for (; k >= lo; k--) {
      const c = b[k];
      if (!isDigit(c)) break;
      sec += (c - CH_0) * scale;
      scale *= 10;
    }
    if (k === j - 1 || k < lo || colon - (k + 1) > TS_CHARS_MAX - 1 || !isBlank(b[k])) return null;
    if (j - 1 - k > 15) sec = bytesValue(b, k + 1, j);
    const tsNs = sec * 1e9 + frac * NS_PER_FRAC_DIGITS[fracDigits];
    let end = skipBlankBytesBack(b, k, lo);
    if (end < lo) return null;
    let flagsStart = 0;
    let flagsEnd = 0;
    if (b[end] !== CH_RBRACKET) {
      let i = end;
      const stop = end - FLAGS_CHARS_MAX - CPU_DIGITS_MAX;
      while (i >= lo && i > stop && isFlagChar(b[i])) i--;
      if (i < lo || !isBlank(b[i]) || isDigit(b[i + 1]) || end - i > FLAGS_CHARS_MAX) return null;
      flagsStart = i + 1;
      flagsEnd = end + 1;
      end = skipBlankBytesBack(b, i, lo);
      if (end < lo || b[end] !== CH_RBRACKET) return null;
    }
    let i = end - 1;
    const cpuStop = end - 1 - CPU_DIGITS_MAX;
    while (i > cpuStop && i >= lo && isDigit(b[i])) i--;
    if (i === end - 1 || i < lo + 1 || b[i] !== CH_LBRACKET || !isBlank(b[i - 1])) return null;
    const cpu = bytesValue(b, i + 1, end);
    const pidEnd = skipBlankBytesBack(b, i - 1, lo);
    if (pidEnd < lo || b[pidEnd] === CH_RPAREN) return null;
    i = pidEnd;
    const pidStop = pidEnd - PID_DIGITS_MAX;
    let pid = 0;
    scale = 1;
    for (; i >= lo && i > pidStop; i--) {
      const c = b[i];
      if (!isDigit(c)) break;
      pid += (c - CH_0) * scale;
      scale *= 10;
    }
    if (i === pidEnd || i < lo || b[i] !== CH_DASH) return null;
    const commEnd = i;
    // scanEvent's first token, with no perf period: `name: ` (a `sys:` prefix dropped).
    let p = colon + 2;
    while (p < hi && isBlank(b[p])) p++;
    // A known name followed by ": " is what the scan below would find (no
    // blank or colon in it), without reading it twice.
    const known = knownEventAt(b, p, hi);
    if (known !== null) {
      this.family = 'ftrace';
      return fillView(view, lineNo, pid, cpu, tsNs, known, text, lo, commEnd, flagsStart, flagsEnd, p + known.length + 2, hi);
    }
    let nameStart = p;
    const stop = Math.min(hi, p + EVENT_CHARS_MAX);
    for (; p < stop; p++) {
      const c = b[p];
      if (c === CH_COLON) {
        if (p + 1 === hi || b[p + 1] === CH_SPACE) break;
        nameStart = p + 1;
      } else if (isBlank(c)) {
        return null;
      }
    }
    if (p === stop || p === nameStart) return null;
    const event = knownEventOfBytes(b, nameStart, p) ?? text.slice(nameStart, p);
    this.family = 'ftrace';
    return fillView(view, lineNo, pid, cpu, tsNs, event, text, lo, commEnd, flagsStart, flagsEnd, p + 1 < hi ? p + 2 : hi, hi);
  }

  /** Index of the first ": " at or after `from` in `text` (text.length if none); the last answer is reused while it still holds. */
  private colonSpaceFrom(text: string, from: number): number {
    if (from >= this.spaceFrom && from <= this.spaceAt) return this.spaceAt;
    const at = text.indexOf(': ', from);
    this.spaceFrom = from;
    this.spaceAt = at < 0 ? text.length : at;
    return this.spaceAt;
  }

  /** The parsed line: into the view parseRangeInto gave, else as a new record (comm without its padding). */
  private emit(
    lineNo: number,
    pid: number,
    cpu: number,
    tsNs: number,
    event: string,
    text: string,
    lo: number,
    commEnd: number,
    flagsStart: number,
    flagsEnd: number,
    payloadStart: number,
    payloadEnd: number,
  ): TraceRecord {
    const v = this.view;
    if (v !== null) return fillView(v, lineNo, pid, cpu, tsNs, event, text, lo, commEnd, flagsStart, flagsEnd, payloadStart, payloadEnd);
    let commStart = lo;
    while (commStart < commEnd && isBlank(text.charCodeAt(commStart))) commStart++;
    return {
      lineNo,
      comm: text.slice(commStart, commEnd),
      pid,
      cpu,
      flags: flagsEnd > flagsStart ? text.slice(flagsStart, flagsEnd) : '',
      tsNs,
      event,
      payload: text.slice(payloadStart, payloadEnd),
    };
  }


  private reject(fault: string): null {
    this.fault = fault;
    return null;
  }

  /** `<sec>.<frac>` or a bare integer ending just before `colon`, preceded by a blank. */
  private parseTimestamp(colon: number): boolean {
    const { text, lo } = this;
    let i = colon - 1;
    const stop = colon - TS_CHARS_MAX;
    while (i >= lo && i > stop) {
      const c = text.charCodeAt(i);
      if (!isDigit(c) && c !== CH_DOT) break;
      i--;
    }
    const start = i + 1;
    if (start === colon || i < lo || !isBlank(text.charCodeAt(i))) return false;
    let sec = 0;
    let frac = 0;
    let fracDigits = -1;
    for (let k = start; k < colon; k++) {
      const c = text.charCodeAt(k);
      if (c === CH_DOT) {
        if (fracDigits >= 0 || k === start) return false;
        fracDigits = 0;
      } else if (fracDigits < 0) {
        sec = sec * 10 + (c - CH_0);
      } else {
        frac = frac * 10 + (c - CH_0);
        fracDigits++;
      }
    }
    if (fracDigits === 0 || fracDigits > FRAC_DIGITS_MAX) return false;
    // Counter clocks (x86-tsc, counter) print a bare integer: kept as is.
    // Exact below 2^53 ns (104 days of uptime); past that the nearest double,
    // which keeps the order but not the last nanoseconds.
    this.tsNs = fracDigits < 0 ? sec : sec * 1e9 + frac * NS_PER_FRAC_DIGITS[fracDigits];
    this.tsStart = start;
    return true;
  }

  /** `[<digits>]` ending at `end`, preceded by a blank. */
  private parseBracketCpu(end: number): boolean {
    const { text, lo } = this;
    let i = end - 1;
    const stop = end - 1 - CPU_DIGITS_MAX;
    while (i > stop && i >= lo && isDigit(text.charCodeAt(i))) i--;
    if (i === end - 1 || i < lo + 1 || text.charCodeAt(i) !== CH_LBRACKET) return false;
    if (!isBlank(text.charCodeAt(i - 1))) return false;
    this.cpu = digitsValue(text, i + 1, end);
    this.beforeCpu = i - 1;
    return true;
  }

  /**
   * The token ending at `end` is either the flags column (then `[cpu]` precedes
   * it) or trace-cmd's `-l` latency field, whose leading digits are the CPU: the
   * first flag (irqs-off: D d b X .) is never a digit. 0 = neither, 1 = flags,
   * 2 = latency field.
   */
  private parseFlagsToken(end: number): 0 | 1 | 2 {
    const { text, lo } = this;
    let i = end;
    const stop = end - FLAGS_CHARS_MAX - CPU_DIGITS_MAX;
    while (i >= lo && i > stop && isFlagChar(text.charCodeAt(i))) i--;
    const start = i + 1;
    if (i < lo || !isBlank(text.charCodeAt(i))) return 0;
    let flagsStart = start;
    while (flagsStart <= end && isDigit(text.charCodeAt(flagsStart))) flagsStart++;
    if (flagsStart > end || end + 1 - flagsStart > FLAGS_CHARS_MAX) return 0;
    this.flagsStart = flagsStart;
    this.flagsEnd = end + 1;
    if (flagsStart > start) {
      if (flagsStart - start > CPU_DIGITS_MAX) return 0;
      this.cpu = digitsValue(text, start, flagsStart);
      this.beforeCpu = i;
      return 2;
    }
    const cpuEnd = skipBlanksBack(text, i, lo);
    if (cpuEnd < lo || text.charCodeAt(cpuEnd) !== CH_RBRACKET) return 0;
    if (!this.parseBracketCpu(cpuEnd)) return 0;
    return 1;
  }

  /**
   * Right to left from `pidEnd`: an optional `(tgid)` column, the pid, then its
   * separator decides the family: `-` ftrace/trace-cmd, a blank or `pid/` perf.
   */
  private parseTaskAndEvent(colon: number, lineNo: number, pidEnd: number, family: LineFamily): TraceRecord | null {
    const { text, lo } = this;
    let end = pidEnd;
    let hasTgid = false;
    if (text.charCodeAt(end) === CH_RPAREN) {
      end = skipTgidBack(text, end, lo);
      if (end < lo) return this.reject(FAULT_PID);
      hasTgid = true;
    }
    let i = end;
    const stop = end - PID_DIGITS_MAX;
    while (i >= lo && i > stop && isDigit(text.charCodeAt(i))) i--;
    if (i === end || i < lo) return this.reject(FAULT_PID);
    const pid = digitsValue(text, i + 1, end + 1);
    const sep = text.charCodeAt(i);
    let commEnd: number;
    if (sep === CH_DASH) {
      commEnd = i;
    } else if (family === 'trace-cmd-latency' || hasTgid) {
      return this.reject(FAULT_PID);
    } else {
      commEnd = perfCommEnd(text, i, lo);
      if (commEnd < lo) return this.reject(FAULT_PID);
      family = 'perf-script';
    }
    const payloadStart = this.scanEvent(colon + 2);
    if (payloadStart < 0) return this.reject(FAULT_EVENT);
    this.family = family;
    const event = eventName(text, this.eventStart, this.eventEnd);
    return this.emit(lineNo, pid, this.cpu, this.tsNs, event, text, lo, commEnd, this.flagsStart, this.flagsEnd, payloadStart, this.hi);
  }

  /**
   * `[period ]name: ` from `start` (blanks first: perf right-aligns names).
   * A `sys:` prefix (perf) is dropped. Returns where the payload starts, or -1.
   */
  private scanEvent(start: number): number {
    const { text, hi } = this;
    let p = start;
    while (p < hi && isBlank(text.charCodeAt(p))) p++;
    for (let token = 0; token < 2; token++) {
      const tokenStart = p;
      let nameStart = p;
      let found = false;
      const stop = Math.min(hi, p + EVENT_CHARS_MAX);
      for (; p < stop; p++) {
        const c = text.charCodeAt(p);
        if (c === CH_COLON) {
          found = p + 1 === hi || text.charCodeAt(p + 1) === CH_SPACE;
          if (found) break;
          nameStart = p + 1;
        } else if (isBlank(c)) {
          break;
        }
      }
      if (found) {
        if (p === nameStart) return -1;
        this.eventStart = nameStart;
        this.eventEnd = p;
        return p + 1 < hi ? p + 2 : hi;
      }
      // perf script prints the sample period before the event when asked (-F period).
      if (token > 0 || p >= hi || p === tokenStart || !isBlank(text.charCodeAt(p))) return -1;
      for (let k = tokenStart; k < p; k++) if (!isDigit(text.charCodeAt(k))) return -1;
      while (p < hi && isBlank(text.charCodeAt(p))) p++;
    }
    return -1;
  }
}

/** `(  1234)` or `(-------)` ending at `end`; returns the index before its leading blanks, or lo-1. */
function skipTgidBack(text: string, end: number, lo: number): number {
  let i = end - 1;
  const stop = end - TGID_CHARS_MAX;
  let digits = 0;
  let dashes = 0;
  for (; i > stop && i >= lo; i--) {
    const c = text.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === CH_DASH) dashes++;
    else if (!isBlank(c)) break;
  }
  if (i < lo + 1 || text.charCodeAt(i) !== CH_LPAREN) return lo - 1;
  if ((digits === 0) === (dashes === 0)) return lo - 1;
  const before = i - 1;
  const pidEnd = skipBlanksBack(text, before, lo);
  return pidEnd === before ? lo - 1 : pidEnd;
}

/**
 * perf prints `comm tid` or, with `-F pid,tid`, `comm pid/tid`; the record keeps
 * the tid (the kernel task id). `sepIndex` is the character before the tid.
 * Returns the end of the comm (exclusive), or lo-1.
 */
function perfCommEnd(text: string, sepIndex: number, lo: number): number {
  let i = sepIndex;
  if (text.charCodeAt(i) === CH_SLASH) {
    const stop = i - PID_DIGITS_MAX - 1;
    i--;
    const digitsEnd = i;
    while (i >= lo && i > stop && isDigit(text.charCodeAt(i))) i--;
    if (i === digitsEnd || i < lo) return lo - 1;
  }
  if (!isBlank(text.charCodeAt(i))) return lo - 1;
  const commLast = skipBlanksBack(text, i, lo);
  return commLast < lo ? lo - 1 : commLast + 1;
}

/** `CPU:N [LOST M EVENTS]` (kernel), `CPU:N [M EVENTS DROPPED]` or `CPU:N [EVENTS DROPPED]` (trace-cmd). */
const LOST_RE = /^\s*CPU:(\d{1,6}) \[(?:LOST (\d{1,20}) EVENTS|(\d{1,20}) EVENTS DROPPED|EVENTS DROPPED)\]\s*$/;

export function parseLostMarker(line: string): LostMarker | null {
  if (line.length > 80) return null;
  const m = LOST_RE.exec(line);
  if (m === null) return null;
  const count = m[2] ?? m[3];
  return { cpu: Number(m[1]), count: count === undefined ? 0 : Number(count) };
}

/** `cpus=N`: the first line of `trace-cmd report`. */
export function parseTraceCmdCpus(line: string): number | null {
  const m = /^cpus=(\d{1,6})\s*$/.exec(line);
  return m === null ? null : Number(m[1]);
}

/** Other non-event lines trace-cmd report prints before the events (`version = 6`, `CPU 3 is empty`). */
export function isTraceCmdPreamble(line: string): boolean {
  return /^\s*(?:version = \d+|CPU \d+ is empty)\s*$/.test(line);
}

/** `#P:N` in the ftrace header line `# entries-in-buffer/entries-written: 0/0   #P:64`. */
export function parseHeaderCpus(line: string): number | null {
  const i = line.indexOf('#P:');
  if (i < 0) return null;
  const m = /^#P:(\d{1,6})/.exec(line.slice(i, i + 12));
  return m === null ? null : Number(m[1]);
}

/** A perf script `-g` callchain line: indented `<hex address> <symbol> (<dso>)`. */
export function isPerfCallchainLine(line: string): boolean {
  if (line.length === 0 || !isBlank(line.charCodeAt(0))) return false;
  return /^\s+[0-9a-f]{1,16}\s/.test(line.slice(0, 64));
}

/** Only blanks (and a stray CR or form feed). */
export function isBlankLine(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (!isBlank(c) && c !== 13 && c !== 12) return false;
  }
  return true;
}
