// A fast path for the sched_switch payload, the most common line in any trace:
// the kernel's TP_printk layout read with lastIndexOf instead of the general
// field splitter. Anything unusual (a comm holding ` next_pid=`, the plugin
// rendering, a bad number) falls back to parseSchedSwitch, which decides.
import { parseSchedSwitch, type SchedSwitch } from '../trace/events.ts';

const STATE_RE = /^[A-Za-z|+]{1,32}$/;

export function parseSwitchFast(p: string): SchedSwitch | null {
  const arrow = p.lastIndexOf(' ==> next_comm=');
  const nextPidAt = p.lastIndexOf(' next_pid=');
  const nextPrioAt = p.lastIndexOf(' next_prio=');
  const prevPidAt = arrow < 0 ? -1 : p.lastIndexOf(' prev_pid=', arrow);
  const prevPrioAt = arrow < 0 ? -1 : p.lastIndexOf(' prev_prio=', arrow);
  const stateAt = arrow < 0 ? -1 : p.lastIndexOf(' prev_state=', arrow);
  if (!p.startsWith('prev_comm=') || prevPidAt < 0 || !(prevPidAt < prevPrioAt && prevPrioAt < stateAt && arrow < nextPidAt && nextPidAt < nextPrioAt)) {
    return parseSchedSwitch(p);
  }
  const prevPid = digits(p, prevPidAt + 10, prevPrioAt);
  const prevPrio = digits(p, prevPrioAt + 11, stateAt);
  const nextPid = digits(p, nextPidAt + 10, nextPrioAt);
  const nextPrio = digits(p, nextPrioAt + 11, p.length);
  const prevState = p.slice(stateAt + 12, arrow);
  if (prevPid < 0 || prevPrio < 0 || nextPid < 0 || nextPrio < 0 || !STATE_RE.test(prevState)) return parseSchedSwitch(p);
  return {
    prevComm: p.slice(10, prevPidAt),
    prevPid,
    prevPrio,
    prevState,
    nextComm: p.slice(arrow + 15, nextPidAt),
    nextPid,
    nextPrio,
    rendering: 'tp_printk',
  };
}

/** The decimal in s[from, to), or -1 unless it is 1-10 digits. */
function digits(s: string, from: number, to: number): number {
  if (to <= from || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
