// SPDX-License-Identifier: GPL-2.0
/*
 * Policy: what a PID namespace teardown does.
 *
 * pg_zap_pid_ns_processes() runs in place of zap_pid_ns_processes(), in
 * the last live thread of the namespace's init, from do_exit() ->
 * exit_notify() -> forget_original_parent() -> find_child_reaper(), with
 * no locks held.
 * It keeps the namespace inescapable: when it returns, init can be reaped,
 * and by then every other pid of the namespace (and so of every namespace
 * nested in it) has been freed.
 *
 *  1. kill:   close the namespace to new pids, make our children autoreap,
 *             SIGKILL every task of the namespace;
 *  2. reap:   wait for our children (__WALL) until there are none left;
 *  3. unhash: sleep until the last foreign-parented or traced zombie is
 *             released by whoever holds it; free_pid() wakes us.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/idr.h>
#include <linux/ktime.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "pidns_guard.h"
#include "generation.h"
#include "pg_trace.h"

/* Walk the namespace's own pid table: our view may be a different one. */
static u64 pg_kill_phase(struct pid_namespace *ns)
{
	/* Only current itself (at exec) replaces its sighand. */
	struct sighand_struct *sighand =
		rcu_dereference_protected(current->sighand, true);
	struct task_struct *task;
	struct pid *pid;
	u64 killed = 0;
	int nr = 2;	/* pid 1 is init itself */

	/*
	 * Closing the namespace first, then walking it under tasklist_lock,
	 * leaves no window for a fork: copy_process() re-checks PIDNS_ADDING
	 * under the write side, so a child attached after our walk is refused,
	 * and one attached before it is on the table we walk.
	 */
	pg_disable_pid_allocation(ns);

	/* Children that die from now on release themselves. */
	spin_lock_irq(&sighand->siglock);
	sighand->action[SIGCHLD - 1].sa.sa_handler = SIG_IGN;
	spin_unlock_irq(&sighand->siglock);

	rcu_read_lock();
	read_lock(pg_tasklist_lock);
	/*
	 * Every pid, as upstream does, not one per thread group: a group
	 * whose leader already has SIGKILL pending may still have a thread
	 * that does not, and must be signalled through it.  A thread that
	 * execs queues SIGKILL on every other thread (the leader included)
	 * and goes on into the new image; a core dump does the same to all
	 * but the dumper.  A group kill through that thread aborts both.
	 *
	 * Our own thread group is signalled too, as upstream does, when one
	 * of its pids is still hashed here (a non-leader last thread; an
	 * exited thread a tracer has not reaped).  The kernel drops that
	 * SIGKILL: our last thread's do_exit() set SIGNAL_GROUP_EXIT
	 * (synchronize_group_exit(), 5.19 on), so prepare_signal() refuses
	 * it, and only the signal_generate tracepoint sees it (res=1,
	 * ignored).  It kills nothing, so tasks_killed does not count it.
	 */
	idr_for_each_entry_continue(&ns->idr, pid, nr) {
		task = pid_task(pid, PIDTYPE_PID);
		if (!task || __fatal_signal_pending(task))
			continue;
		/* Privileged: nested namespace inits are not immune to it. */
		pg_group_send_sig_info(SIGKILL, SEND_SIG_PRIV, task,
				       PIDTYPE_MAX);
		if (!same_thread_group(task, current))
			killed++;
	}
	read_unlock(pg_tasklist_lock);
	rcu_read_unlock();

	pg_count(PG_TASKS_KILLED, killed);
	return killed;
}

/*
 * Collect the zombies we had before SIGCHLD was ignored, and wait for
 * children traced from outside until their tracer lets go of them.
 * Pending signals and task-work notifications must only end one wait,
 * never turn the loop into a spin; the freezer must be able to freeze
 * the wait in place (generation.h).
 */
static __always_inline u64 pg_reap_phase(void)
{
	struct pg_reaper reaper;
	u64 reaped = 0;
	long rc;

	pg_reap_begin(&reaper);
	do {
		pg_reap_round();
		rc = pg_reap_wait(&reaper);
		if (rc > 0)
			reaped++;
	} while (rc != -ECHILD);
	pg_reap_end(&reaper);

	pg_count(PG_CHILDREN_REAPED, reaped);
	return reaped;
}

/*
 * Zombies parented or traced from outside the namespace are not ours to
 * reap, yet init must outlive them: their pids belong to the namespace.
 * free_pid() wakes the child reaper when the count drops to 2 or 1.
 * TASK_IDLE: neither a signal nor the hung-task detector nor the load
 * average has any business with this sleep.  TASK_FREEZABLE: the freezer
 * may freeze us in place instead of kicking us awake.  Inlined, so that
 * the sleeper's wchan names pg_zap_pid_ns_processes, as the stock one
 * names zap_pid_ns_processes.
 */
static __always_inline u64 pg_unhash_phase(struct pid_namespace *ns,
					   int init_pids)
{
	bool waited = false;
	u64 start = 0;

	for (;;) {
		set_current_state(TASK_IDLE | TASK_FREEZABLE);
		if (READ_ONCE(ns->pid_allocated) == init_pids)
			break;
		if (!waited) {
			waited = true;
			start = ktime_get_ns();
		}
		pg_unhash_sleep();
	}
	__set_current_state(TASK_RUNNING);

	if (waited) {
		u64 elapsed = ktime_get_ns() - start;

		pg_count(PG_UNHASH_WAITS, 1);
		pg_count(PG_UNHASH_WAIT_NS_TOTAL, elapsed);
		pg_note_max(PG_UNHASH_WAIT_NS_MAX, elapsed);
		return elapsed;
	}
	return 0;
}

/* A phase change: for `active`, and for tracers when they listen. */
static void pg_enter_phase(struct pg_teardown *td, enum pg_phase phase)
{
	pg_active_phase(td, phase);
	if (trace_pidns_guard_phase_enabled())
		trace_pidns_guard_phase(td->ns->ns.inum, task_pid_nr(current),
					pg_phase_name(phase),
					ktime_get_ns() - td->start_ns);
}

/**
 * pg_zap_pid_ns_processes - tear down @ns on behalf of its exiting init
 * @ns: the pid namespace whose child reaper is current
 *
 * Named after the function it replaces, so that the reaper's
 * /proc/PID/stack (every phase) and wchan (the final wait) still match
 * what operators and scripts grep for: "zap_pid_ns_processes".
 */
void pg_zap_pid_ns_processes(struct pid_namespace *ns)
{
	/* A non-leader last thread still has its leader's pid 1 allocated. */
	int init_pids = thread_group_leader(current) ? 1 : 2;
	u64 elapsed, killed, reaped, waited;
	struct pg_teardown td;
	unsigned int nn;

	pg_count(PG_TEARDOWNS, 1);
	pg_active_begin(&td, ns);

	killed = pg_kill_phase(ns);
	trace_pidns_guard_teardown_begin(ns->ns.inum, task_pid_nr(current),
					 killed);
	if ((READ_ONCE(ns->pid_allocated) & ~PIDNS_ADDING) > init_pids)
		pg_active_arm_warning(&td);
	/* Task work must not busy-loop us: until we return, as upstream. */
	nn = pg_no_notify_signal_save();
	pg_enter_phase(&td, PG_PHASE_REAP);
	reaped = pg_reap_phase();
	pg_enter_phase(&td, PG_PHASE_UNHASH);
	waited = pg_unhash_phase(ns, init_pids);
	pg_enter_phase(&td, PG_PHASE_FINISH);

	/* reboot(2) inside the namespace decides how init is seen to die. */
	if (ns->reboot)
		current->signal->group_exit_code = ns->reboot;
	pg_acct_exit_ns(ns);

	elapsed = ktime_get_ns() - td.start_ns;
	pg_active_end(&td);
	pg_note_teardown_ns(elapsed);
	pg_count(PG_TEARDOWNS_DONE, 1);
	trace_pidns_guard_teardown_end(ns->ns.inum, task_pid_nr(current),
				       elapsed, killed, reaped, waited);
	pg_no_notify_signal_restore(nn);
}
