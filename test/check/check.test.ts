// kstack check: every known bug is found as a minimal, replayable
// counterexample; every scenario is clean on its correct config; golden text
// for two counterexamples.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { checkConfig } from '../../src/check/exec.ts';
import { MUTATION_TARGETS, replayToken, runCheck } from '../../src/check/index.ts';
import { scenarioByName } from '../../src/check/scenarios.ts';
import { replay } from '../../src/check/search.ts';
import { decodeToken, encodeToken } from '../../src/check/token.ts';
import { textResult } from '../../src/cli/check.ts';
import type { Mutation } from '../../src/kernel/mutations.ts';

const ISSUE_MUTATIONS: Mutation[] = [
  'no-pin-stack-trace',
  'no-pin-wchan',
  'no-pin-syscall',
  'no-pin-kthread',
  'early-free-without-refcount',
  'cache-irq-unsafe',
  'no-hotplug-drain',
  'double-put',
];

describe('mutations', () => {
  for (const m of [...ISSUE_MUTATIONS, 'no-bad-fork-put' as Mutation]) {
    it(`${m} is found with default settings, shrunk and replayable`, () => {
      const t0 = performance.now();
      const [r] = runCheck({ mutation: m });
      const ms = performance.now() - t0;
      assert.ok(r.violations.length > 0, `${m}: no violation found on ${r.scenario}/${r.config}`);
      assert.ok(ms < 10_000, `${m}: took ${Math.round(ms)} ms`);
      const sc = scenarioByName(r.scenario)!;
      const cfg = checkConfig(r.config);
      for (const v of r.violations) {
        if (ISSUE_MUTATIONS.includes(m)) assert.ok(v.steps.length <= 12, `${m}: ${v.kind} counterexample has ${v.steps.length} steps`);
        // Exact replay through the token.
        const back = replayToken(v.replay);
        assert.equal(back.violation?.kind, v.kind);
        assert.deepEqual(
          back.steps.map((s) => s.label),
          v.steps.map((s) => s.label),
        );
        // 1-minimal: no single step can be removed (the rest replayed strictly) and still fail the same way.
        for (let i = 0; i < v.schedule.length; i++) {
          const cand = v.schedule.slice(0, i).concat(v.schedule.slice(i + 1));
          const x = replay(sc, cfg, m, cand, false);
          assert.ok(!(x?.found && x.found.kind === v.kind), `${m}: step ${i + 1} of ${v.kind} can be removed`);
        }
      }
    });
  }
});

describe('correct configs', () => {
  for (const config of ['linux-4.9', 'linux-6.18']) {
    it(`every scenario on ${config} shows no violation and states its bounds`, () => {
      const rs = runCheck({ scenario: 'all', config });
      for (const r of rs) {
        assert.deepEqual(
          r.violations.map((v) => `${v.kind}: ${v.message}`),
          [],
          `${r.scenario} on ${r.config}`,
        );
        if (!r.notApplicable) {
          assert.ok(r.explored > 0 && r.states > 0, r.scenario);
          assert.ok(r.boundHit.length > 0 || r.paths > 0, r.scenario);
        }
      }
      assert.ok(rs.filter((r) => !r.notApplicable).length >= 7);
    });
  }
  it('pct and random find the no-pin bug too, deterministically for a seed', () => {
    for (const strategy of ['pct', 'random'] as const) {
      const a = runCheck({ mutation: 'no-pin-wchan', strategy, seed: 7, runs: 300 });
      const b = runCheck({ mutation: 'no-pin-wchan', strategy, seed: 7, runs: 300 });
      assert.ok(a[0].violations.length > 0, strategy);
      assert.deepEqual(
        a.map((r) => ({ ...r, elapsedMs: 0 })),
        b.map((r) => ({ ...r, elapsedMs: 0 })),
      );
    }
  });
});

describe('replay tokens', () => {
  it('round-trip and reject damage', () => {
    const t = { scenario: 'release-vs-fork', config: 'linux-4.9', mutation: 'cache-irq-unsafe', schedule: [0, 1, 2, 0, 11, 35] };
    assert.deepEqual(decodeToken(encodeToken(t)), t);
    assert.throws(() => decodeToken('x1.abc'));
    assert.throws(() => replayToken(encodeToken({ ...t, schedule: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5] })));
  });
});

describe('golden counterexamples', () => {
  for (const m of ['no-pin-stack-trace', 'cache-irq-unsafe'] as const) {
    it(`${m}`, () => {
      const r = runCheck({ mutation: m });
      const text = textResult({ ...r[0], elapsedMs: 0 });
      const path = `test/check/golden/${m}.txt`;
      if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
      assert.equal(text, readFileSync(path, 'utf8'));
    });
  }
});

// MUTATION_TARGETS names a scenario that exists for every mutation.
describe('catalogue', () => {
  it('every mutation has a target scenario', () => {
    for (const [m, t] of Object.entries(MUTATION_TARGETS)) assert.ok(scenarioByName(t.scenario), m);
  });
});
