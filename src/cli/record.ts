// `kstack record -o FILE.trace.gz [--duration S] [-- CMD ARGS...]`: a whole-system
// trace of this machine for `kstack replay --validate` (src/trace/record.ts).
// RecordError is an InputError, so main.ts reports it and exits 2.
import { record } from '../trace/record.ts';
import { EXIT_OK, parse, UsageError } from './args.ts';

export const help = `usage: kstack record -o FILE.trace.gz [--duration S] [--buffer-kb N] [--no-prime] [-- CMD ARGS...]

Records the scheduler, task, vmalloc and RCU-core events (plus kmem_cache_alloc
of task_struct where the kernel can filter it, the scheduler tick, and the RCU
grace-period kthread's timer_start/timer_cancel, from which the replay reads
when grace periods start and end) through tracefs while CMD runs,
or for S seconds (default 5) without a command. Needs root; mounts tracefs if
needed. Restores every tracefs setting it changed, also on error, SIGINT and
SIGTERM. Writes FILE.trace.gz atomically and FILE.meta.json (kernel release,
config lines, command, exit status, lost events).

Before the command (or the timed recording) it primes every online CPU's
kernel-stack cache: pinned to each CPU in turn (taskset), a shell forks three
short sleeps alive together and lets them exit, which drains the cache and
fills it again whatever it held. The replay's starting fill then stops
mattering within the first milliseconds, stack vfree totals included. Between
\`capture: prime_start\` and \`prime_end\` markers; --no-prime skips it.

Right after tracing starts it lists the kernel stacks alive then, from
/proc/vmallocinfo, into FILE.meta.json (stack_areas_at_start), so that the
replay's answer key can tell a stack allocated before the trace from any
other area when it is freed. Those addresses print as %pK, so it sets
kernel.kptr_restrict to 1 for that one read and writes the old value back at
once; a \`capture: stack_areas_listed\` marker follows the read.

exit: 0 recorded (even if CMD failed: its status is in the metadata), 2 bad usage
or tracing unavailable
`;

export async function run(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const command = dash < 0 ? [] : argv.slice(dash + 1);
  const { values, positionals } = parse(own, {
    output: { type: 'string', short: 'o' },
    duration: { type: 'string' },
    'buffer-kb': { type: 'string' },
    'no-prime': { type: 'boolean' },
  }, true);
  if (positionals.length > 0) throw new UsageError(`unexpected ${positionals[0]}; put the command after --`);
  if (!values.output) throw new UsageError('-o FILE.trace.gz is required');
  const durationS = values.duration === undefined ? null : Number(values.duration);
  if (durationS !== null && !(durationS > 0 && durationS <= 3600)) throw new UsageError(`--duration ${values.duration}: expected seconds, 0 to 3600`);
  const bufferKb = values['buffer-kb'] === undefined ? 65536 : Number(values['buffer-kb']);
  if (!Number.isInteger(bufferKb) || bufferKb < 64) throw new UsageError(`--buffer-kb ${values['buffer-kb']}: expected a whole number ≥ 64`);
  const r = await record({
      output: values.output,
      command,
      durationS: command.length === 0 ? (durationS ?? 5) : durationS,
      bufferKb,
      prime: values['no-prime'] !== true,
      log: (m) => process.stderr.write(`${m}\n`),
    });
    process.stderr.write(
      `kstack record: ${r.lines} lines to ${r.output} (${r.metaPath}); lost events ${r.lostEvents}` +
        (r.eventsMissing.length > 0 ? `; not on this kernel: ${r.eventsMissing.join(', ')}` : '') +
        (r.exitStatus !== null ? `; command exit ${r.exitStatus}` : '') +
        '\n',
    );
  return EXIT_OK;
}
