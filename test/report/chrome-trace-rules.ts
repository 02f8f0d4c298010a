// The Trace Event Format's rules, as Perfetto's JSON importer and
// chrome://tracing apply them (/work/shared/reference/trace-formats.md §1.4):
// the file sniffs as JSON, every event has a known phase and the fields that
// phase needs, `ts`/`dur` are finite µs, B/E pair up and X slices nest on each
// thread, counters carry numeric args, metadata names its process or thread.
// Returns the problems found; an empty list is a valid file.

const PHASES = new Set(['B', 'E', 'X', 'i', 'I', 'C', 'M', 'b', 'e', 'n', 's', 't', 'f', 'R']);
const METADATA = new Set(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index', 'process_labels']);
const PROBLEMS_MAX = 50;

interface Ev {
  name?: unknown;
  ph?: unknown;
  ts?: unknown;
  dur?: unknown;
  pid?: unknown;
  tid?: unknown;
  s?: unknown;
  id?: unknown;
  args?: unknown;
}

export interface TraceSummary {
  events: number;
  phases: Record<string, number>;
  processNames: string[];
  threadNames: string[];
  counterNames: string[];
  instantNames: string[];
}

export function validateChromeTrace(text: string): { problems: string[]; summary: TraceSummary } {
  const problems: string[] = [];
  const summary: TraceSummary = { events: 0, phases: {}, processNames: [], threadNames: [], counterNames: [], instantNames: [] };
  const bad = (msg: string): false => {
    if (problems.length < PROBLEMS_MAX) problems.push(msg);
    return false;
  };
  if (!text.startsWith('{"') && !text.startsWith('[{"')) bad('file does not start with {" or [{" (Perfetto would not sniff it as JSON)');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    bad(`not JSON: ${(e as Error).message}`);
    return { problems, summary };
  }
  const events = Array.isArray(doc) ? doc : (doc as { traceEvents?: unknown }).traceEvents;
  if (!Array.isArray(events)) {
    bad('no traceEvents array');
    return { problems, summary };
  }
  if (!Array.isArray(doc)) {
    const unit = (doc as { displayTimeUnit?: unknown }).displayTimeUnit;
    if (unit !== undefined && unit !== 'ms' && unit !== 'ns') bad(`displayTimeUnit ${String(unit)}: expected ms or ns`);
  }
  const slicesByThread = new Map<string, { ts: number; end: number; name: string }[]>();
  const openB = new Map<string, string[]>();
  const names = { p: new Set<string>(), t: new Set<string>(), c: new Set<string>(), i: new Set<string>() };
  const checkEvent = (raw: Ev, i: number): boolean => {
    const at = `event ${i}`;
    if (typeof raw !== 'object' || raw === null) return bad(`${at}: not an object`);
    const ph = raw.ph;
    if (typeof ph !== 'string' || !PHASES.has(ph)) return bad(`${at}: phase ${String(ph)} is not one Perfetto handles`);
    summary.phases[ph] = (summary.phases[ph] ?? 0) + 1;
    if (typeof raw.name !== 'string' || raw.name === '') bad(`${at}: no name`);
    if (!Number.isInteger(raw.pid)) bad(`${at}: pid ${String(raw.pid)} is not an integer`);
    if (raw.tid !== undefined && !Number.isInteger(raw.tid)) bad(`${at}: tid ${String(raw.tid)} is not an integer`);
    const thread = `${String(raw.pid)}/${String(raw.tid ?? raw.pid)}`;
    if (ph === 'M') return checkMetadata(raw, at, bad, names);
    if (typeof raw.ts !== 'number' || !Number.isFinite(raw.ts) || raw.ts < 0) bad(`${at}: ts ${String(raw.ts)} is not a finite µs value ≥ 0`);
    const ts = Number(raw.ts);
    if (raw.args !== undefined && (typeof raw.args !== 'object' || raw.args === null || Array.isArray(raw.args))) return bad(`${at}: args is not an object`);
    switch (ph) {
      case 'X': {
        if (typeof raw.dur !== 'number' || !Number.isFinite(raw.dur) || raw.dur < 0) return bad(`${at}: X without a finite dur ≥ 0`);
        const list = slicesByThread.get(thread) ?? [];
        list.push({ ts, end: ts + raw.dur, name: String(raw.name) });
        slicesByThread.set(thread, list);
        return true;
      }
      case 'B':
        openB.set(thread, [...(openB.get(thread) ?? []), String(raw.name)]);
        return true;
      case 'E': {
        const stack = openB.get(thread) ?? [];
        if (stack.length === 0) bad(`${at}: E with no open B on ${thread}`);
        stack.pop();
        return true;
      }
      case 'i':
      case 'I':
        if (raw.s !== undefined && raw.s !== 'g' && raw.s !== 'p' && raw.s !== 't') bad(`${at}: instant scope ${String(raw.s)}: expected g, p or t`);
        names.i.add(String(raw.name));
        return true;
      case 'C': {
        const args = raw.args as Record<string, unknown> | undefined;
        if (!args || Object.keys(args).length === 0) return bad(`${at}: counter without args`);
        for (const [k, v] of Object.entries(args)) {
          if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${at}: counter ${String(raw.name)} ${k}=${String(v)} is not a number`);
        }
        names.c.add(String(raw.name));
        return true;
      }
      case 'b':
      case 'e':
      case 'n':
        if (raw.id === undefined) return bad(`${at}: async event without id`);
        return true;
      default:
        return true;
    }
  };
  events.forEach((raw: Ev, i: number) => {
    checkEvent(raw, i);
  });
  for (const [thread, stack] of openB) if (stack.length > 0) bad(`${thread}: ${stack.length} B events never ended`);
  for (const [thread, list] of slicesByThread) checkNesting(thread, list, bad);
  summary.events = events.length;
  summary.processNames = [...names.p].sort();
  summary.threadNames = [...names.t].sort();
  summary.counterNames = [...names.c].sort();
  summary.instantNames = [...names.i].sort();
  return { problems, summary };
}

function checkMetadata(raw: Ev, at: string, bad: (m: string) => false, names: { p: Set<string>; t: Set<string> }): boolean {
  const name = String(raw.name);
  if (!METADATA.has(name)) return bad(`${at}: unknown metadata ${name}`);
  const args = raw.args as Record<string, unknown> | undefined;
  if (name === 'process_name' || name === 'thread_name') {
    if (typeof args?.name !== 'string' || args.name === '') return bad(`${at}: ${name} without args.name`);
    (name === 'process_name' ? names.p : names.t).add(args.name);
  }
  if (name.endsWith('sort_index') && !Number.isInteger(args?.sort_index)) return bad(`${at}: ${name} without an integer args.sort_index`);
  return true;
}

/** Slices on one thread must nest: sorted by start (longest first on ties), each ends inside its parent. */
function checkNesting(thread: string, list: { ts: number; end: number; name: string }[], bad: (m: string) => void): void {
  const sorted = [...list].sort((a, b) => a.ts - b.ts || b.end - a.end);
  const open: { ts: number; end: number; name: string }[] = [];
  for (const s of sorted) {
    while (open.length > 0 && open[open.length - 1].end <= s.ts + 1e-6) open.pop();
    const parent = open[open.length - 1];
    // Perfetto rounds µs to integer ns, so sub-ns float error in ts + dur is not an overlap.
    if (parent && s.end > parent.end + 1e-6) {
      bad(`${thread}: slice ${s.name} [${s.ts}, ${s.end}] overlaps ${parent.name} [${parent.ts}, ${parent.end}] without nesting`);
    }
    open.push(s);
  }
}
