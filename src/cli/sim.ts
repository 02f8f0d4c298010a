// kstack sim: one workload under one or more configs, a row per config.
import { parseSet, resolveConfigs } from '../config/index.ts';
import { isMutation, MUTATIONS, type Mutation } from '../kernel/mutations.ts';
import { formatTable, pct } from '../report/table.ts';
import { type SimResult, runSim } from '../sim/run.ts';
import { WORKLOADS } from '../sim/workloads.ts';
import { TeeTracer, type Tracer } from '../kernel/events.ts';
import { FtraceTextTracer } from '../trace/ftrace-writer.ts';
import { PerfettoTracer, writePerfetto } from '../trace/perfetto.ts';
import { EXIT_FINDINGS, EXIT_OK, intOption, listOption, parse, progress, UsageError } from './args.ts';
import { writeAtomic } from './io.ts';

export const help = `usage: kstack sim --workload W [--config C1,C2,...] [--cpus N] [--placement P] [--ops N]
                 [--seed S] [--set K=V[,V...]]... [--kconfig FILE] [--mutate M] [--events FILE] [--perfetto FILE]
                 [--traced] [--quiet] [--json]

Simulates a synthetic workload on the kernel model under each config.

  --workload W     ${Object.keys(WORKLOADS).join(', ')}
                   with parameters as name:key=value,... (e.g. burst:k=4, messaging:groups=20)
  --config C,...   presets (kstack configs lists them); default linux-6.18
  --cpus N         CPUs (default 2)
  --placement P    default (Linux fork balancing + wake-affine) or pin:CPU (default: default)
  --ops N          workload operations (default 20000; see kstack configs for what an op is)
  --seed S         seed for every random choice (default 1); printed in the output
  --set K=V        override a knob; K=V1,V2 sweeps (one row per value)
  --kconfig FILE   read VMAP_STACK, THREAD_INFO_IN_TASK, KASAN, MEMCG from a kernel .config (plain or .gz)
  --mutate M       run with a known bug: ${Object.keys(MUTATIONS).join(', ')}
  --events FILE    write the model's events as ftrace text (one config only)
  --perfetto FILE  write a Chrome JSON trace for ui.perfetto.dev / chrome://tracing: a track
                   per CPU with task runs and stack events, counters for each CPU's cache,
                   RCU-pending stacks, stack memory and vmap_lazy_nr; one process per config
  --traced         model a run recorded with tracing on: every recorded tracepoint costs
                   tracepointNs (1.5 µs on the reference VM), as in the public traces
  --quiet, -q      no progress line (it shows on a TTY for runs over a second)
  --json           machine-readable output (schema in README)

Columns: modelled µs per op; stack cache hits, misses and hit rate; fresh vmallocs; vfrees;
lazy purges; TLB flush IPIs; peak stack memory; peak RCU-pending stacks; violations.
Exit status 1 if the model found a violation (use-after-free, leak, ...).
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    workload: { type: 'string', short: 'w' },
    config: { type: 'string', short: 'c' },
    cpus: { type: 'string' },
    placement: { type: 'string', short: 'p' },
    ops: { type: 'string', short: 'n' },
    seed: { type: 'string' },
    set: { type: 'string', multiple: true },
    kconfig: { type: 'string' },
    mutate: { type: 'string', multiple: true },
    events: { type: 'string' },
    perfetto: { type: 'string' },
    traced: { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
  });
  if (!values.workload) throw new UsageError('--workload is required (kstack sim --help)');
  const configs = resolveConfigs({ names: listOption(values.config), sets: (values.set ?? []).map(parseSet), kconfig: values.kconfig });
  const cpus = intOption(values.cpus, '--cpus', 2, 1, 256);
  const ops = intOption(values.ops, '--ops', 20000, 1, 1e9);
  const seed = intOption(values.seed, '--seed', 1, 0, 2 ** 32 - 1);
  const mutations: Mutation[] = [];
  for (const m of values.mutate ?? []) {
    if (!isMutation(m)) throw new UsageError(`--mutate ${m}: expected one of ${Object.keys(MUTATIONS).join(', ')}`);
    mutations.push(m);
  }
  if (values.events && configs.length > 1) throw new UsageError('--events writes one run: give one config');
  const results: SimResult[] = [];
  const perfettoRuns: PerfettoTracer[] = [];
  const placement = values.placement ?? 'default';
  for (const config of configs) {
    const sinks: Tracer[] = [];
    const text = values.events ? new FtraceTextTracer(cpus) : null;
    if (text) sinks.push(text);
    const pf = values.perfetto
      ? new PerfettoTracer({ label: `${config.name} · ${values.workload}`, cpuCount: cpus, params: { workload: values.workload, placement, ops, seed } })
      : null;
    if (pf) sinks.push(pf);
    const tracer = sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : new TeeTracer(sinks);
    const bar = progress(!!values.quiet);
    const onProgress = (done: number, total: number): void =>
      bar.update(() => `kstack sim: ${config.name}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} ops`);
    const r = runSim({ config, workload: values.workload, cpus, placement, ops, seed, tracer, mutations, traced: values.traced, onProgress });
    bar.done();
    if (text && values.events) await writeAtomic(values.events, text.text());
    if (pf) {
      pf.finish({ peakStackKiB: r.peakStackKiB });
      perfettoRuns.push(pf);
    }
    results.push(r);
  }
  if (values.perfetto) await writePerfetto(values.perfetto, perfettoRuns);
  if (values.json) process.stdout.write(`${JSON.stringify({ runs: results }, null, 2)}\n`);
  else process.stdout.write(simTable(results));
  return results.some((r) => r.violations.length > 0 || r.invariantProblems.length > 0) ? EXIT_FINDINGS : EXIT_OK;
}

export function simTable(results: readonly SimResult[]): string {
  const head = results[0];
  const title = head
    ? `workload ${head.workload}, ${head.cpus} CPUs, placement ${head.placement}, ${head.ops} ops, seed ${head.seed}${head.traced ? ', traced' : ''}\n\n`
    : '';
  const vmap = (r: SimResult): boolean => r.stackCache.hits + r.stackCache.misses > 0;
  const body = formatTable(results, [
    { title: 'config', get: (r) => r.config },
    { title: 'µs/op', get: (r) => r.usPerOp },
    { title: 'hits', get: (r) => (vmap(r) ? r.stackCache.hits : '-') },
    { title: 'misses', get: (r) => (vmap(r) ? r.stackCache.misses : '-') },
    { title: 'hit rate', get: (r) => (vmap(r) ? pct(r.stackCache.hitRate) : '-') },
    { title: 'vmallocs', get: (r) => r.vmallocs },
    { title: 'vfrees', get: (r) => r.vfrees },
    { title: 'purges', get: (r) => r.purges },
    { title: 'TLB IPIs', get: (r) => r.tlbFlushIpis },
    { title: 'peak KiB', get: (r) => r.peakStackKiB },
    { title: 'peak RCU', get: (r) => r.peakRcuPendingStacks },
    { title: 'violations', get: (r) => r.violations.length + r.invariantProblems.length },
  ]);
  const notes: string[] = [];
  for (const r of results) {
    if (r.boundHit) notes.push(`${r.config}: stopped at a bound: ${r.boundHit}`);
    for (const v of r.violations.slice(0, 3)) notes.push(`${r.config}: ${v.kind} at ${v.tsNs} ns: ${v.message}`);
    for (const p of r.invariantProblems.slice(0, 3)) notes.push(`${r.config}: invariant: ${p}`);
  }
  return title + body + (notes.length ? `\n${notes.join('\n')}\n` : '');
}
