// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest - PID namespace teardown scenarios for pidns_guard.
 *
 *   pgtest list                      scenario names, one per line
 *   pgtest run NAME [-n ROUNDS]      one scenario (NAME "all": every one
 *                                    but freezer*, one result line each)
 *   pgtest hold [--kind KIND] [--release-fifo PATH]
 *                                    park a teardown, for shell scripts
 *   pgtest execloop FD, pgtest coresink DIR
 *                                    helpers of exec_race / coredump_race
 *                                    (an image of the exec loop; the core
 *                                    pipe helper the kernel runs)
 *
 * Exit: 0 pass, 1 fail, 2 usage or setup error, 3 skipped.  stdout gets
 * exactly one line per scenario: "ok NAME <measured summary>",
 * "fail NAME <reason>" or "skip NAME <why>"; diagnostics go to stderr as
 * "pgtest: NAME: ...".
 *
 * Scenarios (default rounds), each described in its family's file:
 *   trees.c     tree_wide (2), tree_deep (2)
 *   stops.c     stopped (2), traced_outside (6)
 *   inits.c     nonleader_init (3), nested (2), reboot (3)
 *   setns.c     setns_fork_late (2), setns_fork_race (30)
 *   races.c     exec_race (40), coredump_race (20)
 *   freezer.c   freezer (1), freezer_reap (1)
 *   parity.c    parked_init (1)
 * and hold.c the hold command.  All build on the harness (pgtest.h).
 *
 * Every scenario makes a new PID namespace (its first task is the
 * namespace init), builds a situation in it, starts the teardown (init
 * exits or is SIGKILLed from outside), reaps init from outside and then
 * checks THE INVARIANT: once init is reaped, no task of the namespace or
 * of any namespace nested in it exists any more, zombie or not.  The check
 * walks every /proc/PID/task/TID/ns/pid up with NS_GET_PARENT.
 *
 * Who is who: pgtest itself ("the outer parent") forks the namespace init
 * and every outside helper ("agents": a ptrace tracer P, a setns+fork
 * parent O, the fork racers), all in pgtest's own PID namespace.  pgtest
 * is a child subreaper so that nothing it started escapes its cleanup,
 * and every direct child dies with it (PR_SET_PDEATHSIG).  Tasks report
 * readiness over pipes; sleeps are used only for polling with deadlines.
 *
 * Assumptions: root (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_BOOT), /proc
 * mounted from pgtest's own PID namespace, Linux >= 4.12 (pid_for_children,
 * NS_GET_PARENT), no seccomp filter on ptrace/setns/reboot.  reboot(2) is
 * only ever called after checking that the caller is the init of a child
 * PID namespace.  The freezer scenario also needs /sys/power/pm_test
 * (CONFIG_PM_DEBUG) and "freeze" in /sys/power/state, or it is skipped.
 * coredump_race sets /proc/sys/kernel/core_pattern (and core_pipe_limit 0)
 * for its run and restores them (also on a watchdog timeout), or is
 * skipped if it cannot; it needs a writable /tmp.
 */
#include "pgtest.h"

/* What pgtest list prints, in this order; pgtest run all runs them so. */
static const struct scenario *const scenarios[] = {
	&scenario_tree_wide,
	&scenario_tree_deep,
	&scenario_stopped,
	&scenario_traced_outside,
	&scenario_nonleader_init,
	&scenario_setns_fork_late,
	&scenario_setns_fork_race,
	&scenario_nested,
	&scenario_reboot,
	&scenario_exec_race,
	&scenario_coredump_race,
	&scenario_freezer,
	&scenario_freezer_reap,
	&scenario_parked_init,
};

/* One scenario, under the watchdog: its one result line. */
static int run_one(const struct scenario *sc, int rounds)
{
	struct ctx c = { .name = sc->name, .rounds = rounds > 0 ? rounds : sc->rounds };
	long long t0 = now_ms();
	int rc;

	g_name = sc->name;
	g_round = 0;
	watchdog_arm(300 + 20 * c.rounds);
	rc = sc->run(&c);
	alarm(0);
	g_round = 0;
	if (round_end() && rc == PASS)
		rc = failf(&c, FAIL, "children left that could not be reaped");
	if (rc == PASS)
		printf("ok %s %s; %.1f s\n", sc->name, c.sum, (now_ms() - t0) / 1000.0);
	else if (rc == SKIP)
		printf("skip %s %s\n", sc->name, c.why);
	else
		printf("fail %s %s%s\n", sc->name, rc == SETUP ? "setup: " : "",
		       c.why[0] ? c.why : "unknown failure");
	fflush(stdout);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: pgtest list\n"
		"       pgtest run NAME|all [-n ROUNDS]\n"
		"       pgtest hold [--kind zombie|stopped|foreign] [--release-fifo PATH]\n"
		"       (internal: pgtest execloop FD, pgtest coresink DIR)\n");
	return SETUP;
}

static int cmd_run(int argc, char **argv)
{
	const char *name = NULL;
	int rounds = 0, worst = PASS;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			rounds = atoi(argv[++i]);
			if (rounds <= 0)
				return usage();
		} else if (!name) {
			name = argv[i];
		} else {
			return usage();
		}
	}
	if (!name)
		return usage();
	for (int i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = scenarios[i];
		int rc;

		if (!strcmp(name, "all")) {
			/* the system freezer stops every task: not in a batch */
			if (!strncmp(sc->name, "freezer", 7))
				continue;
			rc = run_one(sc, rounds);
			if (rc != SKIP && rc > worst)
				worst = rc;
		} else if (!strcmp(name, sc->name)) {
			return run_one(sc, rounds);
		}
	}
	if (strcmp(name, "all")) {
		fprintf(stderr, "pgtest: unknown scenario %s (see pgtest list)\n", name);
		return SETUP;
	}
	return worst;
}

static int cmd_hold(int argc, char **argv)
{
	const char *kind = "zombie", *fifo = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--release-fifo") && i + 1 < argc)
			fifo = argv[++i];
		else
			return usage();
	}
	return hold_main(kind, fifo);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1) < 0)
		g_exe[0] = 0;
	/* Helpers run by ourselves (execloop) or by the kernel (coresink). */
	if (!strcmp(argv[1], "execloop") && argc == 3)
		return execloop_main(atoi(argv[2]));
	if (!strcmp(argv[1], "coresink") && argc == 3)
		return coresink_main(argv[2]);
	if (!strcmp(argv[1], "list")) {
		for (int i = 0; i < ARRAY_SIZE(scenarios); i++)
			printf("%s\n", scenarios[i]->name);
		return PASS;
	}
	/* Orphans of our helpers come back to us, to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "pgtest: PR_SET_CHILD_SUBREAPER: %m\n");
		return SETUP;
	}
	signal(SIGPIPE, SIG_IGN);
	watchdog_init();
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	return usage();
}
