#!/usr/bin/env python3
"""Background (non-workload) activity per CPU during the command window:
number of run segments, their rate and duration (median/p90), and busy share."""
from tracelib import *

def main():
    print("| trace | cpu | bg segments | per ms | run median/p90 (us) | bg busy % |")
    print("|---|---|---|---|---|---|")
    for name in WORKLOADS:
        evs = parse(name); root, wl = workload_pids(evs); t0, t1 = cmd_window(evs)
        S = SchedState(); start = {}; segs = {0: [], 1: []}
        for e in evs:
            if e.name != "sched_switch":
                was = S.curr[e.cpu]
                S._infer_running(e)
                if was in (0, None) and S.curr[e.cpu] not in (0, None, *()):
                    start[e.cpu] = (S.curr[e.cpu], e.ts)
                S.update(e); continue
            f = e.fields()
            if e.cpu in start and start[e.cpu][0] == f["prev_pid"]:
                p, ts = start.pop(e.cpu)
                if p not in wl and p != 0 and t0 <= ts <= t1:
                    segs[e.cpu].append(e.ts - ts)
            if f["next_pid"]:
                start[e.cpu] = (f["next_pid"], e.ts)
            S.update(e)
        W = (t1 - t0)
        for c in (0, 1):
            q = quantiles(segs[c])
            print("| %s | %d | %d | %.2f | %s / %s | %.1f |" % (name, c, len(segs[c]), len(segs[c]) * 1000.0 / W, q[0], q[1], 100.0 * sum(segs[c]) / W))

if __name__ == "__main__":
    main()
