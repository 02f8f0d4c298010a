// Replay-and-validate on every public trace, with the thresholds of issue 3:
// each trace ≥ 99.5% of scored forks, pooled ≥ 99.8%, stack vfrees within 1%.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { getPreset } from '../../src/config/index.ts';
import { ReplayDriver, type ForkPrediction } from '../../src/replay/driver.ts';
import { isAnswerKeyEvent, replayTrace, type ReplayResult } from '../../src/replay/replay.ts';
import { readTraceText } from '../../src/trace/reader.ts';

const TRACES = ['bash-true-loop', 'burst-k4', 'perf-messaging-thread', 'pthread-loop-pin0', 'pthread-loop', 'stress-ng-pthread'];
const PER_TRACE_MIN = 0.995;
const POOLED_MIN = 0.998;
const VFREE_TOLERANCE = 0.01;
const BURN_IN_MAX = 8;

const results = new Map<string, ReplayResult>();

describe('replay --validate on the public traces', () => {
  for (const name of TRACES) {
    it(`${name}: agreement ≥ ${PER_TRACE_MIN * 100}%, vfrees within 1%`, async () => {
      const path = `examples/traces/${name}.trace.gz`;
      const r = await replayTrace(path, { config: getPreset('linux-6.18'), validate: true });
      results.set(name, r);
      const meta = JSON.parse(readFileSync(`examples/traces/${name}.meta.json`, 'utf8')).groundtruth;
      assert.equal(r.forks, meta.newtask, 'every task_newtask is a fork');
      assert.ok(r.burnIn <= BURN_IN_MAX, `burn-in ${r.burnIn}`);
      assert.equal(r.scored + r.burnIn, r.forks);
      assert.ok(r.agreement !== null && r.agreement >= PER_TRACE_MIN, `agreement ${r.agreement}`);
      assert.equal(r.anomalies.modelErrors, 0, r.anomalies.modelErrorExamples.join('\n'));
      const c = r.confusion;
      assert.equal(r.stackAllocsObserved, meta.stack_allocs, 'the scorer finds every stack vmalloc');
      assert.ok(c.hitMiss + c.missMiss <= meta.fork_miss);
      const obs = r.vfrees.observed;
      assert.ok(Math.abs(r.vfrees.predicted - obs) <= Math.max(VFREE_TOLERANCE * obs, 0), `vfrees ${r.vfrees.predicted} vs ${obs}`);
      assert.equal(r.purges.predicted, r.purges.observed);
    });
  }
  it(`pooled agreement ≥ ${POOLED_MIN * 100}%`, () => {
    let scored = 0;
    let right = 0;
    for (const r of results.values()) {
      scored += r.scored;
      right += r.confusion.hitHit + r.confusion.missMiss;
    }
    assert.equal(results.size, TRACES.length);
    assert.ok(right / scored >= POOLED_MIN, `pooled ${right / scored}`);
  });
});

describe('the prediction never reads the answer key', () => {
  it('the same predictions with every vmalloc:* line removed', () => {
    const text = gunzipSync(readFileSync('examples/traces/bash-true-loop.trace.gz')).toString('utf8');
    const stripped = text
      .split('\n')
      .filter((l) => !/: (alloc_vmap_area|free_vmap_area_noflush|purge_vmap_area_lazy):/.test(l))
      .join('\n');
    const run = (t: string): string[] => {
      const out: string[] = [];
      const d = new ReplayDriver({
        config: getPreset('linux-6.18'),
        cpuCount: 2,
        allFills: true,
        onFork: (p: ForkPrediction) => out.push(`${p.childPid}:${p.predicted}`),
      });
      readTraceText(t, { onRecord: (r) => d.onRecord(r) });
      return out;
    };
    assert.deepEqual(run(text), run(stripped));
    assert.ok(isAnswerKeyEvent('alloc_vmap_area') && !isAnswerKeyEvent('sched_switch'));
  });
});

describe('kstack replay CLI', () => {
  it('is deterministic: two runs print byte-identical JSON and text', () => {
    // Child processes: the test runner's own reports share this process's stdout.
    for (const extra of [['--json'], []]) {
      const args = ['bin/kstack.js', 'replay', 'examples/traces/bash-true-loop.trace.gz', '--validate', '--quiet', ...extra];
      const a = spawnSync(process.execPath, args, { encoding: 'utf8' });
      const b = spawnSync(process.execPath, args, { encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      assert.ok(a.stdout.length > 200);
      assert.equal(b.stdout, a.stdout);
    }
  });
  it('exits 1 below --min-agreement, 0 above, 2 on bad input', () => {
    // Child processes: silencing this process's stdout would also swallow the
    // test runner's own report of a failure here.
    const kstack = (...args: string[]) => spawnSync(process.execPath, ['bin/kstack.js', ...args], { encoding: 'utf8' });
    const ok = kstack('replay', 'examples/traces/bash-true-loop.trace.gz', '--validate', '--min-agreement', '0.995', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(JSON.parse(ok.stdout).agreement >= 0.995);
    assert.doesNotMatch(ok.stderr, /below --min-agreement/);
    const below = kstack('replay', 'examples/traces/burst-k4.trace.gz', '--validate', '--min-agreement', '100%');
    assert.equal(below.status, 1, below.stderr);
    assert.match(below.stderr, /^kstack replay: examples\/traces\/burst-k4\.trace\.gz \(linux-6\.18\): agreement \d+\.\d\d%, below --min-agreement 100\.00%$/m);
    const bad = kstack('replay', 'test/fixtures/traces/not-a-trace.txt', '--validate');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not-a-trace\.txt/);
    assert.equal(kstack('replay').status, 2);
  });
});

describe('parseSwitchFast', () => {
  it('agrees with parseSchedSwitch on every sched_switch of a public trace and on odd comms', async () => {
    const { parseSwitchFast } = await import('../../src/replay/fastparse.ts');
    const { parseSchedSwitch } = await import('../../src/trace/events.ts');
    const text = gunzipSync(readFileSync('examples/traces/perf-messaging-thread.trace.gz')).toString('utf8');
    const payloads: string[] = [];
    readTraceText(text, { onRecord: (r) => r.event === 'sched_switch' && payloads.push(r.payload) });
    payloads.push(
      'prev_comm=a next_pid=3 prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b ==> next_comm=c next_pid=2 next_prio=120',
      'prev_comm=x prev_pid=1 prev_prio=120 prev_state=R+ ==> next_comm=y next_pid=2 next_prio=120',
      'a:1 [120] S ==> b:2 [120]',
    );
    for (const p of payloads) assert.deepEqual(parseSwitchFast(p), parseSchedSwitch(p), p);
  });
});
