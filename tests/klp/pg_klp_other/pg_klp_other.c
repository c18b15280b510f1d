// SPDX-License-Identifier: GPL-2.0
/*
 * Test livepatch on a function unrelated to pidns_guard (the show function
 * of /proc/cmdline): proves that other livepatches load, finish their
 * transition and unload while pidns_guard is active or a teardown is stuck.
 */
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int pg_klp_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pg_klp_other is live\n");
	return 0;
}

static struct klp_func pg_klp_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pg_klp_cmdline_show },
	{ }
};

#include "../pg_klp.h"

MODULE_DESCRIPTION("pidns_guard test: livepatch of an unrelated function");
