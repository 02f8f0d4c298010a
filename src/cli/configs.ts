// kstack configs: the presets, their knobs, and what each workload counts as an op.
import { KNOBS, PRESETS } from '../config/index.ts';
import type { KnobName } from '../config/knobs.ts';
import { formatTable } from '../report/table.ts';
import { WORKLOADS } from '../sim/workloads.ts';
import { parse } from './args.ts';

export const help = `usage: kstack configs [--json]

Lists the config presets with every knob, and the workloads with their parameters.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ presets: PRESETS, knobs: KNOBS, workloads: WORKLOADS }, null, 2)}\n`);
    return 0;
  }
  const names = Object.keys(PRESETS);
  const knobs = Object.keys(KNOBS) as KnobName[];
  const rows = knobs.map((k) => ({ k, vals: names.map((n) => String(PRESETS[n][k])) }));
  process.stdout.write(
    formatTable(rows, [{ title: 'knob', get: (r) => r.k }, ...names.map((n, i) => ({ title: n, get: (r: (typeof rows)[number]) => r.vals[i] }))]),
  );
  process.stdout.write('\nknobs:\n');
  for (const k of knobs) process.stdout.write(`  ${k.padEnd(20)} ${KNOBS[k].doc}\n`);
  process.stdout.write('\nworkloads (--workload name:key=value,...):\n');
  for (const w of Object.values(WORKLOADS)) {
    process.stdout.write(`  ${w.name.padEnd(15)} ${w.summary}; op = ${w.op}\n`);
    for (const [p, [def, doc]] of Object.entries(w.params)) process.stdout.write(`  ${''.padEnd(15)}   ${p}=${def}: ${doc}\n`);
  }
  return 0;
}
