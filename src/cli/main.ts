// The `kstack` command. Each subcommand is one file in this directory exporting
// `help` (its usage text) and `run(argv)` (returning the exit code); they are
// loaded on demand so a command pays only for what it uses.
import { InputError } from '../errors.ts';
import { EXIT_USAGE } from './args.ts';

interface Command {
  help: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  seed: { summary: "the 4.9 series' pthread_create/join experiment with the published deltas (npm start)", load: () => import('./seed.ts') },
  sim: { summary: 'simulate a workload under one or more kernel configs', load: () => import('./sim.ts') },
  replay: { summary: 'drive the model from a real ftrace trace; --validate against its vmalloc events', load: () => import('./replay.ts') },
  record: { summary: 'record a trace on this machine (root, tracefs)', load: () => import('./record.ts') },
  check: { summary: 'explore interleavings of the stack-pinning protocol for use-after-free, double free, leaks', load: () => import('./check.ts') },
  report: { summary: 'write a self-contained HTML report', load: () => import('./report.ts') },
  ui: { summary: 'serve the local web UI on 127.0.0.1', load: () => import('./ui.ts') },
  configs: { summary: 'list config presets and knobs', load: () => import('./configs.ts') },
};

export const USAGE = `kstack: an executable model of the Linux kernel-stack lifecycle (4.8 → 4.9 stack caching → 6.18)

usage: kstack <command> [options]    (kstack <command> --help for each)

commands:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(8)} ${c.summary}`)
  .join('\n')}

exit status: 0 ok, 1 findings (violations, failed validation), 2 bad usage or input
`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : EXIT_USAGE;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`kstack: unknown command '${name}'\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  let cmd: Command;
  try {
    cmd = await entry.load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(`kstack ${name}: not built yet in this version\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof InputError) {
      process.stderr.write(`kstack ${name}: ${(e as Error).message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}


if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
