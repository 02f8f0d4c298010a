// Shared helpers for the trace reader tests: run a reader and keep everything it reports.

import { readTrace, readTraceStream, readTraceText } from '../../src/trace/reader.ts';
import type { LostEvents, ReaderStats, TraceRecord } from '../../src/trace/types.ts';

export interface Collected {
  records: TraceRecord[];
  lost: LostEvents[];
  stats: ReaderStats;
}

export const FIXTURES_DIR = new URL('../fixtures/traces/', import.meta.url);
export const EXAMPLES_DIR = new URL('../../examples/traces/', import.meta.url);

export function fixturePath(name: string): string {
  return new URL(name, FIXTURES_DIR).pathname;
}

export function examplePath(name: string): string {
  return new URL(name, EXAMPLES_DIR).pathname;
}

export function collectText(text: string, name?: string): Collected {
  const records: TraceRecord[] = [];
  const lost: LostEvents[] = [];
  const stats = readTraceText(text, { onRecord: (r) => records.push(r), onLost: (l) => lost.push(l) }, name);
  return { records, lost, stats };
}

export async function collectFile(path: string): Promise<Collected> {
  const records: TraceRecord[] = [];
  const lost: LostEvents[] = [];
  const stats = await readTrace(path, { onRecord: (r) => records.push(r), onLost: (l) => lost.push(l) });
  return { records, lost, stats };
}

export async function collectChunks(chunks: Buffer[]): Promise<Collected> {
  const records: TraceRecord[] = [];
  const lost: LostEvents[] = [];
  async function* source(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield c;
  }
  const stats = await readTraceStream(source(), { onRecord: (r) => records.push(r), onLost: (l) => lost.push(l) });
  return { records, lost, stats };
}

/** The record of one line, for compact expectations. */
export function only(c: Collected): TraceRecord {
  if (c.records.length !== 1) throw new Error(`expected exactly one record, got ${c.records.length}`);
  return c.records[0];
}
