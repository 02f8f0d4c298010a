// Random operation sequences through the model; after every step: pages and
// bytes conserved, every stack in exactly one state, at most NR_CACHED_STACKS
// per CPU, refcounts never negative (Kernel.checkInvariants), and no finding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Kernel, ModelUsageError } from '../../src/kernel/kernel.ts';
import { mkKernel } from './helpers.ts';

type Op =
  | { op: 'fork'; cpu: number; thread: boolean }
  | { op: 'run'; cpu: number; pick: number }
  | { op: 'exit'; cpu: number }
  | { op: 'reap'; cpu: number; pick: number }
  | { op: 'read'; cpu: number; pick: number }
  | { op: 'unread'; pick: number }
  | { op: 'tick'; cpu: number }
  | { op: 'gp' }
  | { op: 'work'; cpu: number };

const CPUS = 2;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('fork' as const), cpu: fc.nat(CPUS - 1), thread: fc.boolean() }),
  fc.record({ op: fc.constant('run' as const), cpu: fc.nat(CPUS - 1), pick: fc.nat(50) }),
  fc.record({ op: fc.constant('exit' as const), cpu: fc.nat(CPUS - 1) }),
  fc.record({ op: fc.constant('reap' as const), cpu: fc.nat(CPUS - 1), pick: fc.nat(50) }),
  fc.record({ op: fc.constant('read' as const), cpu: fc.nat(CPUS - 1), pick: fc.nat(50) }),
  fc.record({ op: fc.constant('unread' as const), pick: fc.nat(10) }),
  fc.record({ op: fc.constant('tick' as const), cpu: fc.nat(CPUS - 1) }),
  fc.constant({ op: 'gp' as const }),
  fc.record({ op: fc.constant('work' as const), cpu: fc.nat(CPUS - 1) }),
);

/** A minimal scheduler over the model: tracks who is runnable, dead or zombie. */
function drive(k: Kernel, ops: Op[]): void {
  let t = 1000;
  const runnable: number[] = [100];
  const zombies: number[] = [];
  const readers: { cpu: number; r: NonNullable<ReturnType<Kernel['stackReaderBegin']>> }[] = [];
  k.adoptTask(0, 100, 'init', 0);
  for (const o of ops) {
    t += 1000;
    switch (o.op) {
      case 'fork': {
        const parent = k.currentPid(o.cpu);
        if (parent === 0) break;
        const c = k.kernelClone(o.cpu, t, parent, { thread: o.thread });
        if (c > 0) {
          k.wakeUpNewTask(o.cpu, t, c, o.cpu);
          runnable.push(c);
        }
        break;
      }
      case 'run': {
        const cand = runnable.filter((p) => k.task(p)!.onCpu === false);
        if (cand.length === 0) break;
        const next = cand[o.pick % cand.length];
        k.contextSwitch(o.cpu, t, next, 'S');
        break;
      }
      case 'exit': {
        const cur = k.currentPid(o.cpu);
        if (cur === 0 || cur === 100) break;
        const thread = k.task(cur)!.autoreap;
        k.doExit(o.cpu, t, cur, !thread);
        runnable.splice(runnable.indexOf(cur), 1);
        if (!thread) zombies.push(cur);
        k.contextSwitch(o.cpu, t + 1, 0);
        break;
      }
      case 'reap': {
        if (zombies.length === 0) break;
        const z = zombies.splice(o.pick % zombies.length, 1)[0];
        k.releaseTask(o.cpu, t, z);
        break;
      }
      case 'read': {
        if (runnable.length === 0) break;
        const target = runnable[o.pick % runnable.length];
        const r = k.stackReaderBegin(o.cpu, t, 'stack-trace', target);
        if (r) readers.push({ cpu: o.cpu, r });
        break;
      }
      case 'unread': {
        if (readers.length === 0) break;
        const { cpu, r } = readers.splice(o.pick % readers.length, 1)[0];
        k.stackReaderAccess(cpu, t, r);
        k.stackReaderEnd(cpu, t, r);
        break;
      }
      case 'tick':
        k.tick(o.cpu, t, k.currentPid(o.cpu) === 0);
        break;
      case 'gp':
        k.rcuGpKthread(t);
        break;
      case 'work':
        k.runWork(o.cpu, t);
        break;
    }
    const problems = k.checkInvariants();
    assert.deepEqual(problems, [], `after ${JSON.stringify(o)}`);
    assert.deepEqual(
      k.violations.map((v) => v.message),
      [],
      `after ${JSON.stringify(o)}`,
    );
  }
}

for (const preset of ['linux-4.8', 'linux-4.9', 'linux-4.9-nocache', 'linux-5.18', 'linux-6.18']) {
  test(`${preset}: random operation sequences keep every invariant`, () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const { k } = mkKernel(preset, { LAZY_MAX_PAGES: 40 });
        try {
          drive(k, ops);
        } catch (e) {
          if (!(e instanceof ModelUsageError)) throw e;
        }
      }),
      { numRuns: 150, seed: 42 },
    );
  });
}
