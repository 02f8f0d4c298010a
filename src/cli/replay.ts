// `kstack replay FILE...`: drive the model from real traces; --validate scores
// every fork's predicted cache hit/miss against the trace's own vmalloc events;
// several configs (--config a,b / --set K=V1,V2) give a what-if table.
import { basename } from 'node:path';
import { TeeTracer, type Tracer } from '../kernel/events.ts';
import { FtraceTextTracer } from '../trace/ftrace-writer.ts';
import { PerfettoTracer, writePerfetto } from '../trace/perfetto.ts';
import { writeAtomic } from './io.ts';
import { ConfigError, type KernelConfig, type KnobSetting, parseSet, resolveConfigs } from '../config/index.ts';
import { type ReplayResult, replayTrace } from '../replay/replay.ts';
import { EXIT_FINDINGS, EXIT_OK, listOption, parse, progress, UsageError } from './args.ts';

export const help = `usage: kstack replay FILE... [--config C[,C2...]] [--set K=V[,V2...]] [--validate]
                     [--min-agreement X] [--cpus N] [--disagreements N] [--events FILE] [--perfetto FILE] [--quiet] [--json]

Replays ftrace text (trace_pipe / trace, trace-cmd report, perf script; .gz ok;
'-' for stdin) through the kernel model, predicting each fork's stack-cache
hit or miss. The prediction never reads the vmalloc:* events.

  --validate           score predictions against the stack-sized alloc_vmap_area
                       in the parent (the answer key); confusion matrix, per-CPU
                       breakdown, predicted vs observed stack vfrees and purges,
                       the first disagreements with the lines around them.
                       A predicted total shows its spread over the starting
                       fills when they differ; "+N unclassified" counts frees
                       of pre-trace areas the answer key cannot tell from stacks
                       (none when NAME.meta.json lists the stacks alive at the
                       start, as kstack record's does: "N stacks listed at start").
                       "RCU grace periods" says whether they were read off the
                       grace-period kthread's timer (kstack record's traces),
                       off its runs and who woke each (traces without the timer;
                       JSON gracePeriods.source "kthread-wakeups"), or
                       estimated from sched_process_free (no kthread named)
  --min-agreement X    with --validate: exit 1 if agreement < X (0..1 or a %),
                       naming each trace below X on stderr
  --config C,...       presets (default linux-6.18); several give a what-if table
                       (vfrees show "+N queued" for stacks still waiting for a
                       kworker when the trace ended: freed after it)
  --set K=V,...        knob overrides; comma lists sweep (e.g. NR_CACHED_STACKS=1,2,4,8)
  --cpus N             CPU count (default: NAME.meta.json nr_cpus, else the trace)
  --disagreements N    how many disagreements to list (default 10)
  --events FILE        write the model's events during the replay as ftrace text
  --perfetto FILE      write a Chrome JSON trace (Perfetto UI) of the replay; one process per config
  --quiet, -q          no progress line (it shows on a TTY for replays over a second)
  --json               machine-readable output (an array for several files or configs)

exit: 0 ok, 1 agreement below --min-agreement, 2 bad usage or input
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      config: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      validate: { type: 'boolean' },
      'min-agreement': { type: 'string' },
      cpus: { type: 'string' },
      disagreements: { type: 'string' },
      events: { type: 'string' },
      perfetto: { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (positionals.length === 0) throw new UsageError('expected at least one trace FILE (or - for stdin)');
  const names = (values.config ?? []).flatMap((c) => listOption(c));
  const sets = (values.set ?? []).map((s) => parseSet(s));
  const configs = whatIfConfigs(names, sets);
  const minAgreement = values['min-agreement'] === undefined ? null : parseFraction(values['min-agreement']);
  if (minAgreement !== null && !values.validate) throw new UsageError('--min-agreement needs --validate');
  const cpus = values.cpus === undefined ? undefined : positiveInt(values.cpus, '--cpus', 256);
  const maxDis = values.disagreements === undefined ? 10 : positiveInt(values.disagreements, '--disagreements', 10000);
  const validate = !!values.validate;

  if ((values.events || values.perfetto) && positionals.length > 1) throw new UsageError('--events/--perfetto write one trace\'s replay: give one FILE');
  if (values.events && configs.length > 1) throw new UsageError('--events writes one replay: give one config');
  const results: ReplayResult[] = [];
  const perfettoRuns: PerfettoTracer[] = [];
  for (const file of positionals) {
    for (const config of configs) {
      let text: FtraceTextTracer | null = null;
      let pf: PerfettoTracer | null = null;
      const makeTracer = (n: number): Tracer | undefined => {
        const sinks: Tracer[] = [];
        if (values.events) sinks.push((text = new FtraceTextTracer(n)));
        if (values.perfetto) sinks.push((pf = new PerfettoTracer({ label: `${config.name} · ${basename(file)}`, cpuCount: n, params: { trace: basename(file) } })));
        return sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : new TeeTracer(sinks);
      };
      const bar = progress(!!values.quiet);
      const onProgress = (n: number): void => bar.update(() => `kstack replay: ${basename(file)} (${config.name}): ${n.toLocaleString('en')} events`);
      const r = await replayTrace(file, { config, validate, cpus, maxDisagreements: maxDis, makeTracer, onProgress });
      bar.done();
      results.push(r);
      if (text && values.events) await writeAtomic(values.events, (text as FtraceTextTracer).text());
      if (pf) {
        (pf as PerfettoTracer).finish({ peakStackKiB: r.model.peakStackBytes / 1024 });
        perfettoRuns.push(pf);
      }
    }
  }
  if (values.perfetto) await writePerfetto(values.perfetto, perfettoRuns);
  if (values.json) {
    const out = results.map(toJson);
    process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
  } else {
    for (const file of positionals) {
      const mine = results.filter((r) => r.trace === file);
      if (validate) for (const r of mine) process.stdout.write(renderValidation(r));
      if (configs.length > 1 || !validate) process.stdout.write(renderWhatIf(file, mine));
    }
  }
  if (minAgreement !== null) {
    // Every trace below the bar is named, not just the first.
    let below = false;
    for (const r of results) {
      if (r.agreement !== null && r.agreement >= minAgreement) continue;
      below = true;
      const got = r.agreement === null ? 'no scored forks' : `agreement ${pct(r.agreement)}`;
      process.stderr.write(`kstack replay: ${r.trace} (${r.config}): ${got}, below --min-agreement ${pct(minAgreement)}\n`);
    }
    if (below) return EXIT_FINDINGS;
  }
  return EXIT_OK;
}

/** A fraction as a percentage with two decimals (n/a for none). */
const pct = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);

/** The --json shape: the issue's required keys first, then the detail. */
export function toJson(r: ReplayResult): Record<string, unknown> {
  return {
    trace: r.trace,
    config: r.config,
    events: r.events,
    forks: r.forks,
    scored: r.scored,
    burnIn: r.burnIn,
    agreement: r.agreement,
    confusion: r.confusion,
    vfrees: r.vfrees,
    purges: r.purges,
    disagreements: r.disagreements,
    perCpu: r.perCpu,
    excludedLost: r.excludedLost,
    failedForks: r.failedForks,
    stackAllocsObserved: r.stackAllocsObserved,
    stacksAtStart: r.stacksAtStart,
    model: r.model,
    convergedAtLine: r.convergedAtLine,
    lostEvents: r.lostEvents,
    anomalies: r.anomalies,
    gracePeriods: r.gracePeriods,
    reader: r.reader,
    cpus: r.cpus,
  };
}

function renderValidation(r: ReplayResult): string {
  const c = r.confusion;
  const lines = [
    `${r.trace} (${r.config}, ${r.cpus} CPUs): ${r.events} events, ${r.forks} forks`,
    `  scored ${r.scored}, burn-in ${r.burnIn} (prediction depended on the unknown starting cache fill)` +
      (r.excludedLost > 0 ? `, ${r.excludedLost} excluded after lost events` : '') +
      (r.failedForks > 0 ? `, ${r.failedForks} failed in the model` : ''),
    `  agreement ${pct(r.agreement)}`,
    '                 observed hit  observed miss',
    `  predicted hit  ${String(c.hitHit).padStart(12)}  ${String(c.hitMiss).padStart(13)}`,
    `  predicted miss ${String(c.missHit).padStart(12)}  ${String(c.missMiss).padStart(13)}`,
    `  stack vfrees: predicted ${predicted(r.vfrees)}, observed ${observed(r.vfrees)}${r.stacksAtStart === null ? '' : ` (${r.stacksAtStart} stacks listed at start)`}; purges: predicted ${predicted(r.purges)}, observed ${r.purges.observed}`,
  ];
  for (const p of r.perCpu) {
    lines.push(
      `  cpu${p.cpu}: ${p.forks} forks, scored ${p.scored}, agreement ${pct(p.agreement)}, hit/hit ${p.confusion.hitHit} hit/miss ${p.confusion.hitMiss} miss/hit ${p.confusion.missHit} miss/miss ${p.confusion.missMiss}, vfrees ${p.vfreesPredicted}/${p.vfreesObserved}`,
    );
  }
  if (r.lostEvents.length > 0) lines.push(`  lost events: ${r.lostEvents.map((l) => `cpu${l.cpu} line ${l.lineNo} (${l.count})`).join(', ')}`);
  const a = r.anomalies;
  lines.push(
    `  trace anomalies: ${a.adopted} tasks adopted (born before the trace), ${a.phantomSwitches} missing switches, ${a.pidSwaps} exec pid swaps, ${a.exitsMissing} exits not seen, ${a.unparsed} unparsed, ${a.modelErrors} model errors`,
  );
  for (const e of a.modelErrorExamples) lines.push(`    ${e}`);
  const g = r.gracePeriods;
  lines.push(
    g.source === 'kthread-timer'
      ? `  RCU grace periods: ${g.started} started, ${g.ended} ended, read off the grace-period kthread's FQS timer`
      : g.source === 'kthread-wakeups'
        ? `  RCU grace periods: ${g.started} started, ${g.ended} ended, read off the grace-period kthread's runs and who woke it (no timer:timer_start/timer_cancel of it in the trace; kstack record adds them)`
        : '  RCU grace periods: estimated (the trace shows neither the grace-period kthread\'s timer nor enough of its runs; kstack record adds the timer)',
  );
  for (const d of r.disagreements) {
    lines.push(`  disagreement at line ${d.lineNo} (cpu${d.cpu}, parent ${d.parentPid} → ${d.childPid}): predicted ${d.predicted}, kernel ${d.observed}${d.allocLineNo > 0 ? ` (alloc_vmap_area line ${d.allocLineNo})` : ''}`);
    for (const l of d.context) lines.push(`      ${l}`);
  }
  return `${lines.join('\n')}\n\n`;
}

function renderWhatIf(file: string, rs: ReplayResult[]): string {
  const header = ['config', 'forks', 'misses', 'vfrees', 'purges', 'peak stack MiB', 'peak RCU-pending', 'alloc ms', 'free ms'];
  const rows = rs.map((r) => [
    r.config,
    String(r.model.forks),
    String(r.model.misses),
    r.model.vfreesQueuedAtEnd > 0 ? `${r.model.vfrees} (+${r.model.vfreesQueuedAtEnd} queued)` : String(r.model.vfrees),
    String(r.model.purges),
    (r.model.peakStackBytes / 1048576).toFixed(2),
    String(r.model.peakRcuPendingStacks),
    (r.model.stackAllocNs / 1e6).toFixed(3),
    (r.model.stackFreeNs / 1e6).toFixed(3),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]): string => row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return `${file}: what-if (modelled time from the cost table)\n${[fmt(header), ...rows.map(fmt)].map((l) => `  ${l}`).join('\n')}\n\n`;
}

/**
 * Every preset × every --set combination; a sweep that a preset cannot take
 * (NR_CACHED_STACKS on 4.8's page stacks) runs that preset as it is, with a note.
 */
function whatIfConfigs(names: string[], sets: KnobSetting[]): KernelConfig[] {
  if (names.length <= 1 || sets.length === 0) return resolveConfigs({ names, sets });
  const out: KernelConfig[] = [];
  for (const n of names) {
    try {
      out.push(...resolveConfigs({ names: [n], sets }));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      process.stderr.write(`kstack replay: ${n}: --set not applicable (${e.message}); running the preset as is\n`);
      out.push(...resolveConfigs({ names: [n], sets: [] }));
    }
  }
  return out;
}

function parseFraction(v: string): number {
  const pct = v.endsWith('%');
  const n = Number(pct ? v.slice(0, -1) : v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--min-agreement ${v}: expected a number like 0.995 or 99.5%`);
  const x = pct || n > 1 ? n / 100 : n;
  if (x > 1) throw new UsageError(`--min-agreement ${v}: at most 1 (100%)`);
  return x;
}

function positiveInt(v: string, name: string, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) throw new UsageError(`${name} ${v}: expected a whole number from 1 to ${max}`);
  return Number(v);
}

/** A predicted total, with the spread the unknown starting fill leaves when there is one. */
function predicted(t: ReplayResult['vfrees']): string {
  return t.predictedMin === t.predictedMax ? String(t.predicted) : `${t.predicted} (${t.predictedMin}-${t.predictedMax} over the starting fills)`;
}

/**
 * An observed total, with the frees the answer key could not classify: the
 * first free_vmap_area_noflush after the trace starts or after a purge, of a
 * THREAD_SIZE-aligned area allocated before the trace, has no nr_lazy before
 * it to tell a stack's 5 pages by.
 */
function observed(t: ReplayResult['vfrees']): string {
  const n = t.observedUnclassified;
  return n === 0 ? String(t.observed) : `${t.observed} (+${n} unclassified)`;
}
