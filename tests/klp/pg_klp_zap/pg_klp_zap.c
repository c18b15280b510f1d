// SPDX-License-Identifier: GPL-2.0
/*
 * Test livepatch on zap_pid_ns_processes() itself: only one IPMODIFY user
 * may own a function, so this and pidns_guard must refuse each other with
 * a clear error.  The tests never run a namespace teardown while this
 * patch is enabled; should one happen anyway, the replacement shouts.
 */
#include <linux/livepatch.h>
#include <linux/pid_namespace.h>

static void pg_klp_zap(struct pid_namespace *ns)
{
	pr_err("%s: a teardown ran the test patch\n", __func__);
}

static struct klp_func pg_klp_funcs[] = {
	{ .old_name = "zap_pid_ns_processes", .new_func = pg_klp_zap },
	{ }
};

#include "../pg_klp.h"

MODULE_DESCRIPTION("pidns_guard test: livepatch of zap_pid_ns_processes");
