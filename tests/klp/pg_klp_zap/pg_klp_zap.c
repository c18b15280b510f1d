// SPDX-License-Identifier: GPL-2.0
/*
 * Test livepatch on zap_pid_ns_processes() itself: only one IPMODIFY user
 * may own a function, so this and pidns_guard must refuse each other with
 * a clear error.  The tests never run a namespace teardown while this
 * patch is enabled; should one happen anyway, the replacement shouts.
 */
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>

static void pg_klp_zap(struct pid_namespace *ns)
{
	pr_err("%s: a teardown ran the test patch\n", __func__);
}

static struct klp_func pg_klp_funcs[] = {
	{ .old_name = "zap_pid_ns_processes", .new_func = pg_klp_zap },
	{ }
};

static struct klp_object pg_klp_objs[] = {
	{ .funcs = pg_klp_funcs },	/* vmlinux */
	{ }
};

static struct klp_patch pg_klp_patch = {
	.mod = THIS_MODULE,
	.objs = pg_klp_objs,
};

static int __init pg_klp_init(void)
{
	return klp_enable_patch(&pg_klp_patch);
}

static void __exit pg_klp_exit(void)
{
}

module_init(pg_klp_init);
module_exit(pg_klp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pidns_guard test: livepatch of zap_pid_ns_processes");
MODULE_INFO(livepatch, "Y");
