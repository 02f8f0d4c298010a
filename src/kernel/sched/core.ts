// kernel/sched/core.c: the parts of the scheduler core that touch task and
// stack lifetimes. Placement decisions belong to the driver (the simulator's
// placement policy or the trace); the model only executes them.
import { EK } from '../events.ts';
import { putTaskStack, putTaskStruct } from '../fork.ts';
import { putTaskStructRcuUser } from '../exit.ts';
import type { Kernel } from '../kernel.ts';
import { rcuNoteContextSwitch } from '../rcu.ts';
import {
  EXIT_DEAD,
  EXIT_ZOMBIE,
  StackState,
  TASK_DEAD,
  TASK_INTERRUPTIBLE,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  type TaskStruct,
} from '../task.ts';

/** Scheduler-visible state of a task being switched out, as sched_switch prints it. */
export type PrevState = 'R' | 'R+' | 'S' | 'D';

/** wake_up_new_task(): the child becomes runnable on the CPU placement chose. */
export function wakeUpNewTask(k: Kernel, cpu: number, p: TaskStruct, targetCpu: number): void {
  p.state = TASK_RUNNING;
  p.cpu = targetCpu;
  if (p.stack && p.stack.state === StackState.Allocated) p.stack.state = StackState.InUse;
  if (k.tracing) k.trace(cpu, 'sched_wakeup_new', { comm: p.comm, pid: p.pid, prio: 120, target_cpu: targetCpu });
  else k.noteK(cpu, EK.sched_wakeup_new, 0);
}

/** try_to_wake_up(): runnable again, possibly on another CPU. */
export function tryToWakeUp(k: Kernel, cpu: number, p: TaskStruct, targetCpu: number): void {
  if (p.cpu !== targetCpu) setTaskCpu(k, cpu, p, targetCpu);
  p.state = TASK_RUNNING;
  if (k.tracing) k.trace(cpu, 'sched_wakeup', { comm: p.comm, pid: p.pid, prio: 120, target_cpu: targetCpu });
  else k.noteK(cpu, EK.sched_wakeup, 0);
}

/** set_task_cpu(): migration, with its tracepoint. */
export function setTaskCpu(k: Kernel, cpu: number, p: TaskStruct, dest: number): void {
  k.trace(cpu, 'sched_migrate_task', { comm: p.comm, pid: p.pid, prio: 120, orig_cpu: p.cpu, dest_cpu: dest });
  p.cpu = dest;
}

/**
 * __schedule() → context_switch() → finish_task_switch(): the switch itself is
 * a quiescent state; if prev was TASK_DEAD this is its final switch, and the
 * next task, on this CPU, drops prev's stack and scheduler reference. With
 * `finish` false the caller runs finishTaskSwitchDead() itself, as separate
 * steps (the interleaving explorer).
 */
export function contextSwitch(k: Kernel, cpu: number, prev: TaskStruct, next: TaskStruct, prevState: PrevState, finish = true): void {
  k.spend(k.costs.contextSwitchNs);
  const pc = k.cpus[cpu];
  const dead = prev.state === TASK_DEAD;
  if (!dead && prev.pid !== 0) prev.state = prevStateValue(prevState);
  if (k.tracing) {
    k.trace(cpu, 'sched_switch', {
      prev_comm: prev.comm,
      prev_pid: prev.pid,
      prev_prio: 120,
      prev_state: dead ? deadStateLetter(prev) : prevState,
      next_comm: next.comm,
      next_pid: next.pid,
      next_prio: 120,
    });
  } else k.noteK(cpu, EK.sched_switch, 0);
  prev.onCpu = false;
  next.onCpu = true;
  if (next.pid !== 0) next.cpu = cpu;
  if (next.stack && next.stack.state === StackState.Allocated) next.stack.state = StackState.InUse;
  pc.curr = next;
  rcuNoteContextSwitch(k, cpu);
  if (dead) {
    k.stats.finalSwitches++;
    if (prev.stack) prev.stack.lastTouchNs = k.nowNs;
    if (finish) finishTaskSwitchDead(k, cpu, prev);
  }
}

/**
 * finish_task_switch(), prev_state == TASK_DEAD: "Task is done with its stack."
 * put_task_stack(prev), then put_task_struct(prev) (v4.9) or
 * put_task_struct_rcu_user(prev) (≥5.4).
 */
export function finishTaskSwitchDead(k: Kernel, cpu: number, prev: TaskStruct): void {
  if (k.cfg.STACK_FREE === 'early') {
    finishTaskSwitchStackRef(k, prev);
    putTaskStack(k, cpu, prev);
  }
  finishTaskSwitchTaskRef(k, cpu, prev);
}

/** Known bug `early-free-without-refcount`: the final put ignores pinners, as if there were no refcount. */
export function finishTaskSwitchStackRef(k: Kernel, prev: TaskStruct): void {
  if (k.mut.earlyFreeWithoutRefcount) prev.stackRefcount = 1;
}

/** The second half of finish_task_switch() for a dead prev: its scheduler reference. */
export function finishTaskSwitchTaskRef(k: Kernel, cpu: number, prev: TaskStruct): void {
  if (k.cfg.RCU_USERS) putTaskStructRcuUser(k, cpu, prev);
  else putTaskStruct(k, cpu, prev);
}

function prevStateValue(s: PrevState): number {
  if (s === 'S') return TASK_INTERRUPTIBLE;
  if (s === 'D') return TASK_UNINTERRUPTIBLE;
  return TASK_RUNNING;
}

/** __task_state_index(TASK_DEAD, exit_state): X for EXIT_DEAD, Z for EXIT_ZOMBIE. */
function deadStateLetter(p: TaskStruct): string {
  if (p.exitState === EXIT_DEAD) return 'X';
  if (p.exitState === EXIT_ZOMBIE) return 'Z';
  return 'X';
}
