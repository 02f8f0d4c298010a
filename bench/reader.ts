// Throughput of the trace reader on one file: decompression, line splitting and
// header parsing, with a trivial onRecord. Called by `npm run bench`.

import { importEntry } from '../bin/entry.js';

const { readTrace } = (await importEntry('trace/reader')) as typeof import('../src/trace/reader.ts');

export interface ReaderBench {
  events: number;
  seconds: number;
  eventsPerSec: number;
}

export async function benchReader(path: string): Promise<ReaderBench> {
  let events = 0;
  const startNs = process.hrtime.bigint();
  await readTrace(path, {
    onRecord() {
      events++;
    },
  });
  const seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  return { events, seconds, eventsPerSec: Math.round(events / seconds) };
}

// `node --import tsx bench/reader.ts [FILE]` runs it alone, best of 5.
if (import.meta.url === `file://${process.argv[1]}`) {
  const path = process.argv[2] ?? 'examples/traces/pthread-loop.trace.gz';
  let best: ReaderBench | null = null;
  for (let run = 0; run < 5; run++) {
    const r = await benchReader(path);
    if (best === null || r.seconds < best.seconds) best = r;
  }
  console.log(JSON.stringify({ path, ...best }));
}
