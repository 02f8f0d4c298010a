// npm run bench: speed and memory figures, printed (never asserted in tests).
// Each figure runs in a fresh child process so peak RSS is that run's own.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

interface Figure {
  name: string;
  value: string;
}

function child(script: string): Record<string, number | string> {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function simFigure(ops: number, placement: string): Record<string, number | string> {
  return child(`
    import { importEntry } from './bin/entry.js';
    const { runSim } = await importEntry('sim/run');
    const { getPreset } = await importEntry('config/index');
    const run = (onProgress) => runSim({ config: getPreset('linux-6.18'), workload: 'pthread-loop', cpus: 2, placement: '${placement}', ops: ${ops}, seed: 1, onProgress });
    const t0 = process.hrtime.bigint();
    const r = run(undefined);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    // A second, untimed run samples the live heap after a full GC every 2^16 events.
    let live = 0;
    run(() => { globalThis.gc(); live = Math.max(live, process.memoryUsage().heapUsed); });
    console.log(JSON.stringify({ ops: r.ops, seconds: s, opsPerSec: Math.round(r.ops / s), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), liveHeapMiB: Math.round(live / 1048576 * 10) / 10, hitRate: r.stackCache.hitRate }));
  `);
}

const figures: Figure[] = [];
for (const placement of ['pin:0', 'default']) {
  for (const ops of [100_000, 1_000_000]) {
    const r = simFigure(ops, placement);
    figures.push({
      name: `sim pthread-loop linux-6.18 2 CPUs ${placement}, ${ops.toLocaleString('en')} ops`,
      value: `${Number(r.opsPerSec).toLocaleString('en')} create+join/s (${Number(r.seconds).toFixed(2)} s), peak RSS ${r.peakRssMiB} MiB, max live heap after GC ${r.liveHeapMiB} MiB`,
    });
  }
}
for (const [file, fn] of [
  ['bench/reader.ts', 'benchReader'],
  ['bench/replay.ts', 'benchReplay'],
  ['bench/check.ts', 'benchCheck'],
] as const) {
  if (!existsSync(file)) continue;
  try {
    const r = child(`
      const m = await import('./${file}');
      const f = m['${fn}'];
      if (typeof f !== 'function') { console.log(JSON.stringify({ skipped: 'no ${fn}' })); process.exit(0); }
      const res = await f(${fn === 'benchReader' ? "'examples/traces/pthread-loop.trace.gz'" : ''});
      console.log(JSON.stringify(res));
    `);
    figures.push({ name: `${file} ${fn}`, value: JSON.stringify(r) });
  } catch (e) {
    figures.push({ name: `${file} ${fn}`, value: `failed: ${(e as Error).message.split('\n')[0]}` });
  }
}
for (const f of figures) console.log(`${f.name}: ${f.value}`);
