// The Perfetto export follows the Trace Event Format's rules and carries what
// issue 5 asks for: a track per CPU with run slices, lifecycle instants,
// counters for caches, RCU-pending stacks, stack memory and vmap_lazy_nr.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { ArrayTracer } from '../../src/kernel/events.ts';
import { runSim } from '../../src/sim/run.ts';
import { PerfettoTracer, perfettoFromEvents, perfettoJson } from '../../src/trace/perfetto.ts';
import { validateChromeTrace } from './chrome-trace-rules.ts';

function simTrace(config: string, ops: number, workload = 'pthread-loop'): { tracer: PerfettoTracer; peakStackKiB: number } {
  const tracer = new PerfettoTracer({ label: `${config} · ${workload}`, cpuCount: 2, params: { workload, seed: 1, ops } });
  const r = runSim({ config: getPreset(config), workload, cpus: 2, placement: 'default', ops, seed: 1, tracer });
  tracer.finish({ peakStackKiB: r.peakStackKiB });
  return { tracer, peakStackKiB: r.peakStackKiB };
}

test('a 4.8 vs 6.18 export is a valid Chrome JSON trace with every track issue 5 names', () => {
  // Bursts of 8 threads overflow 6.18's two cache slots, so stacks go RCU-pending.
  const a = simTrace('linux-4.8', 300, 'burst:k=8');
  const b = simTrace('linux-6.18', 300, 'burst:k=8');
  const text = perfettoJson([a.tracer, b.tracer]);
  const { problems, summary } = validateChromeTrace(text);
  assert.deepEqual(problems, []);
  assert.ok(text.startsWith('{"traceEvents":['), 'Perfetto sniffs JSON by the leading {"');
  assert.deepEqual(summary.processNames, ['linux-4.8 · burst:k=8', 'linux-6.18 · burst:k=8']);
  assert.deepEqual(summary.threadNames, ['CPU 0', 'CPU 1', 'RCU grace periods']);
  for (const c of ['cpu0 stack cache', 'cpu1 stack cache', 'RCU-pending stacks', 'stack memory', 'vmap_lazy_nr']) {
    assert.ok(summary.counterNames.includes(c), `counter ${c}`);
  }
  for (const i of ['fork', 'exit', 'stack take: cache hit', 'stack take: cache miss', 'stack take: order-2 pages', 'stack release', 'stack cache put', 'stack RCU-pending', 'stack vfree']) {
    assert.ok(summary.instantNames.includes(i), `instant ${i}`);
  }
  assert.ok((summary.phases.X ?? 0) > 300, 'run slices from sched_switch');
});

test('the stack memory counter ends on the run peak and never goes negative', () => {
  const { tracer, peakStackKiB } = simTrace('linux-6.18', 400);
  const doc = JSON.parse(perfettoJson([tracer])) as { traceEvents: { name: string; ph: string; args: { KiB?: number } }[] };
  const kib = doc.traceEvents.filter((e) => e.ph === 'C' && e.name === 'stack memory').map((e) => Number(e.args.KiB));
  assert.ok(kib.length > 0);
  assert.equal(Math.max(...kib), peakStackKiB);
  assert.ok(Math.min(...kib) >= 0);
});

test('a purge shows up and vmap_lazy_nr drops to 0 after it', () => {
  // Many CPUs' worth of lazily freed areas: 8 CPUs, lazy_max = fls(8) × 8192 pages is big, so use a churny 4.9.
  const tracer = new ArrayTracer();
  runSim({ config: getPreset('linux-4.9'), workload: 'burst:k=64', cpus: 1, placement: 'pin:0', ops: 9000, seed: 1, tracer });
  const p = perfettoFromEvents(tracer.events, { label: 'linux-4.9', cpuCount: 1 });
  const text = perfettoJson([p]);
  assert.deepEqual(validateChromeTrace(text).problems, []);
  const evs = (JSON.parse(text) as { traceEvents: { name: string; ph: string; args: { pages?: number } }[] }).traceEvents;
  const purgeAt = evs.findIndex((e) => e.name === 'vmap purge + TLB flush');
  if (purgeAt < 0) return; // this workload stayed under lazy_max_pages: nothing to check
  const after = evs.slice(purgeAt).find((e) => e.ph === 'C' && e.name === 'vmap_lazy_nr');
  assert.equal(after?.args.pages, 0);
});

test('the same run gives the same bytes', () => {
  const one = perfettoJson([simTrace('linux-6.18', 200).tracer]);
  const two = perfettoJson([simTrace('linux-6.18', 200).tracer]);
  assert.equal(one, two);
});

test('the validator catches what Perfetto would reject or mis-draw', () => {
  const bad = JSON.stringify({
    traceEvents: [
      { name: 'a', ph: 'X', ts: 0, dur: 10, pid: 1, tid: 1 },
      { name: 'b', ph: 'X', ts: 5, dur: 10, pid: 1, tid: 1 },
      { name: 'c', ph: 'Q', ts: 0, pid: 1, tid: 1 },
      { name: 'd', ph: 'C', ts: 0, pid: 1, args: { v: 'x' } },
      { name: 'e', ph: 'B', ts: 0, pid: 1, tid: 2 },
      { name: 'thread_name', ph: 'M', pid: 1, tid: 1, args: {} },
      { name: 'f', ph: 'i', ts: -1, pid: 1, tid: 1, s: 'q' },
    ],
  });
  const { problems } = validateChromeTrace(bad);
  const has = (s: string): boolean => problems.some((p) => p.includes(s));
  assert.ok(has('overlaps'), 'partial overlap of X slices');
  assert.ok(has('phase Q'), 'unknown phase');
  assert.ok(has('is not a number'), 'non-numeric counter');
  assert.ok(has('never ended'), 'unmatched B');
  assert.ok(has('without args.name'), 'thread_name without a name');
  assert.ok(has('instant scope'), 'bad instant scope');
  assert.ok(has('ts -1'), 'negative ts');
  assert.deepEqual(validateChromeTrace(` ${bad}`).problems.slice(0, 1), ['file does not start with {" or [{" (Perfetto would not sniff it as JSON)']);
});
