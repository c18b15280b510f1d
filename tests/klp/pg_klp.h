/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test livepatches share: one vmlinux object patching the
 * functions of the includer's pg_klp_funcs[], enabled at load.  Include it
 * after pg_klp_funcs[] is defined.
 */
#ifndef _PG_KLP_H
#define _PG_KLP_H

#include <linux/livepatch.h>
#include <linux/module.h>

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
MODULE_INFO(livepatch, "Y");

#endif /* _PG_KLP_H */
