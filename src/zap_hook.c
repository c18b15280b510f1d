// SPDX-License-Identifier: GPL-2.0
/*
 * Mechanism: redirect zap_pid_ns_processes() to pg_zap_pid_ns_processes().
 *
 * Why raw ftrace and not livepatch: the tasks we exist for are inits
 * sleeping inside zap_pid_ns_processes().  A livepatch cannot finish its
 * transition while any task sleeps in the function it patches, so loading
 * would leave a transition pending for as long as a container stays stuck,
 * blocking every other livepatch meanwhile.  An IPMODIFY ftrace_ops takes
 * effect for the next call at once; a teardown already inside the stock
 * function simply finishes there.
 *
 * What that costs us is the safety livepatch gives on unload, rebuilt here:
 *
 *  - The redirect is only taken with a module reference in hand
 *    (try_module_get() in the ftrace handler).  While a teardown runs our
 *    code, rmmod fails with EBUSY.  Once the module is going, the handler
 *    fails to get the reference and leaves the call to the stock function.
 *  - The reference is dropped by the last call pg_zap_entry() makes; the
 *    few instructions up to its return run in an RCU-tasks read side (no
 *    voluntary sleep), and so does the handler itself.  Removal waits for
 *    an RCU-tasks grace period after unregistering, so no task can be in
 *    our text when the module is freed.
 *  - FTRACE_OPS_FL_PERMANENT: with kernel.ftrace_enabled=0 the redirect
 *    could otherwise be switched off behind our back (and a loaded module
 *    would pin that sysctl instead).
 *
 * The ops is registered first thing at load, disarmed: registering is what
 * another owner of the function (or ftrace being off) refuses, and nothing
 * else may have been done by then (6.1 trips over a kprobe registered
 * while kernel.ftrace_enabled is 0, and our symbol lookup uses one).  Once
 * armed, with everything pg_zap_pid_ns_processes() needs in place, calls
 * are taken.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "pidns_guard.h"

/*
 * Without ftrace_regs (DYNAMIC_FTRACE_WITH_ARGS) the generic
 * ftrace_*instruction_pointer_set() is an empty macro: the handler would
 * take a module reference and never redirect.  Refuse to build, as
 * dkms.conf's BUILD_EXCLUSIVE_CONFIG refuses such a kernel.
 */
#ifndef CONFIG_DYNAMIC_FTRACE_WITH_ARGS
#error "pidns_guard needs CONFIG_DYNAMIC_FTRACE_WITH_ARGS to redirect a call"
#endif

#define PG_TARGET "zap_pid_ns_processes"

static void pg_zap_entry(struct pid_namespace *ns)
{
	pg_zap_pid_ns_processes(ns);
	module_put(THIS_MODULE);
}

static void pg_set_ip(struct ftrace_regs *fregs, unsigned long ip)
{
#ifdef ftrace_regs_set_instruction_pointer
	ftrace_regs_set_instruction_pointer(fregs, ip);
#else	/* before the 6.7 rename */
	ftrace_instruction_pointer_set(fregs, ip);
#endif
}

static bool pg_armed;

static void notrace pg_zap_redirect(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);

	if (bit < 0)
		return;
	/* acquire: pairs with pg_zap_hook_arm(), all set up before it */
	if (smp_load_acquire(&pg_armed) && try_module_get(THIS_MODULE))
		pg_set_ip(fregs, (unsigned long)pg_zap_entry);
	ftrace_test_recursion_unlock(bit);
}

/*
 * No FTRACE_OPS_FL_RECURSION: the handler guards itself (as livepatch's
 * does), so ftrace need not wrap it in a second guard.
 */
static struct ftrace_ops pg_zap_ops = {
	.func = pg_zap_redirect,
	.flags = FTRACE_OPS_FL_DYNAMIC | FTRACE_OPS_FL_IPMODIFY |
		 FTRACE_OPS_FL_PERMANENT,
};

/**
 * pg_zap_hook_install - claim zap_pid_ns_processes(), disarmed
 *
 * Return: 0 or a negative errno after one pr_err; on failure nothing of
 * the hook remains registered.
 */
int pg_zap_hook_install(void)
{
	int err;

	err = ftrace_set_filter(&pg_zap_ops, PG_TARGET, strlen(PG_TARGET), 1);
	if (err) {
		pr_err("cannot trace %s() (error %d): is CONFIG_DYNAMIC_FTRACE on and the function present?\n",
		       PG_TARGET, err);
		goto out_free;
	}

	err = register_ftrace_function(&pg_zap_ops);
	if (err) {
		pr_err("cannot redirect %s() (error %d): another livepatch or ftrace user owns it, or kernel.ftrace_enabled is 0\n",
		       PG_TARGET, err);
		goto out_free;
	}
	return 0;

out_free:
	ftrace_free_filter(&pg_zap_ops);
	return err;
}

/* From now on, teardowns go to pg_zap_pid_ns_processes(). */
void pg_zap_hook_arm(void)
{
	/* release: symbols, counters and hooks are ready before this */
	smp_store_release(&pg_armed, true);
}

/**
 * pg_zap_hook_remove - stop redirecting; return once no task can be in our
 * redirect handler or on its way out of pg_zap_entry()
 *
 * Called only when the module reference count is zero, i.e. no teardown
 * is running pg_zap_pid_ns_processes().
 */
void pg_zap_hook_remove(void)
{
	unregister_ftrace_function(&pg_zap_ops);
	ftrace_free_filter(&pg_zap_ops);
	synchronize_rcu_tasks();
}
