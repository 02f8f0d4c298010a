// `kstack check` as a library: resolve scenario, config and mutation, run the
// explorer, and return plain data (the CLI and the tests format it).
import { InputError } from '../errors.ts';
import type { KernelConfig } from '../config/knobs.ts';
import { isMutation, type Mutation } from '../kernel/mutations.ts';
import { checkConfig, type Scenario } from './exec.ts';
import { configFor, MUTATION_TARGETS, scenarioByName, scenariosNamed } from './scenarios.ts';
import { type Counterexample, DEFAULTS, replay, type SearchOptions, search, type Strategy } from './search.ts';
import { decodeToken, encodeToken } from './token.ts';

export interface CheckRequest {
  scenario?: string;
  config?: string;
  mutation?: string;
  strategy?: Strategy;
  bound?: number;
  seed?: number;
  runs?: number;
  maxStates?: number;
}

export interface CheckViolation extends Counterexample {
  replay: string;
}

export interface CheckResult {
  scenario: string;
  config: string;
  mutation: string | null;
  strategy: Strategy;
  bound: number;
  seed: number;
  notApplicable: string | null;
  explored: number;
  states: number;
  depth: number;
  paths: number;
  boundHit: string[];
  elapsedMs: number;
  violations: CheckViolation[];
}

export class CheckInputError extends InputError {
  override name = 'CheckInputError';
}

export function runCheck(req: CheckRequest): CheckResult[] {
  const mutation = req.mutation ?? null;
  if (mutation !== null && !isMutation(mutation)) throw new CheckInputError(`unknown mutation ${mutation}`);
  const target = mutation ? MUTATION_TARGETS[mutation] : null;
  const scName = req.scenario ?? target?.scenario ?? 'all';
  const scs = scenariosNamed(scName);
  if (scs.length === 0) throw new CheckInputError(`unknown scenario ${scName}`);
  const strategy = req.strategy ?? 'dfs';
  const opts: SearchOptions = {
    ...DEFAULTS[strategy],
    ...(req.bound !== undefined ? { bound: req.bound } : {}),
    ...(req.seed !== undefined ? { seed: req.seed } : {}),
    ...(req.runs !== undefined ? { runs: req.runs } : {}),
    ...(req.maxStates !== undefined ? { maxStates: req.maxStates } : {}),
  };
  const requested = req.config ?? target?.config ?? 'linux-6.18';
  return scs.map((sc) => runOne(sc, configFor(sc, requested), mutation, opts));
}

function runOne(sc: Scenario, configName: string, mutation: Mutation | null, o: SearchOptions): CheckResult {
  const cfg = checkConfig(configName);
  const base: CheckResult = {
    scenario: sc.name,
    config: configName,
    mutation,
    strategy: o.strategy,
    bound: o.bound,
    seed: o.seed,
    notApplicable: sc.notApplicable(cfg),
    explored: 0,
    states: 0,
    depth: 0,
    paths: 0,
    boundHit: [],
    elapsedMs: 0,
    violations: [],
  };
  if (base.notApplicable) return base;
  const r = search(sc, cfg, mutation, o);
  return {
    ...base,
    explored: r.explored,
    states: r.states,
    depth: r.maxDepthSeen,
    paths: r.paths,
    boundHit: r.boundHit,
    elapsedMs: r.elapsedMs,
    violations: r.violations.map((v) => ({ ...v, replay: encodeToken({ scenario: sc.name, config: configName, mutation, schedule: v.schedule }) })),
  };
}

export interface ReplayResult {
  scenario: Scenario;
  config: KernelConfig;
  configName: string;
  mutation: Mutation | null;
  schedule: number[];
  violation: CheckViolation | null;
  steps: Counterexample['steps'];
}

/** Re-executes a token's schedule exactly (strictly, no completion). */
export function replayToken(token: string): ReplayResult {
  const t = decodeToken(token);
  const sc = scenarioByName(t.scenario);
  if (!sc) throw new CheckInputError(`replay token names unknown scenario ${t.scenario}`);
  if (t.mutation !== null && !isMutation(t.mutation)) throw new CheckInputError(`replay token names unknown mutation ${t.mutation}`);
  const cfg = checkConfig(t.config);
  const x = replay(sc, cfg, t.mutation, t.schedule, false);
  if (!x) throw new CheckInputError('replay token schedule does not fit its scenario (a step names a thread that cannot run)');
  const f = x.found;
  return {
    scenario: sc,
    config: cfg,
    configName: t.config,
    mutation: t.mutation,
    schedule: t.schedule,
    steps: x.executed,
    violation: f ? { kind: f.kind, message: f.message, schedule: t.schedule, steps: x.executed, replay: token } : null,
  };
}

export { SCENARIOS, MUTATION_TARGETS } from './scenarios.ts';
