// What the kernel itself did, read from a trace's vmalloc:* events and turned
// into the model's event shapes so the report draws it like a model run: a
// fork whose parent ran a stack-sized alloc_vmap_area missed the cache
// (src/replay/scorer.ts decides, the same answer key the validation uses),
// every other fork hit; vmap_lazy_nr comes from free_vmap_area_noflush, and a
// purge_vmap_area_lazy resets it.
import type { KernelEvent, Tracer } from '../kernel/events.ts';
import { VmallocScorer } from '../replay/scorer.ts';
import { parseFreeVmapAreaNoflush, parsePurgeVmapAreaLazy } from '../trace/events.ts';
import { readTrace } from '../trace/reader.ts';
import type { ReaderStats, TraceRecord } from '../trace/types.ts';

export async function observedEvents(source: string, threadSizeBytes: number, sink: Tracer): Promise<ReaderStats> {
  let current: TraceRecord | null = null;
  const event = (r: TraceRecord, name: KernelEvent['name'], args: KernelEvent['args']): void => {
    sink.emit({ tsNs: r.tsNs, cpu: r.cpu, pid: r.pid, comm: r.comm, ctx: 'task', name, args });
  };
  const scorer = new VmallocScorer({
    threadSizeBytes,
    onFork(f) {
      if (current === null) return;
      event(current, f.observed === 'hit' ? 'stack_cache_hit' : 'stack_cache_miss', { child_pid: f.childPid, line: f.lineNo });
    },
  });
  return readTrace(source, {
    onRecord(r) {
      current = r;
      scorer.onRecord(r);
      if (r.event === 'free_vmap_area_noflush') {
        const f = parseFreeVmapAreaNoflush(r.payload);
        if (f) event(r, 'free_vmap_area_noflush', { nr_lazy: f.nrLazyPages, nr_lazy_max: f.nrLazyMaxPages });
      } else if (r.event === 'purge_vmap_area_lazy') {
        const p = parsePurgeVmapAreaLazy(r.payload);
        if (p) event(r, 'purge_vmap_area_lazy', { num_purged: p.numPurged });
      }
    },
  });
}
