// Standalone simulator throughput: pthread-loop on linux-6.18, 2 CPUs, warm,
// best of several runs in one process (npm run bench runs each figure cold in
// a fresh process; this is for profiling and before/after comparisons).
//   node --import tsx bench/sim.ts [placement=pin:0] [ops=1000000] [runs=4]
import { getPreset } from '../src/config/index.ts';
import { runSim } from '../src/sim/run.ts';

const placement = process.argv[2] ?? 'pin:0';
const ops = Number(process.argv[3] ?? 1_000_000);
const runs = Number(process.argv[4] ?? 4);
const config = getPreset('linux-6.18');
// Warm-up: let V8 tier up before timing.
runSim({ config, workload: 'pthread-loop', cpus: 2, placement, ops: 20_000, seed: 1 });
// Wall time is the figure; CPU time (user+system) is printed too, as it is less
// disturbed by other load on a shared machine.
let best = 0;
let bestCpu = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = runSim({ config, workload: 'pthread-loop', cpus: 2, placement, ops, seed: 1 });
  const c = process.cpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  best = Math.max(best, r.ops / s);
  bestCpu = Math.max(bestCpu, r.ops / ((c.user + c.system) / 1e6));
}
console.log(`${placement} ${ops} ops: best ${Math.round(best).toLocaleString('en')} create+join/s (per CPU-second ${Math.round(bestCpu).toLocaleString('en')})`);
