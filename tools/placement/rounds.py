#!/usr/bin/env python3
"""Per-round view of burst-k4 (and stress-ng): where child #i of a round goes and
where it dies, relative to the CPU the parent forked it on."""
import collections, sys
from tracelib import *

def burst(name="burst-k4", k=4):
    evs = parse(name); root, wl = workload_pids(evs)
    forks = []
    death = {}
    for e in evs:
        if e.name == "sched_wakeup_new" and e.pid == root:
            forks.append((e.cpu, int(e.fields()["target_cpu"]), int(e.fields()["pid"])))
        elif e.name == "sched_switch":
            f = e.fields()
            if f["prev_state"] in ("X", "Z"):
                death[f["prev_pid"]] = e.cpu
    pos = collections.defaultdict(lambda: [0, 0, 0, 0])
    pat = collections.Counter(); dies = collections.Counter(); moves = 0
    for r in range(len(forks) // k):
        rd = forks[r * k:(r + 1) * k]
        pat["".join("o" if t != c else "l" for c, t, _ in rd)] += 1
        dies[sum(1 for c, t, ch in rd if death.get(ch) == rd[0][0])] += 1
        if r and rd[0][0] != forks[r * k - 1][0]:
            moves += 1
        for i, (c, t, ch) in enumerate(rd):
            pos[i][0] += 1; pos[i][1] += t != c; pos[i][2] += death.get(ch) == c; pos[i][3] += death.get(ch) == t
    print("## %s: %d rounds of %d; parent changed CPU between rounds %d times" % (name, len(forks) // k, k, moves))
    print("| child # in round | P(placed on other CPU) % | P(died on parent's CPU) % | P(died where placed) % |")
    print("|---|---|---|---|")
    for i in sorted(pos):
        n, o, dl, dp = pos[i]
        print("| %d | %.1f | %.1f | %.1f |" % (i + 1, pct(o, n), pct(dl, n), pct(dp, n)))
    print("\nplacement patterns (l = parent's CPU, o = other):", pat.most_common(8))
    print("\nchildren of a round that died on the parent's (round-start) CPU:", sorted(dies.items()))

def stress(name="stress-ng-pthread"):
    evs = parse(name); root, wl = workload_pids(evs)
    death = {}; forks = collections.defaultdict(list)
    for e in evs:
        if e.name == "sched_wakeup_new" and e.pid in wl:
            forks[e.pid].append((e.ts, e.cpu, int(e.fields()["target_cpu"]), int(e.fields()["pid"])))
        elif e.name == "sched_switch":
            f = e.fields()
            if f["prev_state"] in ("X", "Z"):
                death[f["prev_pid"]] = e.cpu
    print("\n## %s" % name)
    for p, fl in forks.items():
        if len(fl) < 10:
            continue
        cpus = collections.Counter(c for _, c, _, _ in fl)
        oth = sum(1 for _, c, t, _ in fl if t != c)
        dl = sum(1 for _, c, t, ch in fl if death.get(ch) == c)
        print("worker %d: %d forks, forking CPU %s, placed on other CPU %.1f%%, died on forking CPU %.1f%%" % (
            p, len(fl), dict(cpus), pct(oth, len(fl)), pct(dl, len(fl))))

if __name__ == "__main__":
    burst()
    stress()
