/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernel generations pidns_guard runs on.
 *
 * Debian 12 ships two generations of zap_pid_ns_processes():
 *
 *   old: 6.1.0-47..54, 6.12.100..113.  The reap loop clears TIF_SIGPENDING
 *        and TIF_NOTIFY_SIGNAL each round; the final wait sleeps in
 *        TASK_INTERRUPTIBLE, so a freezer or livepatch fake signal leaves
 *        TIF_SIGPENDING set and turns it into a 100% CPU spin.
 *   new: 6.1.0-55+, 6.12.115+.  PF_NO_NOTIFY_SIGNAL makes signal_pending()
 *        ignore task-work notifications during the reap loop, and the final
 *        wait is TASK_IDLE | TASK_FREEZABLE.
 *
 * pidns_guard gives every generation the newest behaviour.  The final wait
 * state needs nothing from the kernel, so old kernels get it too (the live
 * fix).  PF_NO_NOTIFY_SIGNAL needs signal_pending() to know the flag, so on
 * old kernels the reap loop keeps dropping the notification each round,
 * which is what keeps it from busy-looping there.
 *
 * 6.1 also holds the RCU-tasks exit read side (tasks_rcu_exit_srcu) across
 * do_exit(); a sleep that waits for another task must drop it, or a
 * synchronize_rcu_tasks() in that other task deadlocks: the tracer or
 * foreign parent that is to release a holder, unloading a livepatch or a
 * BPF trampoline, waits for us while we wait for it.  The stock function
 * drops it around its final sleep only; we also drop it around the reap
 * loop's wait, where a zombie traced from outside holds us (the same
 * argument makes it safe: init cannot be reaped while it is in here).
 * 6.10 removed that SRCU, and these calls compile to nothing there.
 */
#ifndef _PG_GENERATION_H
#define _PG_GENERATION_H

#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <uapi/linux/wait.h>

#include "pidns_guard.h"

#ifdef PF_NO_NOTIFY_SIGNAL
#define PG_GENERATION "new"

static inline unsigned int pg_reap_begin(void)
{
	return no_notify_signal_save();
}

static inline void pg_reap_end(unsigned int saved)
{
	no_notify_signal_restore(saved);
}

static inline void pg_reap_round(void)
{
	clear_thread_flag(TIF_SIGPENDING);
}
#else
#define PG_GENERATION "old"

static inline unsigned int pg_reap_begin(void)
{
	return 0;
}

static inline void pg_reap_end(unsigned int saved)
{
}

static inline void pg_reap_round(void)
{
	clear_thread_flag(TIF_SIGPENDING);
	clear_thread_flag(TIF_NOTIFY_SIGNAL);
}
#endif

/* One wait of the reap loop: for any child, of any kind. */
static inline long pg_reap_wait(void)
{
	long rc;

	pg_exit_tasks_rcu_stop();
	rc = pg_kernel_wait4(-1, NULL, __WALL, NULL);
	pg_exit_tasks_rcu_start();
	return rc;
}

/* One sleep of the final wait; the caller has set the task state. */
static inline void pg_unhash_sleep(void)
{
	pg_exit_tasks_rcu_stop();
	schedule();
	pg_exit_tasks_rcu_start();
}

#endif /* _PG_GENERATION_H */
