// SPDX-License-Identifier: GPL-2.0
/*
 * Unload must fail fast, never hang by surprise.
 *
 * Where exiting tasks hold the RCU-tasks exit read side (6.1), the stock
 * reap loop keeps holding it while it waits, and module removal waits for
 * every holder of it (unregister_ftrace_function() and our own
 * synchronize_rcu_tasks()).  A teardown that began in the stock function
 * before we were loaded, and sits in its reap loop (a child traced from
 * outside), would make rmmod hang, unkillable, until that container's
 * holder lets go.  So while we see one, we hold a reference to ourselves:
 * rmmod fails at once ("in use"), and "active" says rcu_tasks=blocked.
 *
 * Only teardowns found at load can need this: from then on every teardown
 * runs our code, which drops that read side around each wait.  At load we
 * also count an exiting init that may still be on its way into the stock
 * function; a work looks again every second until none is left.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>

#include "pidns_guard.h"

#define PG_GUARD_POLL HZ

static void pg_unload_guard_poll(struct work_struct *work);
static DECLARE_DELAYED_WORK(pg_guard_work, pg_unload_guard_poll);

static void pg_unload_guard_poll(struct work_struct *work)
{
	if (pg_stock_blocks_rcu_tasks(false)) {
		schedule_delayed_work(&pg_guard_work, PG_GUARD_POLL);
		return;
	}
	pr_info("the stock teardown that blocked unloading has left its reap loop\n");
	/* pg_unload_guard_exit() waits for us to return from here */
	module_put(THIS_MODULE);
}

/* Called once the redirect is armed. */
void pg_unload_guard_start(void)
{
	if (!pg_exit_holds_rcu_tasks() || !pg_stock_blocks_rcu_tasks(true))
		return;
	__module_get(THIS_MODULE);
	pr_info("a namespace teardown begun before the load holds RCU-tasks in the stock reap loop: unloading is refused until it leaves it\n");
	schedule_delayed_work(&pg_guard_work, PG_GUARD_POLL);
}

/* Module exit: the reference is gone, so the work does not re-arm. */
void pg_unload_guard_exit(void)
{
	cancel_delayed_work_sync(&pg_guard_work);
}
