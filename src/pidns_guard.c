// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_guard: make PID namespace teardown inescapable and visible.
 *
 * Load claims zap_pid_ns_processes() first (the step other owners of the
 * function, or ftrace being off, refuse) but arms the redirect last, so a
 * teardown only reaches pg_zap_pid_ns_processes() once everything it uses
 * exists; unload removes it first.  Every failure unwinds what was done and says
 * why in one line.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/security.h>

#include "pidns_guard.h"
#include "generation.h"

/*
 * The kernel generation this build is for, where an operator can read it
 * at any time (the load message rotates out of the kernel log): sysfs
 * parameters need no debugfs, and lockdown leaves 0444 files readable.
 * Read-only: giving it a value at load is refused.
 */
static int pg_generation_set(const char *val, const struct kernel_param *kp)
{
	pr_err("generation is read-only (it is '%s' for this build)\n",
	       PG_GENERATION);
	return -EPERM;
}

static int pg_generation_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n", PG_GENERATION);
}

static const struct kernel_param_ops pg_generation_ops = {
	.set = pg_generation_set,
	.get = pg_generation_get,
};
module_param_cb(generation, &pg_generation_ops, NULL, 0444);
MODULE_PARM_DESC(generation,
		 "kernel generation of this build, read-only: old (pidns_guard is the live fix) or new (the kernel has the fixes)");

/*
 * Lockdown "integrity" (Secure Boot) takes nothing from us: our debugfs
 * files are 0444, ftrace and kprobes stay open.  "confidentiality" closes
 * tracefs, and with it the trace events: say so once, at load.  (The
 * lockdown LSM logs its own "use of tracefs is restricted" line too.)
 */
static void __init pg_note_lockdown(void)
{
	if (security_locked_down(LOCKDOWN_TRACEFS))
		pr_info("the kernel is locked down (confidentiality): tracefs is closed, so the trace events pidns_guard:* cannot be read; debugfs, the counters and the stuck warning work\n");
}

static int __init pg_init(void)
{
	int err;

	err = pg_zap_hook_install();
	if (err)
		return err;

	err = pg_ksyms_resolve();
	if (err)
		goto out_zap;

	err = pg_stats_init();
	if (err) {
		pr_err("cannot allocate the counters; refusing to load\n");
		goto out_zap;
	}

	err = pg_flush_hook_install();
	if (err)
		goto out_stats;

	pg_debugfs_init();
	pg_zap_hook_arm();
	pg_unload_guard_start();

	pr_info("version %s active: zap_pid_ns_processes() replaced (%s generation kernel)\n",
		PG_VERSION, PG_GENERATION);
	pg_note_lockdown();
	return 0;

out_stats:
	pg_stats_exit();
out_zap:
	pg_zap_hook_remove();
	return err;
}

static void __exit pg_exit(void)
{
	pg_zap_hook_remove();
	pg_unload_guard_exit();
	pg_active_exit();
	pg_debugfs_exit();
	pg_flush_hook_remove();
	pg_stats_exit();
	pr_info("unloaded: stock zap_pid_ns_processes() restored\n");
}

module_init(pg_init);
module_exit(pg_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("pidns_guard developers");
MODULE_DESCRIPTION("Inescapable, observable PID namespace teardown (live replacement of zap_pid_ns_processes)");
MODULE_VERSION(PG_VERSION);
/* For `modinfo -F generation`: the operator's tools, without loading it. */
MODULE_INFO(generation, PG_GENERATION);
