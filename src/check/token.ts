// Replay tokens: scenario, config, mutation and the schedule in one compact
// string, `k1.` + base64url("scenario|config|mutation|schedule"), the schedule
// one base-36 digit per step (thread index). `kstack check --replay TOKEN`
// re-executes exactly that schedule.
import { InputError } from '../errors.ts';
export interface ReplayToken {
  scenario: string;
  config: string;
  mutation: string | null;
  schedule: number[];
}

const PREFIX = 'k1.';

export function encodeToken(t: ReplayToken): string {
  for (const s of t.schedule) if (!Number.isInteger(s) || s < 0 || s >= 36) throw new RangeError(`thread index ${s}: tokens hold 0 to 35`);
  const body = `${t.scenario}|${t.config}|${t.mutation ?? '-'}|${t.schedule.map((s) => s.toString(36)).join('')}`;
  return PREFIX + Buffer.from(body, 'utf8').toString('base64url');
}

export class TokenError extends InputError {
  override name = 'TokenError';
}

export function decodeToken(token: string): ReplayToken {
  if (!token.startsWith(PREFIX)) throw new TokenError(`replay token ${JSON.stringify(token)}: expected it to start with ${PREFIX}`);
  const body = Buffer.from(token.slice(PREFIX.length), 'base64url').toString('utf8');
  const parts = body.split('|');
  if (parts.length !== 4 || !/^[0-9a-z]*$/.test(parts[3])) throw new TokenError(`replay token ${JSON.stringify(token)} is damaged`);
  return {
    scenario: parts[0],
    config: parts[1],
    mutation: parts[2] === '-' ? null : parts[2],
    schedule: [...parts[3]].map((c) => Number.parseInt(c, 36)),
  };
}
