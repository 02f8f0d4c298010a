#!/usr/bin/env python3
"""Fraction of wall time each forking parent spends running (a PELT-util proxy),
and each CPU's busy fraction, over the command window. Used for rule F2's
utilization gate in docs/placement.md."""
import collections
from tracelib import *

def main():
    print("| trace | parent pid | forks | parent running % of window | parent's CPU busy % | other CPU busy % |")
    print("|---|---|---|---|---|---|")
    for name in WORKLOADS:
        evs = parse(name); root, wl = workload_pids(evs); t0, t1 = cmd_window(evs)
        S = SchedState()
        run_start = {}
        ran = collections.Counter()
        nf = collections.Counter()
        cpu_busy = [0, 0]; busy_start = [None, None]
        fcpu = collections.Counter()
        for e in evs:
            if e.name != "sched_switch":
                was = S.curr[e.cpu]
                S._infer_running(e)
                if was in (0, None) and S.curr[e.cpu] not in (0, None):
                    run_start[S.curr[e.cpu]] = e.ts; busy_start[e.cpu] = e.ts
            else:
                f = e.fields(); p, q = f["prev_pid"], f["next_pid"]
                if p in run_start:
                    ran[p] += e.ts - run_start.pop(p)
                if q:
                    run_start[q] = e.ts
                if p == 0 or S.curr[e.cpu] in (0, None):
                    busy_start[e.cpu] = e.ts if q else None
                elif q == 0 and busy_start[e.cpu] is not None:
                    if t0 <= e.ts <= t1:
                        cpu_busy[e.cpu] += e.ts - max(busy_start[e.cpu], t0)
                    busy_start[e.cpu] = None
                S.update(e)
                continue
            if e.name == "sched_wakeup_new" and e.pid in wl:
                nf[e.pid] += 1; fcpu[e.cpu] += 1
            S.update(e)
        W = t1 - t0
        main_cpu = fcpu.most_common(1)[0][0]
        for p, n in nf.most_common(3):
            print("| %s | %d | %d | %.1f | %.1f | %.1f |" % (name, p, n, 100.0 * ran[p] / W, 100.0 * cpu_busy[main_cpu] / W, 100.0 * cpu_busy[1 - main_cpu] / W))

if __name__ == "__main__":
    main()
