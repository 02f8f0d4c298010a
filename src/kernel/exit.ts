// kernel/exit.c: how a task dies and who drops its last references (reference §2.3–2.4).
import { EK } from './events.ts';
import { exitTaskStackAccount, putTaskStruct } from './fork.ts';
import type { Kernel } from './kernel.ts';
import { callRcu, RcuCbKind } from './rcu.ts';
import { EXIT_DEAD, EXIT_ZOMBIE, PF_EXITING, TASK_DEAD, type TaskStruct } from './task.ts';

/**
 * do_exit() up to do_task_dead(): PF_EXITING, the sched_process_exit tracepoint,
 * exit_notify() (autoreaped tasks become EXIT_DEAD and release_task() themselves,
 * here, on their own CPU; others become zombies for the parent to reap),
 * exit_task_stack_account() (≥5.18), then __state = TASK_DEAD. The caller must
 * then switch away (contextSwitch); the stack stays in use until that switch.
 */
export function doExit(k: Kernel, cpu: number, tsk: TaskStruct, groupDead: boolean): void {
  k.spend(k.costs.exitBaseNs);
  tsk.flags |= PF_EXITING;
  if (k.tracing) k.trace(cpu, 'sched_process_exit', { comm: tsk.comm, pid: tsk.pid, prio: 120, group_dead: groupDead });
  else k.noteK(cpu, EK.sched_process_exit, 0);
  exitNotify(k, cpu, tsk);
  if (k.cfg.STACK_ACCOUNT === 'exit') exitTaskStackAccount(k, tsk);
  tsk.state = TASK_DEAD; // do_task_dead(): set_special_state(TASK_DEAD)
}

/** exit_notify(): autoreap → EXIT_DEAD + release_task() now; else EXIT_ZOMBIE. */
function exitNotify(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (tsk.autoreap) {
    tsk.exitState = EXIT_DEAD;
    releaseTask(k, cpu, tsk);
  } else {
    tsk.exitState = EXIT_ZOMBIE;
  }
}

/**
 * release_task(): unhash the task, then hand its task_struct to RCU: v4.9
 * call_rcu(delayed_put_task_struct) directly; ≥5.4 put_task_struct_rcu_user(),
 * so the callback is queued by whichever of release_task / finish_task_switch
 * runs last.
 */
export function releaseTask(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (tsk.released) {
    k.violation('double-release', cpu, tsk.pid, tsk.stack, `release_task() of pid ${tsk.pid} twice`);
    return;
  }
  tsk.released = true;
  tsk.exitState = EXIT_DEAD;
  k.spend(k.costs.waitNs);
  if (k.cfg.RCU_USERS) putTaskStructRcuUser(k, cpu, tsk);
  else callRcu(k, cpu, RcuCbKind.DelayedPutTaskStruct, null, tsk);
}

/** put_task_struct_rcu_user() (≥5.4). */
export function putTaskStructRcuUser(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (tsk.rcuUsers <= 0) {
    k.violation('refcount-underflow', cpu, tsk.pid, tsk.stack, `put_task_struct_rcu_user() of pid ${tsk.pid} with rcu_users ${tsk.rcuUsers}`);
    return;
  }
  tsk.rcuUsers--;
  if (tsk.rcuUsers === 0) callRcu(k, cpu, RcuCbKind.DelayedPutTaskStruct, null, tsk);
}

/** delayed_put_task_struct(): the RCU callback; trace_sched_process_free(), then put_task_struct(). */
export function delayedPutTaskStruct(k: Kernel, cpu: number, tsk: TaskStruct): void {
  if (k.tracing) k.trace(cpu, 'sched_process_free', { comm: tsk.comm, pid: tsk.pid, prio: 120 });
  else k.noteK(cpu, EK.sched_process_free, 0);
  putTaskStruct(k, cpu, tsk);
}

export function isDead(tsk: TaskStruct): boolean {
  return tsk.state === TASK_DEAD;
}
