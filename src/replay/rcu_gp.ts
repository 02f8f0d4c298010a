// What a trace shows of Tree RCU's grace periods (kernel/rcu/tree.c, 6.18),
// for a kernel without CONFIG_RCU_TRACE (no rcu:rcu_grace_period event).
//
// Only the grace-period kthread (rcu_preempt / rcu_sched) moves gp_seq:
// rcu_gp_init() starts a grace period, rcu_gp_cleanup() ends one. Between the
// two it waits in rcu_gp_fqs_loop() with swait_event_idle_timeout_exclusive(),
// whose schedule_timeout() arms a process_timeout timer (timer:timer_start in
// the kthread's context); with no grace period in progress rcu_gp_kthread()
// waits in swait_event_idle_exclusive(), with no timer. So:
//   - the kthread arms its timer while none is in progress: rcu_gp_init ran;
//   - it cancels the timer (timer:timer_cancel, del_timer_sync after an early
//     wakeup): the last quiescent state came in (rcu_report_qs_rsp), so
//     rcu_gp_cleanup runs next;
//   - it goes to sleep with no timer armed while one was in progress: the
//     grace period ended (cleanup after a forcing pass, rcu_gp_fqs) and no
//     other was needed.
// A forcing pass that ends the grace period and starts the next at once looks
// like a plain forcing pass (the timer fired, so nothing is cancelled): it is
// decided by which CPUs still owing a quiescent state were idle
// (forceQuiescentState). A last report made while the kthread is already
// woken (by its timer) prints no sched_wakeup, since try_to_wake_up() of a
// TASK_RUNNING task returns before the tracepoint: it counts all the same.
// So does one made while it runs, before it waits again: swake_up_one()
// finds no waiter, and the wait's own check (rcu_gp_fqs_check_wake) sees the
// mask clear, so rcu_gp_cleanup and rcu_gp_init come before its timer_start.
// And a wakeup of the sleeping kthread printed elsewhere while the reporting
// pass is still open is taken for that report's own (try_to_wake_up of a task
// on another CPU prints there) or for its timer's racing it: both wake it to
// a clear mask. That queued wakeup can also print after the pass has ended,
// from the kthread's CPU's IPI (hardirq context), tens of µs later when that
// CPU was deep idle: a report undone at its End is restored by it
// (remoteWakeup), until the kthread next runs.
//
// Each CPU gives its callbacks a grace period (rcu_accelerate_cbs: the next one
// to start, rcu_seq_snap) only at certain points, all in rcu_core() on that CPU
// or in the kthread's own rcu_gp_init/rcu_gp_cleanup (__note_gp_changes for
// the CPU it runs on):
//   - note_gp_changes() seeing rnp->gp_seq moved since the CPU last looked;
//   - rcu_report_qs_rdp(), the CPU reporting its quiescent state: the first
//     pass after a context switch, a scheduler tick outside the idle task
//     (which runs with preemption off) or a ksoftirqd pass since it noted the
//     grace period (rcu_qs);
//   - with no grace period in progress, rcu_core()'s own rcu_accelerate_cbs.
// Callbacks queued on a CPU before its last such point before rcu_gp_init of
// grace period g wait for g at most. They move to its done list when the CPU
// notes g's end (rcu_advance_cbs in __note_gp_changes: rcu_gp_cleanup's own
// for the kthread's CPU, else the CPU's next rcu_core) and rcu_do_batch
// invokes them from there. note_gp_changes only trylocks the rcu_node: when
// another CPU's rcu_core took it in the same or the next microsecond (to note
// or to report) it returns, and this CPU notes nothing, neither the end nor
// the start, until its next pass.
// The batch limit (blimit) spreads one CPU's ready callbacks over back-to-back
// passes. The driver runs them all once the softirq that ran a pass is seen to
// end without handing the rest to ksoftirqd (coreDeferred, sirqPending);
// until then only what a sched_process_free or a kworker wakeup anchors.

export const GP_UNKNOWN = 0;
/**
 * How long after another CPU's pass took the rcu_node lock a note_gp_changes
 * may still find it held: the same or the next microsecond of the trace's
 * clock (trace_clock local prints µs); the lock is held for well under one.
 */
const RNP_LOCK_NS = 1000;
export const GP_IDLE = 1;
export const GP_IN_PROGRESS = 2;

export class RcuGpTracker {
  /** rcu_gp_in_progress() as the kthread's timer shows it. */
  state = GP_UNKNOWN;
  /** Bumps at each rcu_gp_init and rcu_gp_cleanup: what rdp->gp_seq is compared with. */
  gen = 0;
  /** Grace periods seen to start; the tracker decides once one has. */
  inits = 0;
  /** Grace periods seen to end (after the first start). */
  ends = 0;
  /** When the first grace period seen started: callbacks queued before it are left to the estimate. */
  firstInitNs = -1;
  /** When the last grace period seen to end had started (-1: none yet): a callback queued later cannot have been invoked. */
  endedInitNs = -1;
  private initNs = -1;
  /** The kthread's process_timeout timer is armed (between timer_start and its cancel, expiry or the next run). */
  private armed = false;
  /** The kthread's last switch-out was a sleep, not a preemption. */
  private slept = true;
  /** Per CPU: gen at its last note_gp_changes (rdp->gp_seq). */
  private readonly notedGen: Int32Array;
  /** Per CPU: gen when its quiescent state for the grace period in progress was reported (its rnp->qsmask bit cleared). */
  private readonly reportedGen: Int32Array;
  /** Per CPU: running its idle task, and when it last switched to it. */
  private readonly idleNow: Uint8Array;
  private readonly idleEnterNs: Float64Array;
  /** gen of the grace period whose first forcing pass has run, and when it ran. */
  private fqsGen = -1;
  private firstFqsNs = -1;
  /** Per CPU: its report in the pass under way looked like the last one. */
  private readonly lastReport: Uint8Array;
  private readonly lastReportPrevAccelNs: Float64Array;
  private prevAccel = -1;
  /** rcu_core woke the kthread with the grace period's last quiescent state; qsDone: in this run. */
  private coreWoke = false;
  private qsDone = false;
  /** The last report undone at its pass's end (rcuCoreEnd), for remoteWakeup: its CPU (-1: none), gen and acceleration. */
  private undoneCpu = -1;
  private undoneGen = -1;
  private undoneAccelNs = -1;
  /** The kthread was woken and has not been switched in yet: a wakeup now is a no-op (try_to_wake_up of a TASK_RUNNING task) and prints nothing. */
  private woken = false;
  /** The kthread is running and has not yet gone back to waiting (its timer_start, or asleep): a last report now is seen by its next check of rnp->qsmask. */
  private running = false;
  /** This run of the kthread cancelled its timer. */
  private cancelled = false;
  /** A forcing pass in this run ended the grace period (decided at its timer_start, applied when the kthread sleeps). */
  private fqsEnded = false;
  private fqsNs = 0;
  private fqsCpu = 0;
  /** Per CPU: a quiescent state since it noted the grace period (!rdp->cpu_no_qs.b.norm). */
  private readonly qsSeen: Uint8Array;
  /** Per CPU: its last rcu_accelerate_cbs. */
  private readonly lastAccelNs: Float64Array;
  /** Per CPU: between `Start RCU core` and `End RCU core`. */
  private readonly inCore: Uint8Array;
  /** Per CPU: when its open rcu_core pass took the rcu_node lock (-1: it has not). */
  private readonly lockNs: Float64Array;
  /** Per CPU: callbacks queued before this wait for the grace period in progress at most (snapshot at rcu_gp_init). */
  private readonly cutoffNs: Float64Array;
  /** Per CPU: callbacks queued before this have had their grace period (rcu_gp_cleanup), and move to its done list when the CPU notes that. */
  private readonly doneCutoffNs: Float64Array;
  /** Per CPU: callbacks queued before this are on its done list (rcu_advance_cbs): its rcu_core runs them. */
  readonly readyNs: Float64Array;

  constructor(cpuCount: number) {
    this.notedGen = new Int32Array(cpuCount);
    this.reportedGen = new Int32Array(cpuCount).fill(-1);
    this.idleNow = new Uint8Array(cpuCount);
    this.lastReport = new Uint8Array(cpuCount);
    this.lastReportPrevAccelNs = new Float64Array(cpuCount);
    this.idleEnterNs = new Float64Array(cpuCount).fill(-1);
    this.qsSeen = new Uint8Array(cpuCount);
    this.lastAccelNs = new Float64Array(cpuCount).fill(-1);
    this.inCore = new Uint8Array(cpuCount);
    this.lockNs = new Float64Array(cpuCount).fill(-1);
    this.cutoffNs = new Float64Array(cpuCount).fill(-1);
    this.readyNs = new Float64Array(cpuCount).fill(-1);
    this.doneCutoffNs = new Float64Array(cpuCount).fill(-1);
  }

  get active(): boolean {
    return this.inits > 0;
  }

  /** timer_start of process_timeout by the kthread, on `cpu`: the FQS wait of rcu_gp_fqs_loop. */
  fqsTimerStart(cpu: number, tsNs: number): void {
    this.running = false;
    if (this.state === GP_IDLE) this.gpInit(cpu, tsNs);
    else if (this.state === GP_UNKNOWN) this.state = GP_IN_PROGRESS;
    else if (this.qsDone) {
      // Woken by the last quiescent-state report, its timer fired meanwhile (no cancel): cleanup, then the next.
      this.qsDone = false;
      this.gpCleanup(cpu, tsNs);
      this.gpInit(cpu, tsNs);
    } else if (!this.armed && !this.cancelled) {
      // The timer fired (no cancel): rcu_gp_fqs() ran. Whether it ended the
      // grace period (and this timer is the next one's) is decided when the
      // kthread sleeps, unless a cancel shows it still in progress.
      this.fqsEnded = this.forceQuiescentState(tsNs);
      this.fqsNs = tsNs;
      this.fqsCpu = cpu;
    }
    this.armed = true;
  }

  /** timer_cancel by the kthread: woken before the FQS timeout by rcu_report_qs_rsp. */
  fqsTimerCancel(cpu: number, tsNs: number): void {
    this.armed = false;
    this.cancelled = true;
    this.fqsEnded = false;
    this.qsDone = false;
    if (this.state !== GP_IDLE) this.gpCleanup(cpu, tsNs);
  }

  /** The kthread was switched in: a timer armed before has fired or is cancelled in this run. */
  kthreadRuns(): void {
    this.undoneCpu = -1;
    this.woken = false;
    this.running = true;
    if (this.slept) {
      this.armed = false;
      this.cancelled = false;
      this.fqsEnded = false;
      this.qsDone = this.coreWoke;
      this.coreWoke = false;
    }
    this.slept = false;
  }

  /**
   * A sched_wakeup of the kthread from outside rcu_core() (its timer's
   * process_timeout, mostly). A pass still open whose report looked like the
   * last is confirmed by it (the report's own queued wakeup, or the timer's
   * in the same µs).
   */
  kthreadWoken(): void {
    if (this.slept) this.woken = true;
    if (this.state !== GP_IN_PROGRESS) return;
    // A pass whose report looked like the last is still open: this wakeup is that report's
    // (try_to_wake_up of a task on another CPU prints there, TTWU_QUEUE) or its timer's;
    // either way the kthread wakes to a clear rnp->qsmask.
    for (let c = 0; c < this.lastReport.length; c++) {
      if (this.lastReport[c] === 1 && this.inCore[c] === 1) {
        this.lastReport[c] = 0;
        this.coreWoke = true;
      }
    }
  }

  /**
   * rcu_core() woke the kthread. With a grace period in progress only
   * rcu_report_qs_rsp does (the last quiescent state is in): rcu_gp_cleanup
   * follows in its next run. With none, rcu_start_this_gp asked for one.
   */
  kthreadWokenByCore(cpu: number): void {
    this.kthreadWoken();
    this.lastReport[cpu] = 0;
    if (this.state === GP_IN_PROGRESS) this.coreWoke = true;
  }

  /** The kthread sleeps (TASK_IDLE) on `cpu`: with no timer armed, in swait_event_idle_exclusive for RCU_GP_FLAG_INIT. */
  kthreadSleeps(cpu: number, tsNs: number): void {
    this.slept = true;
    this.running = false;
    this.qsDone = false;
    if (this.fqsEnded) {
      // rcu_gp_fqs() reported the last holdouts: rcu_gp_cleanup, and rcu_gp_init of the next before arming the timer.
      this.fqsEnded = false;
      this.gpCleanup(this.fqsCpu, this.fqsNs);
      this.gpInit(this.fqsCpu, this.fqsNs);
    }
    // Not from the unknown state: a timer armed before the kthread was identified would be missed.
    if (!this.armed && this.state === GP_IN_PROGRESS) this.gpCleanup(cpu, tsNs);
  }

  /** Events were lost: what the kthread did meanwhile is unknown until it shows a boundary again. */
  lost(): void {
    this.state = GP_UNKNOWN;
    this.running = false;
    this.woken = false;
    this.undoneCpu = -1;
    this.lastReport.fill(0);
    this.inCore.fill(0);
    this.lockNs.fill(-1);
    this.armed = false;
    this.cancelled = false;
    this.fqsEnded = false;
    this.qsDone = false;
    this.coreWoke = false;
    this.slept = true;
  }

  /** A task other than idle runs on `cpu` (a switch out of idle the trace did not show). */
  busy(cpu: number, tsNs: number): void {
    if (this.idleNow[cpu] === 1) this.idle(cpu, tsNs, false);
  }

  /**
   * rcu_gp_fqs(): force_qs_rnp reports each CPU still owing a quiescent state
   * that is in dyntick-idle now (rcu_watching_snap_save, the first pass of a
   * grace period) or has been since the first pass (rcu_watching_snap_recheck).
   * True when no CPU owes one after it: the grace period has ended.
   */
  private forceQuiescentState(tsNs: number): boolean {
    const first = this.fqsGen !== this.gen;
    let owing = 0;
    for (let c = 0; c < this.reportedGen.length; c++) {
      if (this.reportedGen[c] === this.gen) continue;
      if (this.idleNow[c] === 1 || (!first && this.idleEnterNs[c] > this.firstFqsNs)) this.reportedGen[c] = this.gen;
      else owing++;
    }
    if (first) {
      this.fqsGen = this.gen;
      this.firstFqsNs = tsNs;
    }
    return owing === 0;
  }

  /** `cpu` switched to (true) or from (false) its idle task: dyntick-idle, an extended quiescent state. */
  idle(cpu: number, tsNs: number, entering: boolean): void {
    this.idleNow[cpu] = entering ? 1 : 0;
    if (entering) this.idleEnterNs[cpu] = tsNs;
  }

  /** A quiescent state on `cpu`: a context switch (rcu_note_context_switch) or a scheduler tick (rcu_sched_clock_irq). */
  quiescent(cpu: number): void {
    this.qsSeen[cpu] = 1;
  }

  /** rcu_core() on `cpu` at `tsNs`; `ksoftirqd`: in ksoftirqd. */
  rcuCore(cpu: number, tsNs: number, ksoftirqd: boolean): void {
    this.prevAccel = this.lastAccelNs[cpu];
    this.inCore[cpu] = 1;
    this.lockNs[cpu] = -1;
    if (this.notedGen[cpu] !== this.gen) {
      // note_gp_changes → __note_gp_changes: rcu_advance_cbs or rcu_accelerate_cbs; a new grace period wants a fresh QS.
      // note_gp_changes only trylocks the rcu_node: another CPU's pass holding it now makes it return, noting nothing.
      if (!this.rnpLocked(cpu, tsNs)) {
        this.advance(cpu);
        this.notedGen[cpu] = this.gen;
        this.lastAccelNs[cpu] = tsNs;
        this.lockNs[cpu] = tsNs;
        this.qsSeen[cpu] = 0;
      }
    } else if (this.state === GP_IN_PROGRESS && this.reportedGen[cpu] !== this.gen && this.qsSeen[cpu] === 1) {
      // rcu_check_quiescent_state → rcu_report_qs_rdp → rcu_accelerate_cbs (only while its rnp->qsmask bit is set).
      // The last report wakes the kthread from this pass (rcu_report_qs_rsp); without that wakeup it did not happen.
      this.reportedGen[cpu] = this.gen;
      this.lastAccelNs[cpu] = tsNs;
      this.lockNs[cpu] = tsNs;
      if (this.reportedGen.every((g) => g === this.gen)) {
        // rcu_report_qs_rsp → rcu_gp_kthread_wake: a kthread woken already (its timer) shows no wakeup, and ends the grace period when it runs.
        if (this.woken) this.kthreadWokenByCore(cpu);
        // Running, not yet back in swait_event_idle_timeout_exclusive: its condition (rcu_gp_fqs_check_wake) sees the mask clear.
        else if (this.running && this.state === GP_IN_PROGRESS) this.qsDone = true;
        else {
          this.lastReport[cpu] = 1;
          this.lastReportPrevAccelNs[cpu] = this.prevAccel;
        }
      }
    }
    // rcu_core: !rcu_gp_in_progress() → rcu_accelerate_cbs_unlocked (asks for a grace period).
    if (this.state === GP_IDLE) this.lastAccelNs[cpu] = tsNs;
    // handle_softirqs → rcu_softirq_qs() after each round in ksoftirqd.
    if (ksoftirqd) this.qsSeen[cpu] = 1;
  }

  /**
   * Another CPU's rcu_core pass took the rcu_node lock (raw_spin_lock_irqsave_rcu_node
   * in rcu_report_qs_rdp or __note_gp_changes) within RNP_LOCK_NS before `tsNs`
   * and has not ended: note_gp_changes's raw_spin_trylock_rcu_node fails.
   */
  private rnpLocked(cpu: number, tsNs: number): boolean {
    for (let c = 0; c < this.inCore.length; c++) {
      if (c !== cpu && this.inCore[c] === 1 && this.lockNs[c] >= 0 && tsNs - this.lockNs[c] <= RNP_LOCK_NS) return true;
    }
    return false;
  }

  /**
   * `End RCU core` on `cpu`: a report that would have been the last, with no
   * wakeup of the kthread, is undone, and kept aside for remoteWakeup.
   */
  rcuCoreEnd(cpu: number): void {
    this.inCore[cpu] = 0;
    if (this.lastReport[cpu] === 0) return;
    this.lastReport[cpu] = 0;
    if (this.state !== GP_IN_PROGRESS) return;
    // Kept aside: a wakeup of the kthread that arrives later by IPI is this report's (remoteWakeup).
    this.undoneCpu = cpu;
    this.undoneGen = this.gen;
    this.undoneAccelNs = this.lastAccelNs[cpu];
    this.reportedGen[cpu] = -1;
    this.lastAccelNs[cpu] = this.lastReportPrevAccelNs[cpu];
    this.qsSeen[cpu] = 0;
  }

  /**
   * A wakeup of the sleeping kthread printed in hardirq context on another
   * CPU: try_to_wake_up() of a task whose CPU is not this one queues it there
   * (TTWU_QUEUE) and the target prints it from its IPI, tens of µs later when
   * it was deep idle. After a report that looked like the last and was undone
   * for want of a wakeup in its pass, with no run of the kthread since, this
   * is that wakeup: the report stands, and the kthread ends the grace period.
   */
  remoteWakeup(cpu: number): void {
    const c = this.undoneCpu;
    this.kthreadWoken();
    if (c < 0 || c === cpu || this.undoneGen !== this.gen || this.state !== GP_IN_PROGRESS || !this.slept) return;
    if (this.reportedGen[c] === this.gen) return;
    this.reportedGen[c] = this.gen;
    this.lastAccelNs[c] = this.undoneAccelNs;
    if (this.reportedGen.every((g) => g === this.gen)) this.coreWoke = true;
    this.undoneCpu = -1;
  }

  /** rcu_advance_cbs for `cpu` (__note_gp_changes seeing a grace period end): what has had its grace period is done. */
  private advance(cpu: number): void {
    if (this.doneCutoffNs[cpu] > this.readyNs[cpu]) this.readyNs[cpu] = this.doneCutoffNs[cpu];
  }

  /** rcu_gp_init on `cpu`: rcu_seq_start, then __note_gp_changes for that CPU. */
  private gpInit(cpu: number, tsNs: number): void {
    this.cutoffNs.set(this.lastAccelNs);
    if (this.inits === 0) this.firstInitNs = tsNs;
    this.initNs = tsNs;
    this.inits++;
    this.gen++;
    this.state = GP_IN_PROGRESS;
    this.notedGen[cpu] = this.gen;
    this.lastAccelNs[cpu] = tsNs;
    this.qsSeen[cpu] = 0;
  }

  /** rcu_gp_cleanup on `cpu`: rcu_seq_end, then __note_gp_changes (advance and accelerate) for that CPU. */
  private gpCleanup(cpu: number, tsNs: number): void {
    if (this.inits > 0) {
      this.ends++;
      this.endedInitNs = this.initNs;
      const n = this.readyNs.length;
      for (let c = 0; c < n; c++) if (this.cutoffNs[c] > this.doneCutoffNs[c]) this.doneCutoffNs[c] = this.cutoffNs[c];
    }
    this.gen++;
    this.state = GP_IDLE;
    this.advance(cpu);
    this.notedGen[cpu] = this.gen;
    this.lastAccelNs[cpu] = tsNs;
  }
}
