// SPDX-License-Identifier: GPL-2.0
/*
 * Observe /proc flushing at task reap, without changing it.
 *
 * release_task() calls proc_flush_pid() for every task that is reaped, so
 * this sits on the exit path of every task in the system.  A plain
 * ftrace_ops, not IPMODIFY (a livepatch of the same function still
 * coexists with us) and not a kprobe (whose handling on top of ftrace
 * costs a measurable share of a fork+exit cycle on 6.12): its handler is
 * one per-cpu increment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>

#include "pidns_guard.h"

#define PG_FLUSH_TARGET "proc_flush_pid"

static void notrace pg_flush_seen(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *ops,
				  struct ftrace_regs *fregs)
{
	pg_count(PG_PROC_FLUSHES, 1);
}

/*
 * No FTRACE_OPS_FL_RECURSION: that flag asks ftrace to wrap the handler in
 * recursion protection, and a notrace pg_count() (one this_cpu_add(): an
 * instruction safe against preemption and interrupts) cannot recurse.
 * Without it ftrace may call the handler straight from the trampoline.
 */
static struct ftrace_ops pg_flush_ops = {
	.func = pg_flush_seen,
};

int pg_flush_hook_install(void)
{
	int err;

	err = ftrace_set_filter(&pg_flush_ops, PG_FLUSH_TARGET,
				strlen(PG_FLUSH_TARGET), 1);
	if (!err)
		err = register_ftrace_function(&pg_flush_ops);
	if (err) {
		pr_err("cannot observe %s() with ftrace (error %d); refusing to load\n",
		       PG_FLUSH_TARGET, err);
		ftrace_free_filter(&pg_flush_ops);
	}
	return err;
}

void pg_flush_hook_remove(void)
{
	unregister_ftrace_function(&pg_flush_ops);
	ftrace_free_filter(&pg_flush_ops);
}
