/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernel generations pidns_guard runs on.
 *
 * Debian's kernels carry two generations of zap_pid_ns_processes(), told
 * apart by PF_NO_NOTIFY_SIGNAL in the headers (docs/generations.md has the
 * stock function of each, line by line, against ours):
 *
 *   old: 6.1.0-47..54 (Debian 12); 6.12.95..113 (Debian 12 and 13,
 *        bookworm-backports); 7.2.x (trixie-backports, forky).  The reap
 *        loop clears TIF_SIGPENDING and TIF_NOTIFY_SIGNAL each round and
 *        sleeps in the kernel's do_wait(), TASK_INTERRUPTIBLE; the final
 *        wait sleeps TASK_INTERRUPTIBLE too, so a freezer or livepatch fake
 *        signal turns it into a 100% CPU spin, and neither sleep freezes.
 *   new: 6.1.0-55 and later, 6.12.115 and later, 7.3.x.  The reap loop runs
 *        under PF_NO_NOTIFY_SIGNAL (signal_pending() ignores task-work
 *        notifications) until the function returns, do_wait() sleeps
 *        TASK_INTERRUPTIBLE | TASK_FREEZABLE, the final wait TASK_IDLE |
 *        TASK_FREEZABLE.
 *
 * pidns_guard gives every generation the newest behaviour.  The final
 * wait needs nothing from the kernel, so old kernels get it as it is (the
 * live fix).  PF_NO_NOTIFY_SIGNAL needs signal_pending() to know the
 * flag, so on old kernels the reap loop keeps dropping the notification
 * each round instead, which is what keeps it from busy-looping there.
 * And the reap loop's sleep, which is the kernel's own do_wait() on new
 * kernels, is ours on old ones (pg_reap_wait() below): the same
 * TASK_INTERRUPTIBLE | TASK_FREEZABLE sleep on the same wait queue.
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
#include <linux/wait.h>
#include <uapi/linux/wait.h>

#include "pidns_guard.h"

#ifdef PF_NO_NOTIFY_SIGNAL
#define PG_GENERATION "new"

/*
 * As the kernel's guard(no_notify_signal): taken before the reap loop and
 * kept until the teardown returns, so that task work queued meanwhile
 * (io_uring, a livepatch transition) interrupts none of our sleeps, the
 * reboot code and BSD accounting included.
 */
static inline unsigned int pg_no_notify_signal_save(void)
{
	return no_notify_signal_save();
}

static inline void pg_no_notify_signal_restore(unsigned int saved)
{
	no_notify_signal_restore(saved);
}

/* The kernel's do_wait() sleeps freezable here: nothing to add. */
struct pg_reaper { };

static inline void pg_reap_begin(struct pg_reaper *r) { }
static inline void pg_reap_end(struct pg_reaper *r) { }

static inline void pg_reap_round(void)
{
	clear_thread_flag(TIF_SIGPENDING);
}

/* One wait of the reap loop: for any child, of any kind. */
static inline long pg_reap_wait(struct pg_reaper *r)
{
	long rc;

	pg_exit_tasks_rcu_stop();
	rc = pg_kernel_wait4(-1, NULL, __WALL, NULL);
	pg_exit_tasks_rcu_start();
	return rc;
}
#else
#define PG_GENERATION "old"

/* signal_pending() does not know PF_NO_NOTIFY_SIGNAL here. */
static inline unsigned int pg_no_notify_signal_save(void)
{
	return 0;
}

static inline void pg_no_notify_signal_restore(unsigned int saved)
{
}

/*
 * The old do_wait() sleeps TASK_INTERRUPTIBLE, which the freezer cannot
 * freeze in place: it keeps kicking the sleeper with a fake signal until
 * it gives up, and system suspend fails ("tasks refusing to freeze") for
 * as long as a teardown waits for a child traced from outside.  So on old
 * kernels we ask the kernel's do_wait() only to look (WNOHANG) and sleep
 * ourselves, as the new do_wait() does, TASK_INTERRUPTIBLE |
 * TASK_FREEZABLE, on the queue it sleeps on: our own entry on
 * signal->wait_chldexit, with the kernel's woken_wake_function().
 *
 * No wakeup is lost.  Every change that can end the wait (a child's exit
 * or stop, a tracer detaching from or reaping a child of ours, a child
 * released by autoreap) is made under tasklist_lock and then announced
 * by __wake_up_parent() on this queue (do_notify_parent(),
 * do_notify_parent_cldstop()).  Our entry is on the queue before the
 * first look and stays there until the loop ends, so a change the look
 * missed has set WQ_FLAG_WOKEN on it, and wait_woken() does not sleep
 * (its barriers pair with woken_wake_function()'s).  The wakeup is
 * TASK_INTERRUPTIBLE, which our state includes.  A wakeup that arrives
 * while the freezer holds us TASK_FROZEN is not lost either: the flag
 * stays set, and the thaw wakes us (6.1 always does; 6.12 does when a
 * wakeup came meanwhile, which ttwu records in saved_state) to look
 * again.
 *
 * No busy loop.  A fake signal (the freezer's TIF_SIGPENDING, a livepatch
 * transition's TIF_NOTIFY_SIGNAL) makes schedule() return at once for
 * as long as it is pending; pg_reap_round() clears both before the next
 * look, so each costs one extra round, as in the stock loop.  The
 * freezer, finding us asleep TASK_FREEZABLE on its next pass, freezes us
 * in place instead of signalling again.  Our entry wakes us for every
 * event on the queue, where do_wait()'s own entry filters out children
 * it would not report: __WALL of pid -1 reports them all, and a wakeup
 * for nothing only costs a look.
 */
struct pg_reaper {
	struct wait_queue_entry entry;
};

static inline void pg_reap_begin(struct pg_reaper *r)
{
	init_waitqueue_func_entry(&r->entry, woken_wake_function);
	r->entry.private = current;
	add_wait_queue(&current->signal->wait_chldexit, &r->entry);
}

static inline void pg_reap_end(struct pg_reaper *r)
{
	remove_wait_queue(&current->signal->wait_chldexit, &r->entry);
}

static inline void pg_reap_round(void)
{
	clear_thread_flag(TIF_SIGPENDING);
	clear_thread_flag(TIF_NOTIFY_SIGNAL);
}

/* One wait of the reap loop: a look, then a freezable sleep if needed. */
static inline long pg_reap_wait(struct pg_reaper *r)
{
	long rc;

	pg_exit_tasks_rcu_stop();
	rc = pg_kernel_wait4(-1, NULL, __WALL | WNOHANG, NULL);
	if (!rc)	/* children, none to report yet */
		wait_woken(&r->entry, TASK_INTERRUPTIBLE | TASK_FREEZABLE,
			   MAX_SCHEDULE_TIMEOUT);
	pg_exit_tasks_rcu_start();
	return rc;
}
#endif

/* One sleep of the final wait; the caller has set the task state. */
static inline void pg_unhash_sleep(void)
{
	pg_exit_tasks_rcu_stop();
	schedule();
	pg_exit_tasks_rcu_start();
}

#endif /* _PG_GENERATION_H */
