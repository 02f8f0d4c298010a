// The totals beside the per-fork score: predicted stack vfrees as a spread over
// the unknown starting fills, and observed vfrees with the frees the answer key
// cannot classify (src/replay/scorer.ts, src/replay/driver.ts fillRange).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getPreset } from '../../src/config/index.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCaptureMeta, replayTrace } from '../../src/replay/replay.ts';
import { VmallocScorer } from '../../src/replay/scorer.ts';
import { readTraceText } from '../../src/trace/reader.ts';

const THREAD_SIZE = 16384;

/** ftrace lines from one task on CPU 0, one payload each. */
function lines(...events: string[]): string {
  return events.map((e, i) => `          tbench-100     [000] .....   10.${String(100000 + i).slice(1)}0: ${e}\n`).join('');
}

function score(text: string, stacksAtStart: bigint[] | null = null, stacksListedAtMarker = ''): VmallocScorer {
  const s = new VmallocScorer({ threadSizeBytes: THREAD_SIZE, stacksAtStart, stacksListedAtMarker, onFork() {} });
  readTraceText(text, { onRecord: (r) => s.onRecord(r) });
  return s;
}

const free = (va: number, nrLazy: number): string => `free_vmap_area_noflush: va_start=0x${(0xffffc90000000000n + BigInt(va)).toString(16)} nr_lazy=${nrLazy} nr_lazy_max=16384`;

describe('observed stack vfrees', () => {
  it('the first free has no nr_lazy before it: aligned, it is unclassified; the next is told by its 5 pages', () => {
    const s = score(lines(free(4 * THREAD_SIZE, 40), free(9 * THREAD_SIZE, 45), free(3 * 4096 + THREAD_SIZE, 46)));
    assert.equal(s.unclassifiedVfrees, 1);
    assert.equal(s.observedVfrees, 1, 'the second free adds 5 pages: a stack');
  });

  it('a first free not aligned to THREAD_SIZE cannot be a stack', () => {
    const s = score(lines(free(THREAD_SIZE + 4096, 40)));
    assert.equal(s.unclassifiedVfrees, 0);
    assert.equal(s.observedVfrees, 0);
  });

  it('a purge leaves no nr_lazy to count from again', () => {
    const s = score(
      lines(
        free(THREAD_SIZE, 40),
        free(2 * THREAD_SIZE, 45),
        'purge_vmap_area_lazy: start=0xffffc90000000000 end=0xffffc90000100000 num_purged=9',
        free(5 * THREAD_SIZE, 5),
        free(6 * THREAD_SIZE, 10),
      ),
    );
    assert.equal(s.unclassifiedVfrees, 2);
    assert.equal(s.observedVfrees, 2);
    assert.equal(s.observedPurges, 1);
  });

  it('a free of a stack allocated in the trace is a stack whatever came before', () => {
    const va = 12 * THREAD_SIZE;
    const alloc = `alloc_vmap_area: va_start: ${0xffffc90000000000n + BigInt(va)} size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0`;
    const s = score(lines(alloc, free(va, 5)));
    assert.equal(s.observedVfrees, 1);
    assert.equal(s.unclassifiedVfrees, 0);
  });

  it('with the stacks alive at the start listed (kstack record), a free is a stack exactly when its area is listed or allocated since', () => {
    const va = (n: number): bigint => 0xffffc90000000000n + BigInt(n * THREAD_SIZE);
    const listed = [va(4), va(20)];
    const alloc = `alloc_vmap_area: va_start: ${va(12)} size=20480 align=16384 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0`;
    // first free: listed (a stack with no nr_lazy before it); then an aligned 5-page free that is not listed
    // (the nr_lazy rule alone would call it a stack); then the in-trace stack; then the listed one twice
    const text = lines(free(4 * THREAD_SIZE, 40), free(9 * THREAD_SIZE, 45), alloc, free(12 * THREAD_SIZE, 50), free(20 * THREAD_SIZE, 55), free(20 * THREAD_SIZE, 60));
    const s = score(text, listed);
    assert.equal(s.observedVfrees, 3, 'va 4, 12 and 20 once');
    assert.equal(s.unclassifiedVfrees, 0);
    const blind = score(text);
    assert.equal(blind.unclassifiedVfrees, 1, 'without the list the first free is unclassified');
    assert.equal(blind.observedVfrees, 4, 'and every later 5-page step counts as a stack, the unlisted one and the repeat included');
  });

  it('a list read after tracing started holds from its marker: before it, an unlisted free may be a stack freed before the read', () => {
    const va = (n: number): bigint => 0xffffc90000000000n + BigInt(n * THREAD_SIZE);
    const mark = 'tracing_mark_write: capture: stack_areas_listed n=1';
    // an unlisted aligned first free before the marker: unclassified; a 5-page step after it: a stack; after the marker neither counts
    const text = lines(free(4 * THREAD_SIZE, 40), free(9 * THREAD_SIZE, 45), mark, free(11 * THREAD_SIZE, 50), free(20 * THREAD_SIZE, 55));
    const s = score(text, [va(20)], 'capture: stack_areas_listed');
    assert.equal(s.unclassifiedVfrees, 1);
    assert.equal(s.observedVfrees, 2, 'va 9 (nr_lazy, before the marker) and va 20 (listed)');
    const fromStart = score(text, [va(20)]);
    assert.equal(fromStart.unclassifiedVfrees, 0);
    assert.equal(fromStart.observedVfrees, 1, 'without a marker the list holds from the first line');
  });

  it('readCaptureMeta: odd metadata is ignored, not a crash; a list without this THREAD_SIZE is no list', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kstack-meta-'));
    try {
      const trace = join(dir, 'x.trace.gz');
      for (const text of ['null', '[]', '"x"', '{"nr_cpus":"2"}', '{"stack_areas_at_start":null}', '{"stack_areas_at_start":{"by_size":7}}']) {
        writeFileSync(join(dir, 'x.meta.json'), text);
        const m = readCaptureMeta(trace);
        assert.equal(m.nrCpus, null, text);
        assert.equal(m.stackAreasBySize === null || Object.keys(m.stackAreasBySize).length === 0, true, text);
      }
      writeFileSync(join(dir, 'x.meta.json'), JSON.stringify({ nr_cpus: 2, stack_areas_at_start: { by_size: { '36864': ['0xffffc90000010000'] }, marker: 'capture: stack_areas_listed' } }));
      const m = readCaptureMeta(trace);
      assert.equal(m.nrCpus, 2);
      assert.equal(m.stackListMarker, 'capture: stack_areas_listed');
      writeFileSync(trace, gzipSync(`${lines('free_vmap_area_noflush: va_start=0xffffc90000010000 nr_lazy=40 nr_lazy_max=16384')}`));
      const r = await replayTrace(trace, { config: getPreset('linux-6.18'), validate: true });
      assert.equal(r.stacksAtStart, null, 'only 36 KiB areas listed (KASAN stacks), this config has 20 KiB ones');
      assert.equal(r.vfrees.observedUnclassified, 1, 'so the first aligned free is unclassified, as without a list');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an empty list still says every stack is known: an unlisted first free is not a stack', () => {
    const s = score(lines(free(4 * THREAD_SIZE, 40)), []);
    assert.equal(s.observedVfrees, 0);
    assert.equal(s.unclassifiedVfrees, 0);
  });
});

describe('predicted stack vfrees over the starting fills', () => {
  it('rec-churn-3000 (not primed): the fills differ before they converge, and the primary is one of them', async () => {
    const r = await replayTrace('examples/traces/recorded/rec-churn-3000.trace.gz', { config: getPreset('linux-6.18'), validate: true });
    const v = r.vfrees;
    assert.ok(v.predictedMin < v.predictedMax, `spread ${v.predictedMin}-${v.predictedMax}`);
    assert.ok(v.predictedMin <= v.predicted && v.predicted <= v.predictedMax);
    assert.ok(v.predictedMin <= v.observed && v.observed <= v.predictedMax + v.observedUnclassified, `observed ${v.observed}`);
  });

  it('rec-burst-4-2500: the spread is kept when the fills converge and only the primary runs on', async () => {
    const r = await replayTrace('examples/traces/recorded/rec-burst-4-2500.trace.gz', { config: getPreset('linux-6.18'), validate: true });
    assert.ok(r.convergedAtLine > 0, 'the fills converge in this trace');
    const v = r.vfrees;
    assert.ok(v.predictedMin < v.predictedMax, `spread ${v.predictedMin}-${v.predictedMax}`);
    assert.ok(v.predictedMin <= v.observed && v.observed <= v.predictedMax, `observed ${v.observed}`);
  });

  it('without --validate one model runs: no spread', async () => {
    const r = await replayTrace('examples/traces/recorded/rec-churn-3000.trace.gz', { config: getPreset('linux-6.18'), validate: false });
    assert.equal(r.vfrees.predictedMin, r.vfrees.predicted);
    assert.equal(r.vfrees.predictedMax, r.vfrees.predicted);
  });
});
