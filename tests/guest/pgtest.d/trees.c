// SPDX-License-Identifier: GPL-2.0
/*
 * Trees: the plain teardowns, nothing holding them, of many tasks.
 *
 *   tree_wide (2)        50 children x 3 threads; init exits / is SIGKILLed
 *   tree_deep (2)        a chain of 60 processes, some threaded; SIGKILL
 */
#include "pgtest.h"

/* tree_wide ---------------------------------------------------------- */

static int tree_wide_round(struct ctx *c, int round, void *arg)
{
	struct flat_ns f = { .nproc = 50, .nthreads = 3 };
	bool by_kill = !(round & 1);
	int *tasks = arg;
	struct scan s;
	int rc;

	rc = ns_start(c, &f.r, flat_init, &f, f.nproc + 1);
	if (!rc)
		rc = expect_tasks(c, &f.r.ns, 1 + f.nproc * (1 + f.nthreads), &s);
	if (rc)
		return rc;
	*tasks = s.total;
	ns_teardown(&f.r, by_kill);
	return ns_finish(c, &f.r, by_kill ? SIGKILL : 0, 0);
}

static int sc_tree_wide(struct ctx *c)
{
	int tasks = 0;
	int rc = run_rounds(c, tree_wide_round, &tasks);

	if (rc)
		return rc;
	return passf(c, "%d rounds (init exits / SIGKILLed alternately), %d tasks each (50 procs x 4 threads + init), teardown max %lld ms",
		     c->rounds, tasks, c->max_ms);
}

const struct scenario scenario_tree_wide = { "tree_wide", sc_tree_wide, 2 };

/* tree_deep ---------------------------------------------------------- */

#define DEEP_LEN	60
#define DEEP_THREADS_EVERY 4

/* Each link forks the next; every 4th link also runs 2 threads. */
static int deep_init(void *arg)
{
	struct ns_round *r = arg;
	int level = 0;

	while (level < DEEP_LEN) {
		pid_t pid = fork();

		if (pid < 0) {
			note_err(r->notes[1], "fork");
			return SETUP;
		}
		if (pid > 0)
			break;
		level++;
	}
	if (level && level % DEEP_THREADS_EVERY == 0 && start_sleepers(2)) {
		note_err(r->notes[1], "pthread_create");
		return SETUP;
	}
	note_send(r->notes[1], level ? N_TASK : N_INIT, level);
	sleep_forever();
	return 0;
}

static int tree_deep_round(struct ctx *c, int round, void *arg)
{
	int want = 1 + DEEP_LEN + 2 * (DEEP_LEN / DEEP_THREADS_EVERY);
	struct ns_round r = { 0 };
	int *tasks = arg;
	struct scan s;
	int rc;

	(void)round;
	rc = ns_start(c, &r, deep_init, &r, DEEP_LEN + 1);
	if (!rc)
		rc = expect_tasks(c, &r.ns, want, &s);
	if (rc)
		return rc;
	*tasks = s.total;
	ns_teardown(&r, true);
	return ns_finish(c, &r, SIGKILL, 0);
}

static int sc_tree_deep(struct ctx *c)
{
	int tasks = 0;
	int rc = run_rounds(c, tree_deep_round, &tasks);

	if (rc)
		return rc;
	return passf(c, "%d rounds, chain of %d processes below init, %d tasks, init SIGKILLed, teardown max %lld ms",
		     c->rounds, DEEP_LEN, tasks, c->max_ms);
}

const struct scenario scenario_tree_deep = { "tree_deep", sc_tree_deep, 2 };
