// kstack record's prologue (primeStackCaches): the script it runs, the online
// CPU list it reads, and what it buys the replay: after it, the starting fill
// of the per-CPU stack caches no longer matters.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { replayTrace } from '../../src/replay/replay.ts';
import { onlineCpus, PRIME_CHILDREN, primeScript } from '../../src/trace/record.ts';

describe('primeScript', () => {
  it('primes every other CPU from a shell pinned to the last, then the last itself', () => {
    const kids = Array.from({ length: PRIME_CHILDREN }, () => 'sleep 0.02').join(' & ');
    assert.equal(primeScript([0, 1]), `taskset -c 0 sh -c '${kids}; wait'; ${kids}; wait`);
    assert.equal(primeScript([3]), `${kids}; wait`);
    assert.ok(PRIME_CHILDREN > 2, 'more children alive at once than NR_CACHED_STACKS');
  });
});

describe('onlineCpus', () => {
  it('reads ranges and lists, and gives nothing for a missing or odd file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-cpus-'));
    try {
      const f = join(dir, 'online');
      writeFileSync(f, '0-1,4,6-7\n');
      assert.deepEqual(onlineCpus(f), [0, 1, 4, 6, 7]);
      writeFileSync(f, 'zero\n');
      assert.deepEqual(onlineCpus(f), []);
      assert.deepEqual(onlineCpus(join(dir, 'missing')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the prologue and the replay', () => {
  const ts = (us: number) => `10.${String(us).padStart(6, '0')}`;
  const sw = (cpu: number, us: number, from: [string, number], state: string, to: [string, number]) =>
    `  ${from[0]}-${from[1]}  [00${cpu}] d..2. ${ts(us)}: sched_switch: prev_comm=${from[0]} prev_pid=${from[1]} prev_prio=120 prev_state=${state} ==> next_comm=${to[0]} next_pid=${to[1]} next_prio=120`;
  const fork = (cpu: number, us: number, parent: [string, number], child: number) => [
    `  ${parent[0]}-${parent[1]}  [00${cpu}] ..... ${ts(us)}: task_newtask: pid=${child} comm=${parent[0]} clone_flags=1200000 oom_score_adj=0`,
    `  ${parent[0]}-${parent[1]}  [00${cpu}] ..... ${ts(us + 1)}: sched_process_fork: comm=${parent[0]} pid=${parent[1]} child_comm=${parent[0]} child_pid=${child}`,
  ];
  const exit = (cpu: number, us: number, who: [string, number], next: [string, number]) => [
    `  ${who[0]}-${who[1]}  [00${cpu}] ..... ${ts(us)}: sched_process_exit: comm=${who[0]} pid=${who[1]} prio=120 group_dead=true`,
    sw(cpu, us + 1, who, 'Z', next),
  ];
  /** One CPU's prologue: a shell on `cpu` forks three sleeps, which all exit there after the third fork. */
  const primeCpu = (cpu: number, t0: number): string[] => {
    const sh: [string, number] = ['sh', 300 + cpu * 10];
    const kid = (k: number): [string, number] => ['sleep', sh[1] + k];
    return [
      sw(cpu, t0, [`swapper/${cpu}`, 0], 'R', sh),
      ...fork(cpu, t0 + 10, sh, kid(1)[1]),
      ...fork(cpu, t0 + 20, sh, kid(2)[1]),
      ...fork(cpu, t0 + 30, sh, kid(3)[1]),
      sw(cpu, t0 + 40, sh, 'S', kid(1)),
      ...exit(cpu, t0 + 50, kid(1), kid(2)),
      ...exit(cpu, t0 + 60, kid(2), kid(3)),
      ...exit(cpu, t0 + 70, kid(3), [`swapper/${cpu}`, 0]),
    ];
  };
  /** The workload: a task on each CPU forks once. */
  const workload = (t0: number): string[] => [
    sw(0, t0, ['swapper/0', 0], 'R', ['main', 500]),
    ...fork(0, t0 + 10, ['main', 500], 501),
    sw(1, t0 + 20, ['swapper/1', 0], 'R', ['main', 600]),
    ...fork(1, t0 + 30, ['main', 600], 601),
  ];
  const replay = async (lines: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-prime-'));
    try {
      const f = join(dir, 't.trace');
      writeFileSync(f, `${lines.join('\n')}\n`);
      return await replayTrace(f, { config: getPreset('linux-6.18'), validate: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('scores the workload from its first fork once every CPU was primed, and not without', async () => {
    const bare = await replay(workload(1000));
    assert.equal(bare.forks, 2);
    assert.equal(bare.burnIn, 2, 'unprimed: each first fork depends on the starting fill');
    const primed = await replay([...primeCpu(0, 100), ...primeCpu(1, 300), ...workload(1000)]);
    assert.equal(primed.forks, 8);
    // In the prologue, the first two forks on a CPU depend on the fill (full: hit; one: hit then miss; empty: misses);
    // the third misses in every case, and the exits leave every variant's cache full.
    assert.equal(primed.burnIn, 4);
    assert.equal(primed.scored, 4, "the prologue's third forks and both workload forks");
  });
});
