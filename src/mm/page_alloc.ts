// A binary buddy allocator over one zone (mm/page_alloc.c): free lists per order,
// split on allocation (expand()), merge with the buddy on free (__free_one_page()),
// plus per-CPU order-0 page lists (struct per_cpu_pages) in front of it. Order-2
// stacks of Linux ≤4.8 come from here, and so do the 4 order-0 pages of each
// vmalloc'd stack. Fragmentation is real: pinned single pages break up high-order
// blocks, and an order-2 request with no free block of order ≥2 takes the slow
// path (compaction, modelled by migrating movable pages) or fails.

export const PAGE_SIZE = 4096;
export const MAX_ORDER = 11; // orders 0..10, as MAX_ORDER (later MAX_PAGE_ORDER + 1) on x86_64

const NONE = -1;

/** What a page frame is used for; conservation is checked over these. */
export enum PageUse {
  Free = 0,
  /** Held on a per-CPU list: free to the allocator, not to the buddy. */
  Pcp = 1,
  Stack = 2,
  /** Background allocation that compaction may migrate. */
  Movable = 3,
  /** Background allocation that cannot move (fragments the zone for good). */
  Unmovable = 4,
}

export interface AllocResult {
  pfn: number;
  /** Took the slow path (compaction) to find the block. */
  slow: boolean;
}

/** Per-CPU page lists for order 0 (pcp->high / pcp->batch, mm/page_alloc.c). */
interface PerCpuPages {
  pfns: number[];
  high: number;
  batch: number;
}

export class BuddyZone {
  readonly nrPages: number;
  /** Head pfn of a free block → its order + 1; 0 when not a free-block head (so a new zone needs no fill). */
  private readonly freeOrder: Int8Array;
  /** Doubly linked free lists threaded through the pfns (struct list_head lru). */
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly heads: Int32Array;
  readonly nrFree: Int32Array;
  readonly use: Uint8Array;
  /** When each page's contents were last used (its stack's last run), plus 1; 0: never (lastTouchNs()). */
  private readonly touchedNs: Float64Array;
  private readonly pcp: PerCpuPages[] = [];
  freePages = 0;
  compactions = 0;
  allocFailures = 0;

  constructor(nrPages: number, cpuCount: number) {
    if (nrPages % (1 << (MAX_ORDER - 1)) !== 0) {
      throw new Error(`zone of ${nrPages} pages is not a multiple of a max-order block`);
    }
    this.nrPages = nrPages;
    // One allocation for every per-page array (the checker builds a zone per explored path):
    // 8-byte times first, then the 4-byte links, then the byte-sized fields. Zero
    // means "none" in each per-page array, and next/prev are read only for pages
    // on a free list, so none is filled: pages the run never touches are never
    // faulted in (a zone is 4.7 MB, and a validated replay builds one per fill).
    const buf = new ArrayBuffer(nrPages * (8 + 4 + 4 + 1 + 1) + MAX_ORDER * 8);
    let at = 0;
    this.touchedNs = new Float64Array(buf, at, nrPages);
    at += nrPages * 8;
    this.next = new Int32Array(buf, at, nrPages);
    at += nrPages * 4;
    this.prev = new Int32Array(buf, at, nrPages);
    at += nrPages * 4;
    this.heads = new Int32Array(buf, at, MAX_ORDER).fill(NONE);
    at += MAX_ORDER * 4;
    this.nrFree = new Int32Array(buf, at, MAX_ORDER);
    at += MAX_ORDER * 4;
    this.freeOrder = new Int8Array(buf, at, nrPages);
    at += nrPages;
    this.use = new Uint8Array(buf, at, nrPages);
    for (let c = 0; c < cpuCount; c++) this.pcp.push({ pfns: [], high: 186, batch: 31 });
    this.fillFreeLists();
  }

  /** When page `pfn`'s contents were last used; -Infinity if never. */
  lastTouchNs(pfn: number): number {
    const t = this.touchedNs[pfn];
    return t === 0 ? Number.NEGATIVE_INFINITY : t - 1;
  }

  /** Records when page `pfn`'s contents were last used (ns >= 0, or -Infinity). */
  setLastTouchNs(pfn: number, ns: number): void {
    this.touchedNs[pfn] = ns + 1;
  }

  /** Every page free, as top-order blocks in descending pfn order so the list head is the lowest pfn. */
  private fillFreeLists(): void {
    const top = MAX_ORDER - 1;
    for (let pfn = this.nrPages - (1 << top); pfn >= 0; pfn -= 1 << top) this.addToFreeList(pfn, top);
    this.freePages = this.nrPages;
  }

  /** __rmqueue_smallest(): lowest order with a free block, split down by expand(). */
  private rmqueueSmallest(order: number): number {
    for (let o = order; o < MAX_ORDER; o++) {
      const pfn = this.heads[o];
      if (pfn === NONE) continue;
      this.delFromFreeList(pfn, o);
      this.expand(pfn, order, o);
      return pfn;
    }
    return NONE;
  }

  /** expand(): give back the upper halves of a split block. */
  private expand(pfn: number, low: number, high: number): void {
    let size = 1 << high;
    while (high > low) {
      high--;
      size >>= 1;
      this.addToFreeList(pfn + size, high);
    }
  }

  /** __free_one_page(): merge with free buddies as far as they go. */
  private freeOnePage(pfn: number, order: number): void {
    while (order < MAX_ORDER - 1) {
      const buddy = pfn ^ (1 << order);
      if (buddy >= this.nrPages || this.freeOrder[buddy] !== order + 1) break;
      this.delFromFreeList(buddy, order);
      pfn &= buddy;
      order++;
    }
    this.addToFreeList(pfn, order);
  }

  /** alloc_pages(order) for a stack; order 0 goes through this CPU's pcp list. */
  allocPages(order: number, cpu: number, use: PageUse): AllocResult | null {
    if (order === 0) {
      const pfn = this.rmqueuePcp(cpu);
      if (pfn === NONE) return this.failOrCompact(0, use);
      this.use[pfn] = use;
      return { pfn, slow: false };
    }
    const pfn = this.rmqueueSmallest(order);
    if (pfn === NONE) return this.failOrCompact(order, use);
    this.markUse(pfn, order, use);
    this.freePages -= 1 << order;
    return { pfn, slow: false };
  }

  /** __free_pages(); order 0 to the pcp list, spilling a batch when above pcp->high. */
  freePagesAt(pfn: number, order: number, cpu: number): void {
    for (let i = 0; i < 1 << order; i++) {
      if (this.use[pfn + i] === PageUse.Free || this.use[pfn + i] === PageUse.Pcp) {
        throw new Error(`double free of pfn ${pfn + i}`);
      }
    }
    if (order === 0) {
      const pcp = this.pcp[cpu];
      this.use[pfn] = PageUse.Pcp;
      pcp.pfns.push(pfn);
      this.freePages++;
      if (pcp.pfns.length > pcp.high) this.freePcpBatch(pcp, pcp.batch);
      return;
    }
    this.markUse(pfn, order, PageUse.Free);
    this.freePages += 1 << order;
    this.freeOnePage(pfn, order);
  }

  /** Give one CPU's pcp pages back to the buddy (drain_pages, e.g. on CPU offline). */
  drainPcp(cpu: number): void {
    const pcp = this.pcp[cpu];
    this.freePcpBatch(pcp, pcp.pfns.length);
  }

  /** Pages free at each order, for /proc/buddyinfo-like reports. */
  buddyinfo(): number[] {
    return Array.from(this.nrFree);
  }

  pcpCount(cpu: number): number {
    return this.pcp[cpu].pfns.length;
  }

  /** Checks free counts against the free lists and the use map. Returns problems, not throws. */
  checkConservation(): string[] {
    const problems: string[] = [];
    let inLists = 0;
    for (let o = 0; o < MAX_ORDER; o++) {
      let n = 0;
      for (let p = this.heads[o]; p !== NONE; p = this.next[p]) {
        n++;
        if (n > this.nrPages) {
          problems.push(`free list ${o} has a cycle`);
          break;
        }
      }
      if (n !== this.nrFree[o]) problems.push(`order ${o}: ${n} blocks listed, nr_free says ${this.nrFree[o]}`);
      inLists += n << o;
    }
    let pcp = 0;
    for (const p of this.pcp) pcp += p.pfns.length;
    if (inLists + pcp !== this.freePages) {
      problems.push(`free pages: ${inLists} in buddy + ${pcp} on pcp lists != ${this.freePages} counted`);
    }
    return problems;
  }

  private rmqueuePcp(cpu: number): number {
    const pcp = this.pcp[cpu];
    if (pcp.pfns.length === 0) {
      // rmqueue_bulk(): refill a batch from the buddy lists.
      for (let i = 0; i < pcp.batch; i++) {
        const pfn = this.rmqueueSmallest(0);
        if (pfn === NONE) break;
        this.use[pfn] = PageUse.Pcp;
        pcp.pfns.push(pfn);
      }
      if (pcp.pfns.length === 0) return NONE;
    }
    const pfn = pcp.pfns.pop()!; // LIFO: the cache-hot page, as list_first_entry on pcp->lists
    this.freePages--;
    return pfn;
  }

  private freePcpBatch(pcp: PerCpuPages, count: number): void {
    // free_pcppages_bulk(): oldest (coldest) pages first.
    const out = pcp.pfns.splice(0, Math.min(count, pcp.pfns.length));
    for (const pfn of out) {
      this.use[pfn] = PageUse.Free;
      this.freeOnePage(pfn, 0);
    }
  }

  /**
   * The slow path: direct compaction finds an aligned block whose busy pages are
   * all movable, migrates them to free pages elsewhere, and retries.
   */
  private failOrCompact(order: number, use: PageUse): AllocResult | null {
    const pfn = this.compactZone(order);
    if (pfn === NONE) {
      this.allocFailures++;
      return null;
    }
    this.compactions++;
    const got = order === 0 ? this.rmqueueSmallest(0) : this.rmqueueSmallest(order);
    if (got === NONE) {
      this.allocFailures++;
      return null;
    }
    this.markUse(got, order, use);
    this.freePages -= 1 << order;
    return { pfn: got, slow: true };
  }

  private compactZone(order: number): number {
    const size = 1 << order;
    for (let base = 0; base + size <= this.nrPages; base += size) {
      let movable = 0;
      let ok = true;
      for (let i = 0; i < size && ok; i++) {
        const u = this.use[base + i];
        if (u === PageUse.Movable) movable++;
        else if (u !== PageUse.Free) ok = false;
      }
      if (!ok || movable === 0 || this.freePages - this.countFreeIn(base, size) < movable) continue;
      for (let i = 0; i < size; i++) {
        if (this.use[base + i] !== PageUse.Movable) continue;
        const dst = this.takeFreePageOutside(base, size);
        if (dst === NONE) return NONE;
        this.use[dst] = PageUse.Movable;
        this.freePages--;
        this.use[base + i] = PageUse.Free;
        this.freePages++;
        this.freeOnePage(base + i, 0);
      }
      return base;
    }
    return NONE;
  }

  private countFreeIn(base: number, size: number): number {
    let n = 0;
    for (let i = 0; i < size; i++) if (this.use[base + i] === PageUse.Free) n++;
    return n;
  }

  private takeFreePageOutside(base: number, size: number): number {
    for (let o = 0; o < MAX_ORDER; o++) {
      for (let p = this.heads[o]; p !== NONE; p = this.next[p]) {
        if (p + (1 << o) <= base || p >= base + size) {
          this.delFromFreeList(p, o);
          this.expand(p, 0, o);
          return p;
        }
      }
    }
    return NONE;
  }

  private markUse(pfn: number, order: number, use: PageUse): void {
    for (let i = 0; i < 1 << order; i++) this.use[pfn + i] = use;
  }

  private addToFreeList(pfn: number, order: number): void {
    const head = this.heads[order];
    this.next[pfn] = head;
    this.prev[pfn] = NONE;
    if (head !== NONE) this.prev[head] = pfn;
    this.heads[order] = pfn;
    this.freeOrder[pfn] = order + 1;
    this.nrFree[order]++;
  }

  private delFromFreeList(pfn: number, order: number): void {
    const n = this.next[pfn];
    const p = this.prev[pfn];
    if (p !== NONE) this.next[p] = n;
    else this.heads[order] = n;
    if (n !== NONE) this.prev[n] = p;
    this.next[pfn] = NONE;
    this.prev[pfn] = NONE;
    this.freeOrder[pfn] = 0;
    this.nrFree[order]--;
  }
}
