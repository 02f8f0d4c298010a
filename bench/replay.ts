// Replay throughput on the public pthread-loop trace (read, drive the model over
// every starting fill, score against the vmalloc events), beside `zcat FILE | wc -l`
// measured in the same run. Targets: ≥ 1,300,000 events/s and ≥ half of zcat | wc -l
// (replayEventsPerSec, the best warm run; the median is printed beside it).
import { execFileSync } from 'node:child_process';
import { builtIsFresh, importEntry } from '../bin/entry.js';

// The code the kstack command runs: the compiled build when fresh (bin/entry.js).
const { getPreset } = (await importEntry('config/index')) as typeof import('../src/config/index.ts');
const { replayTrace } = (await importEntry('replay/replay')) as typeof import('../src/replay/replay.ts');

const TRACE = 'examples/traces/pthread-loop.trace.gz';
/**
 * Replays per figure. The JIT takes three or four replays of this trace to
 * settle, so the steady state is the runs after WARM_RUNS: their best and
 * median are both printed (this VM's run-to-run spread is several percent).
 */
const RUNS = 12;
const WARM_RUNS = 4;

/** RUNS replays: the best and median seconds of the warm ones, events, and the first call's seconds (cold JIT, as a one-shot CLI run pays). */
async function replays(path: string, validate: boolean): Promise<{ seconds: number; median: number; events: number; firstSeconds: number }> {
  const warm: number[] = [];
  let events = 0;
  let firstSeconds = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await replayTrace(path, { config: getPreset('linux-6.18'), validate });
    events = r.events;
    if (i === 0) firstSeconds = r.seconds;
    if (i >= WARM_RUNS) warm.push(r.seconds);
  }
  warm.sort((a, b) => a - b);
  return { seconds: warm[0], median: warm[warm.length >> 1], events, firstSeconds };
}

export async function benchReplay(path = TRACE): Promise<Record<string, number | string>> {
  const { seconds: best, median, events, firstSeconds } = await replays(path, true);
  // Without validation: one model, no scorer; the driver and reader alone.
  const plain = await replays(path, false);
  let zcatBest = Number.POSITIVE_INFINITY;
  let lines = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    lines = Number(execFileSync('sh', ['-c', `zcat '${path}' | wc -l`], { encoding: 'utf8' }).trim());
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < zcatBest) zcatBest = s;
  }
  const eventsPerSec = Math.round(events / best);
  const zcatLinesPerSec = Math.round(lines / zcatBest);
  return {
    trace: path,
    code: builtIsFresh() ? 'dist (compiled)' : 'src (tsx)',
    events,
    replaySeconds: Number(best.toFixed(4)),
    firstCallSeconds: Number(firstSeconds.toFixed(4)),
    replayEventsPerSec: eventsPerSec,
    replayMedianEventsPerSec: Math.round(events / median),
    replayNoValidateEventsPerSec: Math.round(plain.events / plain.seconds),
    zcatWcLinesPerSec: zcatLinesPerSec,
    ratioToZcat: Number((eventsPerSec / zcatLinesPerSec).toFixed(3)),
    targetEventsPerSec: 1_300_000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchReplay(process.argv[2]), null, 1));
}
