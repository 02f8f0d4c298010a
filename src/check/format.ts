// A counterexample as people read it: a numbered step list with CPU and
// context, and the same execution as ftrace-style text (the model's
// tracepoints, replayed with a tracer on).
import type { KernelConfig } from '../config/knobs.ts';
import { ArrayTracer, type KernelEvent } from '../kernel/events.ts';
import type { Mutation } from '../kernel/mutations.ts';
import { Exec, type ExecutedStep, type Scenario } from './exec.ts';
import type { Counterexample } from './search.ts';

const CTX: Record<string, string> = { task: 'task', softirq: 'softirq', hardirq: 'hardirq' };

export function stepLine(n: number, s: ExecutedStep): string {
  const where = s.cpu >= 0 ? `cpu${s.cpu}` : 'rcu ';
  return `${String(n).padStart(3)}. ${where} ${CTX[s.ctx].padEnd(7)} ${s.name.padEnd(8)} ${s.label}`;
}

export function formatSteps(cx: Counterexample): string {
  const lines = cx.steps.map((s, i) => stepLine(i + 1, s));
  return lines.join('\n');
}

/** The counterexample's schedule replayed with a tracer: ftrace text, one line per model event. */
export function ftraceText(sc: Scenario, cfg: KernelConfig, mut: Mutation | null, schedule: readonly number[]): string {
  const tr = new ArrayTracer();
  const x = new Exec(sc, cfg, mut, tr);
  const setupEvents = tr.events.length;
  for (const t of schedule) {
    if (x.found || !x.enabled(t)) break;
    x.step(t);
  }
  if (!x.found && x.enabledList([]) === 0) x.finish();
  return tr.events.slice(setupEvents).map(ftraceLine).join('\n');
}

function ftraceLine(e: KernelEvent): string {
  const who = `${e.comm || '<idle>'}-${e.pid}`.padStart(16);
  const flags = e.ctx === 'hardirq' ? 'd.h1' : e.ctx === 'softirq' ? '..s1' : '....';
  const sec = Math.floor(e.tsNs / 1e9);
  const usec = Math.floor((e.tsNs % 1e9) / 1000);
  const args = Object.entries(e.args)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `${who} [${String(e.cpu).padStart(3, '0')}] ${flags} ${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}: ${e.name}: ${args}`;
}
