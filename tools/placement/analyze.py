#!/usr/bin/env python3
"""Measure CPU placement of forks, wakeups and deaths in the six 6.18 traces.

Usage: python3 tools/placement/analyze.py [--json out.json] > tables.md

Restricted to the workload's own tasks (root pid from `capture: cmd_start`
and its descendants) unless a table says otherwise. Never reads vmalloc:*
lines (the answer key).

Caveat found while writing this: the traces contain NO `sched_switch` out of
the idle task on CPU 1 (prev_comm=swapper/1 never appears, in all six files),
while CPU 0's are present. SchedState infers the switch-in from the first
event a non-idle pid logs on that CPU, so CPU-1 switch-in times are upper
bounds (first event of the task), and CPU-1 "idle since" times are exact.
"""
import collections
import json
import sys

from tracelib import (WORKLOADS, SchedState, cmd_window, is_kworker, parse,
                      pct, quantiles, workload_pids)

OUT = {}


def bucket(x, edges):
    if x is None:
        return "busy"
    for ed in edges:
        if x < ed:
            return "<%d" % ed
    return ">=%d" % edges[-1]


def md_table(title, header, rows):
    s = ["", "**%s**" % title, "", "| " + " | ".join(header) + " |",
         "|" + "---|" * len(header)]
    for r in rows:
        s.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(s)


def cond_rows(counter):
    rows = []
    for k in sorted(counter, key=lambda k: str(k)):
        n, r = counter[k]
        rows.append([k if not isinstance(k, tuple) else " / ".join(str(x) for x in k), n,
                     "%.1f" % pct(n - r, n), "%.1f" % pct(r, n)])
    return rows


def analyze(name):
    evs = parse(name)
    root, wl = workload_pids(evs)
    t0, t1 = cmd_window(evs)
    S = SchedState()
    res = {"name": name, "root": root, "ntasks": len(wl)}
    out = []

    forks = []          # per workload fork
    placed = {}         # child -> cpu placed
    forker = {}         # child -> parent
    parents = set()
    newtask_ts = {}
    wake_rows = []
    deaths = {}         # pid -> cpu of final switch
    death_ts = {}
    exit_ts = {}
    first_in = {}
    free_ts = {}
    migr = collections.Counter()
    migr_rows = []
    last_fork_of = {}
    clone_cost = []
    fork_period = collections.defaultdict(list)
    last_fork_ts = {}
    futex_wake_to_run = []
    idle_wake_lat = []
    pending_idle_wake = {}
    wake_ts = {}
    rcu_core = collections.Counter()
    parent_cpu_seq = []
    prev_remote = {}

    for i, e in enumerate(evs):
        n = e.name
        if n != "sched_switch":
            S._infer_running(e)
        if n == "rcu_utilization" and "Start RCU core" in e.raw and t0 <= e.ts <= t1:
            rcu_core[e.cpu] += 1
        if n == "task_newtask" and e.pid in wl:
            newtask_ts[int(e.fields()["pid"])] = e.ts
        elif n == "sched_wakeup_new":
            f = e.fields()
            ch = int(f["pid"])
            t = int(f["target_cpu"])
            if e.pid in wl:
                c = e.cpu
                o = 1 - c
                oidle = S.curr[o] == 0
                idur = e.ts - S.idle_since[o] if oidle and S.idle_since[o] is not None else None
                lb = e.ts - S.busy_since[c] if S.busy_since[c] is not None else None
                ocomm = S.curr_comm[o]
                if oidle:
                    okind = "idle"
                elif S.curr[o] in wl:
                    okind = "workload"
                elif is_kworker(ocomm):
                    okind = "kthread"
                else:
                    okind = "other"
                forks.append(dict(ts=e.ts, parent=e.pid, c=c, t=t, remote=int(t != c), oidle=oidle,
                                  idur=idur, lb=lb, nr_l=S.nr(c), nr_o=S.nr(o), okind=okind,
                                  prevr=prev_remote.get(e.pid)))
                prev_remote[e.pid] = int(t != c)
                placed[ch] = t
                forker[ch] = e.pid
                parents.add(e.pid)
                parent_cpu_seq.append((e.ts, e.pid, c))
                if e.pid in last_fork_ts:
                    fork_period[e.pid].append(e.ts - last_fork_ts[e.pid])
                last_fork_ts[e.pid] = e.ts
            if S.curr[t] == 0 and t != e.cpu:
                pending_idle_wake[ch] = (e.ts, t)
        elif n == "sched_wakeup":
            f = e.fields()
            p = int(f["pid"])
            t = int(f["target_cpu"])
            if p in wl and p in parents:
                prev = S.loc.get(p)
                if i and evs[i - 1].name == "sched_migrate_task" and evs[i - 1].fields().get("pid") == f["pid"]:
                    prev = int(evs[i - 1].fields()["orig_cpu"])   # wakeup-time migration: prev is the origin
                ipi = e.pid == 0 and "h" in e.flags and e.cpu == t
                waker_cpu = (1 - t) if ipi else e.cpu
                wake_rows.append(dict(ts=e.ts, pid=p, prev=prev, t=t, waker=waker_cpu, ipi=ipi,
                                      prev_idle=(S.curr[prev] == 0) if prev is not None else None,
                                      waker_idle_after=None, waker_pid=e.pid,
                                      sync_like=("N" in e.flags)))
                wake_ts[p] = e.ts
            if S.curr[t] == 0 and t != e.cpu or (e.pid == 0 and S.curr[t] == 0):
                pending_idle_wake[p] = (e.ts, t)
            elif p in wl:
                wake_ts[p] = e.ts
        elif n == "sched_process_exit" and e.pid in wl:
            exit_ts[e.pid] = e.ts
        elif n == "sched_process_free":
            free_ts[int(e.fields()["pid"])] = e.ts
        elif n == "sched_migrate_task":
            f = e.fields()
            p = int(f["pid"])
            if p in wl:
                ctx = "wakeup" if (i + 1 < len(evs) and evs[i + 1].name == "sched_wakeup"
                                   and evs[i + 1].fields().get("pid") == f["pid"]) else (
                    "softirq-lb" if "s" in e.flags[2:3] or e.comm.startswith("ksoftirqd") else (
                        "newidle-lb" if e.pid != p else "exec/self"))
                migr[ctx] += 1
                migr_rows.append((e.ts, p, ctx, f["orig_cpu"], f["dest_cpu"]))
        elif n == "sched_switch":
            f = e.fields()
            q = f["next_pid"]
            p = f["prev_pid"]
            if q in pending_idle_wake:
                ts, tc = pending_idle_wake.pop(q)
                if tc == e.cpu:
                    idle_wake_lat.append(e.ts - ts)
            if q in wl and q not in first_in:
                first_in[q] = e.ts
            if q in wake_ts and q in parents:
                futex_wake_to_run.append(e.ts - wake_ts.pop(q))
            if p in wl and f["prev_state"] in ("X", "Z"):
                deaths[p] = e.cpu
                death_ts[p] = e.ts
        if n != "sched_switch" and e.pid in pending_idle_wake and pending_idle_wake[e.pid][1] == e.cpu:
            ts, tc = pending_idle_wake.pop(e.pid)
            idle_wake_lat.append(e.ts - ts)
        if n != "sched_switch" and e.pid in wl and e.pid not in first_in and e.pid in placed:
            first_in[e.pid] = S.inferred_switch_in.get(e.pid, e.ts)
        if n != "sched_switch" and e.pid in wake_ts and e.pid in parents and S.inferred_switch_in.get(e.pid) == e.ts:
            futex_wake_to_run.append(e.ts - wake_ts.pop(e.pid))
        if n == "task_newtask" and e.pid in wl:
            # clone cost: newtask -> parent's next event
            j = i + 1
            while j < len(evs) and not (evs[j].pid == e.pid and evs[j].cpu == e.cpu and evs[j].name == "sched_switch"):
                j += 1
            if j < len(evs):
                clone_cost.append(evs[j].ts - e.ts)
        S.update(e)

    # ---------- 1. fork placement
    nf = len(forks)
    nloc = sum(1 - r["remote"] for r in forks)
    res["forks"] = nf
    res["p_local"] = pct(nloc, nf)
    out.append("\n### %s  (root pid %d, %d workload tasks, %d forks, P(child on parent's CPU) = %.1f%%)\n"
               % (name, root, len(wl), nf, pct(nloc, nf)))

    def cnt(key):
        d = collections.defaultdict(lambda: [0, 0])
        for r in forks:
            k = key(r)
            d[k][0] += 1
            d[k][1] += r["remote"]
        return d

    hdr = ["condition", "forks", "P(local) %", "P(other) %"]
    out.append(md_table("1a. fork placement by what the other CPU was doing", hdr, cond_rows(cnt(lambda r: r["okind"]))))
    out.append(md_table("1b. by how long the other CPU had been idle (µs) x how long the parent's CPU had been busy (µs)", hdr,
                        cond_rows(cnt(lambda r: (bucket(r["idur"], (25, 100, 300, 1000)), "parent CPU busy " + bucket(r["lb"], (25,)))))))
    out.append(md_table("1c. by runnable tasks on parent's CPU (incl. parent) / other CPU (approx.)", hdr,
                        cond_rows(cnt(lambda r: ("local %s" % min(r["nr_l"], 3), "other %s" % min(r["nr_o"], 3))))))
    out.append(md_table("1d. by where the previous child of the same parent went", hdr,
                        cond_rows(cnt(lambda r: ("prev child " + {None: "n/a", 0: "local", 1: "other"}[r["prevr"]], "other idle" if r["oidle"] else "other busy")))))
    res["fork_by_idle"] = {str(k): v for k, v in cnt(lambda r: (bucket(r["idur"], (25, 100, 300, 1000)), bucket(r["lb"], (25,)))).items()}

    # ---------- 2. parent wakeups
    if wake_rows:
        nw = len(wake_rows)
        same_prev = sum(r["t"] == r["prev"] for r in wake_rows)
        same_waker = sum(r["t"] == r["waker"] for r in wake_rows)
        ipi = sum(r["ipi"] for r in wake_rows)
        out.append("\n2. parent wakeups: %d; P(target == prev CPU) = %.1f%%, P(target == waker CPU) = %.1f%%, "
                   "remote (IPI, logged by <idle> in hardirq on target) = %.1f%%" % (nw, pct(same_prev, nw), pct(same_waker, nw), pct(ipi, nw)))
        d = collections.defaultdict(lambda: [0, 0, 0])
        for r in wake_rows:
            k = ("waker==prev" if r["waker"] == r["prev"] else "waker!=prev",
                 "prev CPU idle" if r["prev_idle"] else "prev CPU busy")
            d[k][0] += 1
            d[k][1] += r["t"] == r["prev"]
            d[k][2] += r["t"] == r["waker"]
        rows = [[" / ".join(k), v[0], "%.1f" % pct(v[1], v[0]), "%.1f" % pct(v[2], v[0])] for k, v in sorted(d.items())]
        out.append(md_table("2a. parent wakeups by waker/prev CPU and prev-CPU idle state", ["condition", "wakeups", "P(target=prev) %", "P(target=waker) %"], rows))
        res["wake"] = {"n": nw, "p_prev": pct(same_prev, nw), "p_waker": pct(same_waker, nw), "ipi": pct(ipi, nw)}

    # ---------- 3. deaths
    dd = collections.Counter()
    for ch, c in placed.items():
        if ch in deaths:
            dd[(c, deaths[ch])] += 1
    nd = sum(dd.values())
    same = sum(v for (a, b), v in dd.items() if a == b)
    out.append("\n3. children that died in the trace: %d; died on the CPU they were placed on: %.1f%%; "
               "placed->died matrix: %s" % (nd, pct(same, nd), dict(sorted((("%d->%d" % k), v) for k, v in dd.items()))))
    out.append("   workload-task migrations (sched_migrate_task) by context: %s" % dict(migr))
    res["deaths"] = {"n": nd, "same_cpu": pct(same, nd), "matrix": {"%d->%d" % k: v for k, v in dd.items()}}
    res["migrations"] = dict(migr)

    # ---------- 4. timings
    run = [exit_ts[p] - first_in[p] for p in placed if p in exit_ts and p in first_in and exit_ts[p] >= first_in[p]]
    ex2sw = [death_ts[p] - exit_ts[p] for p in placed if p in exit_ts and p in death_ts]
    rel2free = [free_ts[p] - death_ts[p] for p in placed if p in free_ts and p in death_ts]
    per = [x for v in fork_period.values() for x in v]

    def q(xs):
        a = quantiles(xs, (0.5, 0.9))
        return "%s / %s (n=%d)" % (a[0], a[1], len(xs))
    rows = [["parent clone: task_newtask -> parent's next sched_switch", q(clone_cost)],
            ["child run: first switch-in -> sched_process_exit", q(run)],
            ["child exit -> final X/Z switch", q(ex2sw)],
            ["parent wakeup -> parent running", q(futex_wake_to_run)],
            ["idle-CPU wakeup latency (wakeup on idle CPU -> switch-in/first event)", q(idle_wake_lat)],
            ["fork-to-fork period (same parent)", q(per)],
            ["final switch -> sched_process_free (RCU)", q(rel2free)]]
    span = (t1 - t0) / 1e6
    rows.append(["RCU core runs per CPU in the command window (per second)",
                 ", ".join("cpu%d: %d (%.0f/s)" % (c, rcu_core[c], rcu_core[c] / span) for c in (0, 1))])
    out.append(md_table("4. timings, median / p90 (µs)", ["quantity", "median / p90"], rows))
    res["timing"] = {"clone": quantiles(clone_cost), "run": quantiles(run), "exit_to_switch": quantiles(ex2sw),
                     "wake_to_run": quantiles(futex_wake_to_run), "idle_wake": quantiles(idle_wake_lat),
                     "period": quantiles(per), "release_to_free": quantiles(rel2free, (0.1, 0.5, 0.9)),
                     "rcu_core_per_s": {c: rcu_core[c] / span for c in (0, 1)}}

    # ---------- 5. parent CPU runs
    if name.startswith("pthread-loop"):
        seq = [c for (_, p, c) in parent_cpu_seq if p == root]
        runs = []
        for c in seq:
            if runs and runs[-1][0] == c:
                runs[-1][1] += 1
            else:
                runs.append([c, 1])
        lens = collections.defaultdict(list)
        for c, l in runs:
            lens[c].append(l)
        out.append("\n5. parent CPU over time: %d forks, %d runs; per-CPU forks %s; run length median/p90/max: %s"
                   % (len(seq), len(runs), dict(collections.Counter(seq)),
                      {c: (quantiles(v)[0], quantiles(v)[1], max(v)) for c, v in lens.items()}))
        res["parent_runs"] = {"runs": len(runs), "lens": {c: quantiles(v) + [max(v), len(v)] for c, v in lens.items()}}
        # what precedes a change: the parent's wakeup before the first fork on the new CPU
        chg = collections.Counter()
        ws = sorted(wake_rows, key=lambda r: r["ts"])
        wi = 0
        prevc = None
        for (ts, p, c) in parent_cpu_seq:
            if p != root:
                continue
            while wi < len(ws) and ws[wi]["ts"] < ts:
                last = ws[wi]
                wi += 1
            if prevc is not None and c != prevc:
                chg[("woken by IPI" if last["ipi"] else "woken by waker on CPU%d" % last["waker"],
                     "prev CPU idle" if last["prev_idle"] else "prev CPU busy")] += 1
            prevc = c
        out.append("   what moved the parent (its last wakeup before the first fork on the new CPU): %s" % dict(chg))
        res["parent_moves"] = {str(k): v for k, v in chg.items()}

    # ---------- 6. rounds (burst / stress-ng / messaging): consecutive forks by one parent without intervening join-wake
    if name in ("burst-k4", "stress-ng-pthread", "perf-messaging-thread"):
        rounds = []
        cur = None
        wake_times = collections.defaultdict(list)
        for r in wake_rows:
            wake_times[r["pid"]].append(r["ts"])
        for r in forks:
            p = r["parent"]
            if cur and cur["parent"] == p and not any(cur["last"] < w < r["ts"] for w in wake_times[p]):
                cur["kids"].append(r)
                cur["last"] = r["ts"]
            else:
                cur = {"parent": p, "kids": [r], "last": r["ts"]}
                rounds.append(cur)
        # recompute using bisect for speed is unnecessary at these sizes
        pat = collections.Counter()
        dieon = collections.Counter()
        size = collections.Counter()
        for rd in rounds:
            size[len(rd["kids"])] += 1
            if name == "burst-k4" and len(rd["kids"]) != 4:
                continue
            pat["".join("o" if k["remote"] else "l" for k in rd["kids"][:8])] += 1
            c0 = rd["kids"][0]["c"]
            # children of this round, by death CPU relative to the forking CPU
        top = pat.most_common(8)
        out.append("\n6. rounds (maximal runs of forks by one parent with no wakeup of that parent in between): %d; "
                   "size histogram %s; most common placement patterns (l=parent's CPU, o=other): %s"
                   % (len(rounds), dict(sorted(size.items())[:12]), top))
        res["rounds"] = {"n": len(rounds), "patterns": top, "sizes": dict(size)}
    return res, "\n".join(out), forks, placed, deaths


def main():
    allres = {}
    md = []
    for name in WORKLOADS:
        res, txt, forks, placed, deaths = analyze(name)
        # deaths on the forking CPU
        fc = {}
        # child pid order equals fork order per parent; reconstruct from placed insertion order
        kids = list(placed.keys())
        n = same = 0
        for r, ch in zip(forks, kids):
            if ch in deaths:
                n += 1
                same += deaths[ch] == r["c"]
        txt += "\n   children that died on the CPU their parent forked them on: %.1f%% of %d" % (pct(same, n), n)
        res["died_on_forking_cpu"] = pct(same, n)
        allres[name] = res
        md.append(txt)
        print(txt, flush=True)
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as fh:
            json.dump(allres, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
