// Throughput of the interleaving explorer: DFS nodes (states reached by a
// step, revisits included) and distinct states per second on
// reader-vs-exit:stack-trace (linux-6.18), repeated until about a second has
// passed. Called by `npm run bench`; returns figures without printing.
import { importEntry } from '../bin/entry.js';

const { checkConfig } = (await importEntry('check/exec')) as typeof import('../src/check/exec.ts');
const { scenarioByName } = (await importEntry('check/scenarios')) as typeof import('../src/check/scenarios.ts');
const { DEFAULTS, search } = (await importEntry('check/search')) as typeof import('../src/check/search.ts');

export async function benchCheck(): Promise<Record<string, number | string>> {
  const sc = scenarioByName('reader-vs-exit:stack-trace')!;
  const cfg = checkConfig('linux-6.18');
  for (let i = 0; i < 20; i++) search(sc, cfg, null, DEFAULTS.dfs); // warm-up (JIT)
  let explored = 0;
  let states = 0;
  let runs = 0;
  const startNs = process.hrtime.bigint();
  let seconds = 0;
  while (seconds < 1) {
    const r = search(sc, cfg, null, DEFAULTS.dfs);
    explored += r.explored;
    states += r.states;
    runs++;
    seconds = Number(process.hrtime.bigint() - startNs) / 1e9;
  }
  return {
    scenario: sc.name,
    config: cfg.name,
    searches: runs,
    seconds: Math.round(seconds * 1000) / 1000,
    exploredPerSec: Math.round(explored / seconds),
    distinctStatesPerSec: Math.round(states / seconds),
    targetPerSec: 200_000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchCheck()));
}
