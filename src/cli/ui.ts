// kstack ui: serves the local web app on 127.0.0.1 until interrupted.
import { existsSync } from 'node:fs';
import { startUiServer } from '../ui/server.ts';
import { EXIT_OK, intOption, parse, UsageError } from './args.ts';

export const help = `usage: kstack ui [--port N] [FILE...]

Serves a local app on http://127.0.0.1:N/ (127.0.0.1 only; default port 7878,
0 picks a free one): choose a workload and one or two configs, or load a trace
(a FILE named here or one uploaded through the page); a timeline with CPU lanes
and stack events, each CPU's cache slots, the RCU queue and every live stack;
step forward and back; click a stack for its whole history; two configs side by
side. It reads only the files named here or uploaded, and writes nothing.
Ctrl-C stops it.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { port: { type: 'string' } }, true);
  const port = intOption(values.port, '--port', 7878, 0, 65535);
  for (const f of positionals) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const ui = await startUiServer({ port, files: positionals });
  process.stderr.write(`kstack ui: serving ${ui.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void ui.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return EXIT_OK;
}
