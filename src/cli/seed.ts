// kstack seed (npm start): the series' own experiment. pthread_create+join in a
// loop on 2 CPUs, pinned and with default placement, under 4.8, 4.9 without
// its last patch, 4.9, and 6.18; then each published delta beside the one the
// model computes. Deltas are taken from the pinned runs, where the cache hits:
// the cover letter's figure is "when the cache hits".
import { getPreset } from '../config/index.ts';
import { formatTable } from '../report/table.ts';
import { type SimResult, runSim } from '../sim/run.ts';
import { EXIT_FINDINGS, EXIT_OK, intOption, parse } from './args.ts';
import { simTable } from './sim.ts';

export const help = `usage: kstack seed [--ops N] [--seed S] [--json]

Runs the 4.9 series' pthread_create/join experiment on the model (2 CPUs, pinned
and default placement; linux-4.8, linux-4.9-nocache, linux-4.9, linux-6.18) and
prints each published delta beside the modelled one. Exit status 1 if a modelled
delta falls outside its published range.
`;

export const CONFIGS = ['linux-4.8', 'linux-4.9-nocache', 'linux-4.9', 'linux-6.18'] as const;

export interface PublishedDelta {
  id: string;
  what: string;
  /** µs per op of `slower` minus `faster`. */
  slower: (typeof CONFIGS)[number];
  faster: (typeof CONFIGS)[number];
  lowUs: number;
  highUs: number;
  source: string;
}

export const PUBLISHED: readonly PublishedDelta[] = [
  {
    id: 'a',
    what: '4.9 cache hit vs 4.8 order-2 stacks',
    slower: 'linux-4.8',
    faster: 'linux-4.9',
    lowUs: 0.5,
    highUs: 1.0,
    source: 'Lutomirski, [PATCH 00/12] cover letter, 2016-09-13: "about 0.5-1 µs per pthread_create/join"',
  },
  {
    id: 'b',
    what: '4.9 vs 4.9 without the stack cache',
    slower: 'linux-4.9-nocache',
    faster: 'linux-4.9',
    lowUs: 1.5,
    highUs: 2.5,
    source: 'ac496bf48d97 commit message: "saves about 2 µs per pthread_create()+join()"',
  },
  {
    id: 'c',
    what: 'vmapped stacks without cache vs 4.8',
    slower: 'linux-4.9-nocache',
    faster: 'linux-4.8',
    lowUs: 1.0,
    highUs: 2.0,
    source: 'VMAP_STACK proposal (LWN 692208, June 2016): clone() "about 1.5µs longer"',
  },
];

export interface SeedResult {
  pinned: SimResult[];
  unpinned: SimResult[];
  deltas: { id: string; what: string; publishedUs: [number, number]; modelUs: number; inside: boolean; source: string }[];
}

export function runSeed(ops: number, seed: number): SeedResult {
  const one = (placement: string) =>
    CONFIGS.map((c) => runSim({ config: getPreset(c), workload: 'pthread-loop', cpus: 2, placement, ops, seed }));
  const pinned = one('pin:0');
  const unpinned = one('default');
  const us = (name: string): number => pinned.find((r) => r.config === name)!.usPerOp;
  const deltas = PUBLISHED.map((d) => {
    const modelUs = Math.round((us(d.slower) - us(d.faster)) * 1000) / 1000;
    return { id: d.id, what: d.what, publishedUs: [d.lowUs, d.highUs] as [number, number], modelUs, inside: modelUs >= d.lowUs && modelUs <= d.highUs, source: d.source };
  });
  return { pinned, unpinned, deltas };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ops: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } });
  const ops = intOption(values.ops, '--ops', 20000, 100, 1e8);
  const seed = intOption(values.seed, '--seed', 1, 0, 2 ** 32 - 1);
  const r = runSeed(ops, seed);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  } else {
    process.stdout.write('kstack seed: pthread_create + pthread_join, 2 CPUs (the 4.9 series\' "simple test")\n\n');
    process.stdout.write(`pinned (taskset -c 0):\n${simTable(r.pinned)}\n`);
    process.stdout.write(`default placement:\n${simTable(r.unpinned)}\n`);
    process.stdout.write('published deltas (pinned runs, µs per create+join):\n');
    process.stdout.write(
      formatTable(r.deltas, [
        { title: '', get: (d) => `(${d.id})` },
        { title: 'comparison', get: (d) => d.what, align: 'left' },
        { title: 'published', get: (d) => `${d.publishedUs[0]}–${d.publishedUs[1]}` },
        { title: 'model', get: (d) => d.modelUs },
        { title: '', get: (d) => (d.inside ? 'inside' : 'OUTSIDE'), align: 'left' },
      ]),
    );
    process.stdout.write(`\nsources:\n${r.deltas.map((d) => `  (${d.id}) ${d.source}`).join('\n')}\n`);
  }
  return r.deltas.every((d) => d.inside) ? EXIT_OK : EXIT_FINDINGS;
}
