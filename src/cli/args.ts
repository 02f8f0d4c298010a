// Shared argument handling for every subcommand: node:util parseArgs with the
// project's conventions (--help everywhere, exit 2 on bad usage, clear errors).
import { InputError } from '../errors.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends InputError {}

/** Exit codes: 0 ok, 1 findings (a violation, a failed validation), 2 bad usage or input. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_USAGE = 2;

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOption(value: string | undefined, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return def;
  if (!/^\d+$/.test(value)) throw new UsageError(`${name} ${value}: expected a whole number`);
  const v = Number(value);
  if (v < min || v > max) throw new UsageError(`${name} ${value}: expected ${min} to ${max}`);
  return v;
}

export function listOption(value: string | undefined): string[] {
  return value ? value.split(',').filter((s) => s.length > 0) : [];
}

/**
 * A progress line on stderr for anything running over a second: only when
 * stderr is a TTY and not --quiet. Returns `update(msg)` and `done()`, which
 * clears the line. Wall-clock time is read here, at the edge, never in the model.
 */
export function progress(quiet: boolean): { update(msg: () => string): void; done(): void } {
  if (quiet || !process.stderr.isTTY) return { update() {}, done() {} };
  const start = Date.now();
  let shown = false;
  return {
    update(msg) {
      if (Date.now() - start < 1000) return;
      shown = true;
      process.stderr.write(`\r\x1b[K${msg()}`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

export function colour(): boolean {
  return !process.env.NO_COLOR && !!process.stdout.isTTY;
}
