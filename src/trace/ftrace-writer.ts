// Writes the model's events as ftrace text, in the layout of the kernel's
// trace_print_context() ("%16s-%-7d [%03d] flags %5lu.%06lu: event: payload"),
// so a model run reads like a real trace_pipe capture and can be diffed with
// one, replayed by kstack, or opened in Perfetto. Real tracepoints use their
// TP_printk format; model-only events print key=value pairs.
import type { Ctx, KernelEvent, Tracer } from '../kernel/events.ts';

const FLAGS: Record<Ctx, string> = { task: '.....', softirq: '..s1.', hardirq: 'd.h1.' };

export function formatEvent(e: KernelEvent): string {
  const comm = e.pid === 0 ? '<idle>' : e.comm;
  const sec = Math.floor(e.tsNs / 1e9);
  const usec = Math.floor((e.tsNs % 1e9) / 1000);
  const cpu = String(Math.max(e.cpu, 0)).padStart(3, '0');
  return `${comm.padStart(16)}-${String(e.pid).padEnd(7)} [${cpu}] ${FLAGS[e.ctx]} ${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}: ${e.name}: ${payload(e)}`;
}

function payload(e: KernelEvent): string {
  const a = e.args;
  switch (e.name) {
    case 'sched_switch':
      return `prev_comm=${a.prev_comm} prev_pid=${a.prev_pid} prev_prio=${a.prev_prio} prev_state=${a.prev_state} ==> next_comm=${a.next_comm} next_pid=${a.next_pid} next_prio=${a.next_prio}`;
    case 'sched_wakeup':
    case 'sched_wakeup_new':
      return `comm=${a.comm} pid=${a.pid} prio=${a.prio} target_cpu=${String(a.target_cpu).padStart(3, '0')}`;
    case 'alloc_vmap_area':
      return `va_start: ${a.va_start} size=${a.size} align=${a.align} vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=${a.failed}`;
    case 'sched_process_exit':
      return `comm=${a.comm} pid=${a.pid} prio=${a.prio} group_dead=${a.group_dead}`;
    default:
      return Object.entries(a)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
  }
}

/**
 * Collects formatted lines in memory (for --events on bounded runs). Each CPU's
 * events are in time order; the output merges the CPUs by timestamp, as
 * trace_pipe merges the per-CPU ring buffers (ties keep emission order).
 */
export class FtraceTextTracer implements Tracer {
  readonly enabled = true;
  private readonly lines: string[] = [];
  private readonly ts: number[] = [];
  constructor(readonly cpuCount: number) {}
  emit(e: KernelEvent): void {
    this.lines.push(formatEvent(e));
    this.ts.push(e.tsNs);
  }
  text(): string {
    const order = this.lines.map((_, i) => i);
    order.sort((a, b) => this.ts[a] - this.ts[b] || a - b);
    const body = order.map((i) => this.lines[i]).join('\n');
    return `# tracer: nop\n#\n# entries-in-buffer/entries-written: ${this.lines.length}/${this.lines.length}   #P:${this.cpuCount}\n#\n${body}\n`;
  }
}
