// SPDX-License-Identifier: GPL-2.0
/*
 * Observe /proc flushing at task reap, without changing it.
 *
 * release_task() calls proc_flush_pid() for every task that is reaped, so
 * this sits on the exit path of every task in the system.  A kprobe (not
 * an IPMODIFY ftrace_ops, so a livepatch of the same function still
 * coexists with us) whose handler is one per-cpu increment.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>

#include "pidns_guard.h"

static int pg_flush_seen(struct kprobe *kp, struct pt_regs *regs)
{
	pg_count(PG_PROC_FLUSHES, 1);
	return 0;
}

static struct kprobe pg_flush_kp = {
	.symbol_name = "proc_flush_pid",
	.pre_handler = pg_flush_seen,
};

int pg_flush_hook_install(void)
{
	int err = register_kprobe(&pg_flush_kp);

	if (err)
		pr_err("cannot observe proc_flush_pid() with a kprobe (error %d); refusing to load\n",
		       err);
	return err;
}

void pg_flush_hook_remove(void)
{
	unregister_kprobe(&pg_flush_kp);
}
