// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios tree_wide, tree_deep (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenario: tree_wide                                                  */

static int tree_wide_round(struct ctx *c, int round, long long *max_ms, int *tasks)
{
	struct simple_args a = { .nproc = 50, .nthreads = 3 };
	struct note notes[64];
	bool by_kill = !(round & 1);
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(wide_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, a.nproc + 1, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 1 + a.nproc * (1 + a.nthreads), &s);
	if (rc)
		return rc;
	*tasks = s.total;

	t0 = now_ms();
	if (by_kill)
		kill(init, SIGKILL);
	else
		send_byte(a.go[1], 'g');
	rc = finish_teardown(c, init, &ns, t0, by_kill ? SIGKILL : 0, 0, &took);
	if (took > *max_ms)
		*max_ms = took;
	return rc;
}

int sc_tree_wide(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = tree_wide_round(c, g_round, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds (init exits / SIGKILLed alternately), %d tasks each (50 procs x 4 threads + init), teardown max %lld ms",
		 c->rounds, tasks, max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: tree_deep                                                  */

#define DEEP_LEN	60
#define DEEP_THREADS_EVERY 4

/* Each link forks the next; every 4th link also runs 2 threads. */
static int deep_init(void *arg)
{
	struct simple_args *a = arg;
	int level = 0;

	while (level < DEEP_LEN) {
		pid_t pid = fork();

		if (pid < 0) {
			note_err(a->notes[1], "fork");
			return SETUP;
		}
		if (pid > 0)
			break;
		level++;
	}
	if (level && level % DEEP_THREADS_EVERY == 0 && start_sleepers(2)) {
		note_err(a->notes[1], "pthread_create");
		return SETUP;
	}
	note_send(a->notes[1], level ? N_TASK : N_INIT, level);
	sleep_forever();
	return 0;
}

static int tree_deep_round(struct ctx *c, long long *max_ms, int *tasks)
{
	struct simple_args a = { 0 };
	struct note notes[DEEP_LEN + 1];
	int want = 1 + DEEP_LEN + 2 * (DEEP_LEN / DEEP_THREADS_EVERY);
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(deep_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, DEEP_LEN + 1, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, want, &s);
	if (rc)
		return rc;
	*tasks = s.total;

	t0 = now_ms();
	kill(init, SIGKILL);
	rc = finish_teardown(c, init, &ns, t0, SIGKILL, 0, &took);
	if (took > *max_ms)
		*max_ms = took;
	return rc;
}

int sc_tree_deep(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = tree_deep_round(c, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, chain of %d processes below init, %d tasks, init SIGKILLed, teardown max %lld ms",
		 c->rounds, DEEP_LEN, tasks, max_ms);
	return PASS;
}
