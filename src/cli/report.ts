// kstack report: one self-contained HTML file about a simulation or a trace,
// with the what-if table across configs, the validation confusion matrix when
// the trace carries its own answer key, and charts over time.
import { basename } from 'node:path';
import { type KernelConfig, parseSet, resolveConfigs } from '../config/index.ts';
import type { Tracer } from '../kernel/events.ts';
import { type ReplayOptions, type ReplayResult, replayTrace } from '../replay/replay.ts';
import { type ReportConfusion, type ReportInput, type ReportRun, reportHtml } from '../report/html.ts';
import { observedEvents } from '../report/observed.ts';
import { SeriesRecorder, windowNsFor } from '../report/series.ts';
import { type SimResult, runSim } from '../sim/run.ts';
import { PerfettoTracer, writePerfetto } from '../trace/perfetto.ts';
import { TeeTracer } from '../kernel/events.ts';
import { EXIT_FINDINGS, EXIT_OK, intOption, listOption, parse, UsageError } from './args.ts';
import { writeAtomic } from './io.ts';

export const help = `usage: kstack report (--sim WORKLOAD | --trace FILE) [--config C1,C2,...] -o report.html
                    [--cpus N] [--placement P] [--ops N] [--seed S] [--set K=V[,V...]]...
                    [--windows N] [--perfetto FILE.json]

Writes one self-contained HTML file (no network needed to view it): the what-if
table across configs, stack-cache hit rate per CPU over time, stack memory,
RCU-pending stacks, vmap_lazy_nr, cache occupancy, the run's parameters and seed,
and for a trace the validation confusion matrix. Same input, same bytes.

  --sim W          simulate workload W (kstack sim --help lists them) under each config
  --trace FILE     replay a trace (ftrace text, trace-cmd report, perf script; .gz ok)
                   under each config, validated against its vmalloc events
  --config C,...   presets (default linux-4.8,linux-4.9,linux-6.18)
  --set K=V        override a knob; K=V1,V2 sweeps
  --cpus N         simulated CPUs (default 2); for --trace: default from NAME.meta.json
  --placement P    default or pin:CPU (--sim; default: default)
  --ops N          workload operations (--sim; default 20000)
  --seed S         seed (--sim; default 1)
  --windows N      time windows in the charts (default 400)
  --perfetto FILE  also write the runs as a Chrome JSON trace for ui.perfetto.dev (--sim)
  -o, --output F   the HTML file to write (required)

Exit status 1 if a run found a violation, 2 on bad usage or input.
`;

const DEFAULT_CONFIGS = ['linux-4.8', 'linux-4.9', 'linux-6.18'];

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    sim: { type: 'string' },
    trace: { type: 'string' },
    config: { type: 'string', short: 'c', multiple: true },
    set: { type: 'string', multiple: true },
    cpus: { type: 'string' },
    placement: { type: 'string', short: 'p' },
    ops: { type: 'string', short: 'n' },
    seed: { type: 'string' },
    windows: { type: 'string' },
    perfetto: { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (!values.output) throw new UsageError('-o FILE.html is required');
  if ((values.sim === undefined) === (values.trace === undefined)) throw new UsageError('give exactly one of --sim WORKLOAD or --trace FILE');
  const names = (values.config ?? []).flatMap((c) => listOption(c));
  const configs = resolveConfigs({ names: names.length > 0 ? names : DEFAULT_CONFIGS, sets: (values.set ?? []).map(parseSet) });
  const windows = intOption(values.windows, '--windows', 400, 10, 5000);
  const configArg = `--config ${configs.map((c) => c.name.split('+')[0]).filter((n, i, a) => a.indexOf(n) === i).join(',')}${(values.set ?? []).map((s) => ` --set ${s}`).join('')}`;
  let input: ReportInput;
  let findings = 0;
  if (values.sim !== undefined) {
    if (values.trace !== undefined) throw new UsageError('--sim and --trace are exclusive');
    const req = {
      workload: values.sim,
      cpus: intOption(values.cpus, '--cpus', 2, 1, 256),
      placement: values.placement ?? 'default',
      ops: intOption(values.ops, '--ops', 20000, 1, 1e7),
      seed: intOption(values.seed, '--seed', 1, 0, 2 ** 32 - 1),
    };
    const r = simReport(configs, req, windows, values.perfetto !== undefined);
    input = r.input;
    input.command = `kstack report --sim ${req.workload} ${configArg} --cpus ${req.cpus} --placement ${req.placement} --ops ${req.ops} --seed ${req.seed} -o ${basename(values.output)}`;
    findings = r.findings;
    if (values.perfetto) await writePerfetto(values.perfetto, r.perfetto);
  } else {
    if (values.perfetto) throw new UsageError('--perfetto goes with --sim; for a trace, open the trace itself in ui.perfetto.dev');
    const cpus = values.cpus === undefined ? undefined : intOption(values.cpus, '--cpus', 2, 1, 256);
    input = await traceReport(String(values.trace), configs, cpus, windows);
    input.command = `kstack report --trace ${values.trace} ${configArg}${cpus ? ` --cpus ${cpus}` : ''} -o ${basename(values.output)}`;
  }
  await writeAtomic(values.output, reportHtml(input));
  process.stderr.write(`kstack report: wrote ${values.output}${values.perfetto ? ` and ${values.perfetto}` : ''}\n`);
  return findings > 0 ? EXIT_FINDINGS : EXIT_OK;
}

// ------------------------------------------------------------------ simulation

interface SimArgs {
  workload: string;
  cpus: number;
  placement: string;
  ops: number;
  seed: number;
}

export function simReport(configs: KernelConfig[], req: SimArgs, windows: number, withPerfetto: boolean): { input: ReportInput; findings: number; perfetto: PerfettoTracer[] } {
  const results: SimResult[] = [];
  const recorders: SeriesRecorder[] = [];
  const perfetto: PerfettoTracer[] = [];
  for (const config of configs) {
    const rec = new SeriesRecorder(req.cpus);
    const sinks: Tracer[] = [rec];
    let pt: PerfettoTracer | null = null;
    if (withPerfetto) {
      pt = new PerfettoTracer({ label: `${config.name} · ${req.workload}`, cpuCount: req.cpus, params: { ...req } });
      sinks.push(pt);
    }
    const r = runSim({ config, ...req, tracer: sinks.length === 1 ? rec : new TeeTracer(sinks) });
    if (pt) {
      pt.finish({ peakStackKiB: r.peakStackKiB });
      perfetto.push(pt);
    }
    results.push(r);
    recorders.push(rec);
  }
  const windowNs = windowNsFor(Math.max(...recorders.map((r) => r.endNs)), windows);
  const runs: ReportRun[] = results.map((r, i) => ({ label: r.config, series: recorders[i].windowed(windowNs, windows, r.peakStackKiB) }));
  const vmap = (r: SimResult): boolean => r.stackCache.hits + r.stackCache.misses > 0;
  const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
  const findings: string[] = [];
  for (const r of results) {
    if (r.boundHit) findings.push(`${r.config}: stopped at a bound: ${r.boundHit}`);
    for (const v of r.violations.slice(0, 5)) findings.push(`${r.config}: ${v.kind} at ${v.tsNs} ns on cpu${v.cpu}: ${v.message}`);
    for (const p of r.invariantProblems.slice(0, 5)) findings.push(`${r.config}: invariant: ${p}`);
  }
  const first = results[0];
  const input: ReportInput = {
    title: `kstack report: ${req.workload} on ${req.cpus} CPUs`,
    subtitle: `${results.map((r) => r.config).join(' vs ')} · placement ${req.placement} · ${req.ops} ops · seed ${req.seed}`,
    params: [
      ['source', 'simulation (kstack sim)'],
      ['workload', req.workload],
      ['CPUs', String(req.cpus)],
      ['placement', first?.placement ?? req.placement],
      ['ops', String(req.ops)],
      ['seed', String(req.seed)],
      ['configs', results.map((r) => r.config).join(', ')],
      ['chart window', `${windowNs / 1000} µs × ${windows}`],
    ],
    columns: [
      { title: 'µs/op', hint: 'modelled time per workload operation' },
      { title: 'hits' },
      { title: 'misses' },
      { title: 'hit rate', hint: 'stack-cache hits / stack allocations (vmapped configs)' },
      { title: 'vmallocs', hint: 'fresh __vmalloc_node_range stacks' },
      { title: 'vfrees' },
      { title: 'purges', hint: 'lazy vmap purges (each one TLB flush)' },
      { title: 'TLB IPIs' },
      { title: 'cold stacks', hint: 'stacks reused after leaving the CPU caches' },
      { title: 'peak KiB', hint: 'peak stack memory' },
      { title: 'peak RCU', hint: 'peak RCU-pending stacks' },
      { title: 'violations' },
    ],
    rows: results.map((r) => ({
      label: r.config,
      cells: [
        r.usPerOp.toFixed(3),
        vmap(r) ? r.stackCache.hits : '–',
        vmap(r) ? r.stackCache.misses : '–',
        vmap(r) ? pct(r.stackCache.hitRate) : '–',
        r.vmallocs,
        r.vfrees,
        r.purges,
        r.tlbFlushIpis,
        r.coldStacks,
        r.peakStackKiB,
        r.peakRcuPendingStacks,
        r.violations.length + r.invariantProblems.length,
      ],
    })),
    runs,
    confusion: [],
    findings,
    notes: ['Stack memory counts every live stack: in use, cached, RCU-pending, awaiting vfree. 4.8 has no cache, so no hit rate.'],
    command: '',
  };
  return { input, findings: findings.length, perfetto };
}

// ----------------------------------------------------------------------- trace

async function traceReport(file: string, configs: KernelConfig[], cpus: number | undefined, windows: number): Promise<ReportInput> {
  const results: ReplayResult[] = [];
  const recorders: (SeriesRecorder | null)[] = [];
  // What the kernel did, first: it fixes time zero (the trace's first record) for every chart.
  let originNs = 0;
  const observed = new SeriesRecorder(cpus ?? 1);
  const threadSize = 4096 << (configs.find((c) => c.VMAP_STACK)?.THREAD_SIZE_ORDER ?? 2);
  const stats = await observedEvents(file, threadSize, observed, (ts) => {
    originNs = ts;
    observed.originNs = ts;
  });
  for (const config of configs) {
    let rec: SeriesRecorder | null = null;
    // The replay hands the primary model's events to a tracer built once it knows the CPU count.
    const opts: ReplayOptions = {
      config,
      validate: true,
      cpus,
      makeTracer: (n) => {
        rec = new SeriesRecorder(n, originNs);
        return rec;
      },
    };
    results.push(await replayTrace(file, opts));
    const got = rec as SeriesRecorder | null;
    recorders.push(got !== null && got.events > 0 ? got : null);
  }
  const cpuCount = results[0]?.cpus ?? cpus ?? 1;
  const all = [observed, ...recorders.filter((r): r is SeriesRecorder => r !== null)];
  const windowNs = windowNsFor(Math.max(...all.map((r) => r.endNs)), windows);
  const runs: ReportRun[] = [{ label: 'kernel (observed in the trace)', series: observed.windowed(windowNs, windows, null, false) }];
  results.forEach((r, i) => {
    const rec = recorders[i];
    if (rec) runs.push({ label: `model: ${r.config}`, series: rec.windowed(windowNs, windows, r.model.peakStackBytes / 1024) });
  });
  const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(2)}%`);
  const vmapped = (i: number): boolean => configs[i].VMAP_STACK;
  const confusion: ReportConfusion[] = results
    .filter((r, i) => vmapped(i) && r.validated && r.scored > 0)
    .map((r) => ({ config: r.config, ...r.confusion, scored: r.scored, agreement: r.agreement, perCpu: r.perCpu.map((p) => ({ cpu: p.cpu, scored: p.scored, agreement: p.agreement })) }));
  const head = results[0];
  const observedTakes = observed.hitsNs.reduce((a, l) => a + l.length, 0) + observed.missesNs.reduce((a, l) => a + l.length, 0);
  const observedMisses = observed.missesNs.reduce((a, l) => a + l.length, 0);
  const findings: string[] = [];
  for (const r of results) {
    if (r.anomalies.modelErrors > 0) findings.push(`${r.config}: ${r.anomalies.modelErrors} events the model could not take (${r.anomalies.modelErrorExamples[0] ?? ''})`);
  }
  return {
    title: `kstack report: ${basename(file)}`,
    subtitle: `replayed under ${results.map((r) => r.config).join(', ')} · ${cpuCount} CPUs · ${head?.lines ?? 0} lines, ${head?.events ?? 0} events`,
    params: [
      ['source', `trace ${file}`],
      ['format', stats.format],
      ['lines', String(stats.lines)],
      ['CPUs', String(cpuCount)],
      ['lost events', String(stats.lost.reduce((a, l) => a + l.count, 0))],
      ['configs', results.map((r) => r.config).join(', ')],
      ['seed', 'none: a replay has no random choices'],
      ['chart window', `${windowNs / 1000} µs × ${windows}`],
    ],
    columns: [
      { title: 'forks' },
      { title: 'scored', hint: 'forks whose prediction did not depend on the unknown starting cache fill' },
      { title: 'agreement', hint: 'predicted hit/miss = observed, of scored forks' },
      { title: 'misses' },
      { title: 'hit rate' },
      { title: 'vfrees (model / kernel)' },
      { title: 'purges (model / kernel)' },
      { title: 'peak KiB' },
      { title: 'peak RCU' },
    ],
    rows: [
      {
        label: 'kernel (observed)',
        cells: [observedTakes, '–', '–', observedMisses, pct(observedTakes ? 1 - observedMisses / observedTakes : null), head?.vfrees.observed ?? 0, head?.purges.observed ?? 0, '–', '–'],
      },
      ...results.map((r, i) => ({
        label: r.config,
        cells: [
          r.model.forks,
          vmapped(i) ? r.scored : '–',
          vmapped(i) ? pct(r.agreement) : '–',
          r.model.misses,
          vmapped(i) && r.model.forks > 0 ? pct(r.model.hits / r.model.forks) : '–',
          `${r.vfrees.predicted} / ${r.vfrees.observed}`,
          `${r.purges.predicted} / ${r.purges.observed}`,
          r.model.peakStackBytes / 1024,
          r.model.peakRcuPendingStacks,
        ],
      })),
    ],
    runs,
    confusion,
    findings,
    notes: [
      'The kernel row is what the trace says: a fork missed when its parent ran a stack-sized alloc_vmap_area.',
      recorders.some((r) => r !== null)
        ? 'Model charts come from the replay driving the model.'
        : 'The replay does not hand out the model’s event stream yet, so the charts show the kernel as traced; the table has the model’s totals.',
    ],
    command: '',
  };
}
