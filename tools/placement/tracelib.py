"""Shared ftrace-text parser and scheduler-state tracker for the placement analysis.

Reads /work/shared/traces/NAME.trace.gz (raw trace_pipe text, see the README
there). Never looks at vmalloc:* lines except in groundtruth() (scoring only).
"""
import gzip
import re
import os

TRACE_DIR = os.environ.get("KSTACK_TRACES", "/work/shared/traces")
LINE_RE = re.compile(r"^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(\S+)\s+(\d+)\.(\d+):\s+([^:]+):\s?(.*)$")
KV_RE = re.compile(r"(\w+)=(\S*)")

WORKLOADS = [
    "pthread-loop",
    "pthread-loop-pin0",
    "burst-k4",
    "perf-messaging-thread",
    "bash-true-loop",
    "stress-ng-pthread",
]


class Ev:
    __slots__ = ("comm", "pid", "cpu", "flags", "ts", "name", "raw", "f", "idx")

    def __init__(self, comm, pid, cpu, flags, ts, name, raw, idx):
        self.comm = comm
        self.pid = pid
        self.cpu = cpu
        self.flags = flags
        self.ts = ts  # microseconds (int)
        self.name = name
        self.raw = raw
        self.f = None
        self.idx = idx

    def fields(self):
        if self.f is None:
            if self.name == "sched_switch":
                # prev_comm may contain spaces: split on ' ==> '
                a, b = self.raw.split(" ==> ")
                d = {}
                m = re.search(r"prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+)", a)
                d["prev_pid"] = int(m.group(1))
                d["prev_state"] = m.group(3)
                m = re.search(r"next_pid=(\d+) next_prio=(\d+)$", b)
                d["next_pid"] = int(m.group(1))
                d["next_comm"] = b[len("next_comm="):b.rfind(" next_pid=")]
                d["prev_comm"] = a[len("prev_comm="):a.rfind(" prev_pid=")]
                self.f = d
            elif self.name == "tracing_mark_write":
                self.f = {"msg": self.raw}
            else:
                d = {}
                for k, v in KV_RE.findall(self.raw):
                    d[k] = v
                self.f = d
        return self.f


def parse(name):
    path = os.path.join(TRACE_DIR, name + ".trace.gz")
    out = []
    with gzip.open(path, "rt", errors="replace") as fh:
        for i, line in enumerate(fh):
            m = LINE_RE.match(line.rstrip("\n"))
            if not m:
                continue
            comm, pid, cpu, flags, s, us, ev, rest = m.groups()
            ts = int(s) * 1000000 + int(us.ljust(6, "0")[:6])
            out.append(Ev(comm, int(pid), int(cpu), flags, ts, ev.strip(), rest, i))
    return out


def root_pid(evs):
    for e in evs:
        if e.name == "tracing_mark_write" and "cmd_start pid=" in e.raw:
            return int(e.raw.split("cmd_start pid=")[1].split()[0])
    raise ValueError("no cmd_start")


def cmd_window(evs):
    t0 = t1 = None
    for e in evs:
        if e.name == "tracing_mark_write":
            if "cmd_start" in e.raw:
                t0 = e.ts
            elif "cmd_end" in e.raw:
                t1 = e.ts
    return t0, t1


def workload_pids(evs):
    root = root_pid(evs)
    wl = {root}
    for e in evs:
        if e.name == "sched_process_fork":
            f = e.fields()
            if int(f["pid"]) in wl or e.pid in wl:
                wl.add(int(f["child_pid"]))
    return root, wl


def is_kworker(comm):
    return comm.startswith("kworker") or comm.startswith("ksoftirqd") or comm.startswith("rcu_") or comm.startswith("migration")


class SchedState:
    """Approximate per-CPU scheduler state, updated event by event.

    curr[c]: pid running on CPU c (0 = idle); idle_since[c]: time CPU c last
    switched to idle (None if busy); rq[c]: set of pids runnable on c
    (including curr); loc[pid]: CPU the task is (or was last) on.
    """

    def __init__(self, ncpu=2):
        self.n = ncpu
        self.curr = [None] * ncpu
        self.curr_comm = [""] * ncpu
        self.idle_since = [None] * ncpu
        self.busy_since = [None] * ncpu
        self.rq = [set() for _ in range(ncpu)]
        self.loc = {}
        self.last_switch_in = {}
        self.last_switch_out = {}
        self.comm = {}
        self.inferred_switch_in = {}

    def nr(self, c):
        return len(self.rq[c])

    def _infer_running(self, e):
        # CPU1's idle->task sched_switch lines are absent from these traces:
        # any non-idle event on a CPU we believe idle means a task was switched in.
        c = e.cpu
        if e.pid != 0 and self.curr[c] in (0, None):
            self.curr[c] = e.pid
            self.curr_comm[c] = e.comm
            self.idle_since[c] = None
            self.busy_since[c] = e.ts
            self.inferred_switch_in[e.pid] = e.ts
            self.rq[c].add(e.pid)
            self.loc[e.pid] = c
            self.last_switch_in[e.pid] = e.ts

    def update(self, e):
        n = e.name
        if n != "sched_switch":
            self._infer_running(e)
        if n == "sched_switch":
            f = e.fields()
            c = e.cpu
            p, q = f["prev_pid"], f["next_pid"]
            st = f["prev_state"]
            if p != 0 and not st.startswith("R"):
                self.rq[c].discard(p)
            if p != 0:
                self.last_switch_out[p] = e.ts
                self.comm[p] = f["prev_comm"]
            if q != 0:
                # it is runnable on c
                for cc in range(self.n):
                    if cc != c:
                        self.rq[cc].discard(q)
                self.rq[c].add(q)
                self.loc[q] = c
                self.last_switch_in[q] = e.ts
                self.comm[q] = f["next_comm"]
            if q == 0:
                # an idle CPU has no runnable fair tasks
                self.rq[c].clear()
            if q == 0 and (self.curr[c] != 0):
                self.idle_since[c] = e.ts
                self.busy_since[c] = None
            elif q != 0 and self.curr[c] in (0, None):
                self.idle_since[c] = None
                self.busy_since[c] = e.ts
            self.curr[c] = q
            self.curr_comm[c] = f["next_comm"]
        elif n in ("sched_wakeup", "sched_wakeup_new"):
            f = e.fields()
            p = int(f["pid"])
            t = int(f["target_cpu"])
            for cc in range(self.n):
                if cc != t:
                    self.rq[cc].discard(p)
            self.rq[t].add(p)
            self.loc[p] = t
        elif n == "sched_migrate_task":
            f = e.fields()
            p = int(f["pid"])
            o, d = int(f["orig_cpu"]), int(f["dest_cpu"])
            if p in self.rq[o]:
                self.rq[o].discard(p)
                self.rq[d].add(p)
            self.loc[p] = d


def pct(x, n):
    return 100.0 * x / n if n else float("nan")


def quantiles(xs, qs=(0.5, 0.9)):
    if not xs:
        return [float("nan")] * len(qs)
    s = sorted(xs)
    return [s[min(len(s) - 1, int(q * len(s)))] for q in qs]
