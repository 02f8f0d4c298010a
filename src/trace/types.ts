// Records produced by the trace reader (src/trace/reader.ts) and consumed by the
// replay. One record per event line of ftrace text, `trace-cmd report` or
// `perf script` output, whichever format the input turns out to be.

/** Input format, auto-detected from the first lines. */
export type TraceFormat = 'ftrace' | 'trace-cmd' | 'perf-script';

/** One event line. `event` has no subsystem prefix (`sched_switch`, not `sched:sched_switch`). */
export interface TraceRecord {
  /** 1-based line number in the (decompressed) input. */
  lineNo: number;
  /** comm of the task that was running when the event fired (`<...>` when unknown to ftrace). */
  comm: string;
  /** kernel task id of that task; 0 is the idle task. */
  pid: number;
  /** CPU whose ring buffer holds the event. */
  cpu: number;
  /** The irq-info flags column (`d..2.`), or '' when the format has none. */
  flags: string;
  /** Timestamp in integer nanoseconds (µs-precision input is multiplied by 1000). */
  tsNs: number;
  event: string;
  /** Everything after `event: `, verbatim. */
  payload: string;
}

/** A `CPU:N [LOST M EVENTS]` line: that CPU's state is unknown until it re-converges. */
export interface LostEvents {
  lineNo: number;
  cpu: number;
  count: number;
}

/** What a reader saw besides records; reported by `kstack replay`, never silently dropped. */
export interface ReaderStats {
  format: TraceFormat;
  lines: number;
  records: number;
  /** Lines that looked like neither an event, a header, nor a lost-events marker. */
  skippedLines: number;
  /** The first few skipped lines, with their numbers, for the error report. */
  skippedExamples: { lineNo: number; text: string; reason: string }[];
  lost: LostEvents[];
  /** `cpus=N` (trace-cmd) or `#P:N` (ftrace header), when the input says so. */
  cpusDeclared: number | null;
  /** The input ended inside a gzip member or in the middle of a line. */
  truncated: boolean;
}
