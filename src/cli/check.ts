// kstack check: explore interleavings of the stack-pinning protocol.
import { MUTATIONS } from '../kernel/mutations.ts';
import { type CheckResult, type CheckViolation, replayToken, runCheck, SCENARIOS } from '../check/index.ts';
import { scenarioByName } from '../check/scenarios.ts';
import { checkConfig } from '../check/exec.ts';
import { ftraceText, formatSteps } from '../check/format.ts';
import type { Strategy } from '../check/search.ts';
import { EXIT_FINDINGS, EXIT_OK, intOption, parse, UsageError } from './args.ts';

export const help = `usage: kstack check [--scenario S|all] [--config C] [--mutate M] [--strategy dfs|pct|random]
                    [--bound N] [--seed S] [--runs N] [--max-states N] [--replay TOKEN] [--json]

Explores the interleavings of the kernel paths that pin, release, cache and
free task stacks (the same src/kernel code the simulator runs, cut at its real
interleaving points) and reports use-after-free, double free, leaks, refcount
underflow, cached stacks still owned or charged, and freed stacks still
reachable. Each violation comes with a shrunk counterexample (numbered steps
with CPU and context, and ftrace-style text) and a replay token.

  --scenario S    one of: all, reader-vs-exit (its four readers), ${SCENARIOS.map((s) => s.name).join(', ')}
                  (default: all, or the mutation's own scenario)
  --config C      preset (default linux-6.18, or the mutation's own config); reader-4.8 always runs linux-4.8
  --mutate M      run with a known bug: ${Object.keys(MUTATIONS).join(', ')}
  --strategy      dfs (exhaustive with state hashing, default), pct, random
  --bound N       dfs: preemption bound (default 2); pct: depth d (default 3)
  --seed S        pct / random seed (default 1)
  --runs N        pct / random executions (default 2000)
  --max-states N  dfs: stop after N nodes (default 2000000; reported as a bound hit)
  --replay TOKEN  re-execute a counterexample exactly
  --json          machine output

A bounded search reports what it covered and the bounds it hit; "no violation"
means none within those bounds, not a proof. Exit 1 when violations are found.
See docs/check.md for the scenarios and how to read a counterexample.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    scenario: { type: 'string' },
    config: { type: 'string' },
    mutate: { type: 'string' },
    strategy: { type: 'string' },
    bound: { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    'max-states': { type: 'string' },
    replay: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.replay) return replayCmd(values.replay, !!values.json);
  const strategy = values.strategy ?? 'dfs';
  if (strategy !== 'dfs' && strategy !== 'pct' && strategy !== 'random') throw new UsageError(`--strategy ${strategy}: expected dfs, pct or random`);
  if (values.mutate && !Object.hasOwn(MUTATIONS, values.mutate)) throw new UsageError(`--mutate ${values.mutate}: expected one of ${Object.keys(MUTATIONS).join(', ')}`);
  if (values.config) checkConfig(values.config);
  const results = runCheck({
    scenario: values.scenario,
    config: values.config,
    mutation: values.mutate,
    strategy: strategy as Strategy,
    bound: values.bound === undefined ? undefined : intOption(values.bound, '--bound', 0, 0, 64),
    seed: values.seed === undefined ? undefined : intOption(values.seed, '--seed', 1),
    runs: values.runs === undefined ? undefined : intOption(values.runs, '--runs', 1, 1, 10_000_000),
    maxStates: values['max-states'] === undefined ? undefined : intOption(values['max-states'], '--max-states', 1, 1),
  });
  const found = results.some((r) => r.violations.length > 0);
  if (values.json) {
    const out = results.map(jsonResult);
    process.stdout.write(`${JSON.stringify(out.length === 1 ? out[0] : out, null, 2)}\n`);
  } else {
    process.stdout.write(results.map(textResult).join('\n'));
  }
  return found ? EXIT_FINDINGS : EXIT_OK;
}

function jsonResult(r: CheckResult) {
  return {
    scenario: r.scenario,
    config: r.config,
    mutation: r.mutation,
    strategy: r.strategy,
    bound: r.bound,
    seed: r.seed,
    notApplicable: r.notApplicable,
    explored: r.explored,
    states: r.states,
    depth: r.depth,
    paths: r.paths,
    boundHit: r.boundHit,
    violations: r.violations.map((v) => ({
      kind: v.kind,
      message: v.message,
      steps: v.steps.map((s) => ({ cpu: s.cpu, ctx: s.ctx, thread: s.name, step: s.label })),
      replay: v.replay,
    })),
  };
}

function boundText(r: CheckResult): string {
  if (r.strategy === 'dfs') return `dfs, preemption bound ${r.bound}`;
  if (r.strategy === 'pct') return `pct depth ${r.bound}, seed ${r.seed}`;
  return `random walks, seed ${r.seed}`;
}

export function textResult(r: CheckResult): string {
  const head = `check ${r.scenario} on ${r.config}${r.mutation ? ` with mutation ${r.mutation}` : ''} (${boundText(r)})\n`;
  if (r.notApplicable) return `${head}  not applicable: ${r.notApplicable}\n`;
  let out = head;
  out += `  explored ${r.explored} steps over ${r.paths} paths; ${r.states} distinct states; depth ${r.depth}\n`;
  out += `  bounds hit: ${r.boundHit.length ? r.boundHit.join(', ') : 'none (the bounded space was covered)'}\n`;
  if (r.violations.length === 0) {
    out += '  no violation within these bounds\n';
    return out;
  }
  for (const v of r.violations) out += violationText(v, r.scenario, r.config, r.mutation);
  return out;
}

export function violationText(v: CheckViolation, scenario: string, config: string, mutation: string | null): string {
  const sc = scenarioByName(scenario)!;
  let out = `  VIOLATION ${v.kind}: ${v.message}\n`;
  out += `  counterexample, ${v.steps.length} steps:\n`;
  out += `${indent(formatSteps(v), '  ')}\n`;
  out += '  as ftrace:\n';
  out += `${indent(ftraceText(sc, checkConfig(config), mutation as never, v.schedule), '    ')}\n`;
  out += `  replay: kstack check --replay ${v.replay}\n`;
  return out;
}

function indent(s: string, pre: string): string {
  return s
    .split('\n')
    .map((l) => pre + l)
    .join('\n');
}

function replayCmd(token: string, json: boolean): number {
  const r = replayToken(token);
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          scenario: r.scenario.name,
          config: r.configName,
          mutation: r.mutation,
          strategy: 'replay',
          explored: r.steps.length,
          states: r.steps.length,
          boundHit: [],
          violations: r.violation ? [{ kind: r.violation.kind, message: r.violation.message, steps: r.steps.map((s) => ({ cpu: s.cpu, ctx: s.ctx, thread: s.name, step: s.label })), replay: token }] : [],
        },
        null,
        2,
      )}\n`,
    );
  } else {
    let out = `replay ${r.scenario.name} on ${r.configName}${r.mutation ? ` with mutation ${r.mutation}` : ''}: ${r.steps.length} steps\n`;
    if (r.violation) out += violationText(r.violation, r.scenario.name, r.configName, r.mutation);
    else out += '  no violation on this schedule\n';
    process.stdout.write(out);
  }
  return r.violation ? EXIT_FINDINGS : EXIT_OK;
}
