// Replay throughput on the public pthread-loop trace (read, drive the model over
// every starting fill, score against the vmalloc events), beside `zcat FILE | wc -l`
// measured in the same run. Targets: ≥ 1,300,000 events/s and ≥ half of zcat | wc -l.
import { execFileSync } from 'node:child_process';
import { getPreset } from '../src/config/index.ts';
import { replayTrace } from '../src/replay/replay.ts';

const TRACE = 'examples/traces/pthread-loop.trace.gz';
const RUNS = 5;

/** Best of RUNS replays: seconds and events, and the first call's seconds (cold JIT, as a one-shot CLI run pays). */
async function bestReplay(path: string, validate: boolean): Promise<{ seconds: number; events: number; firstSeconds: number }> {
  let best = Number.POSITIVE_INFINITY;
  let events = 0;
  let firstSeconds = 0;
  for (let i = 0; i < RUNS; i++) {
    const r = await replayTrace(path, { config: getPreset('linux-6.18'), validate });
    events = r.events;
    if (i === 0) firstSeconds = r.seconds;
    if (r.seconds < best) best = r.seconds;
  }
  return { seconds: best, events, firstSeconds };
}

export async function benchReplay(path = TRACE): Promise<Record<string, number | string>> {
  const { seconds: best, events, firstSeconds } = await bestReplay(path, true);
  // Without validation: one model, no scorer; the driver and reader alone.
  const plain = await bestReplay(path, false);
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
    events,
    replaySeconds: Number(best.toFixed(4)),
    firstCallSeconds: Number(firstSeconds.toFixed(4)),
    replayEventsPerSec: eventsPerSec,
    replayNoValidateEventsPerSec: Math.round(plain.events / plain.seconds),
    zcatWcLinesPerSec: zcatLinesPerSec,
    ratioToZcat: Number((eventsPerSec / zcatLinesPerSec).toFixed(3)),
    targetEventsPerSec: 1_300_000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchReplay(process.argv[2]), null, 1));
}
