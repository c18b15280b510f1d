// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest - PID namespace teardown scenarios for pidns_guard.
 *
 *   pgtest list                      scenario names, one per line
 *   pgtest run NAME [-n ROUNDS]      one scenario (NAME "all": every one
 *                                    but freezer, one result line each)
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
 * Scenarios (default rounds):
 *   tree_wide (2)        50 children x 3 threads; init exits / is SIGKILLed
 *   tree_deep (2)        a chain of 60 processes, some threaded; SIGKILL
 *   stopped (2)          group-stopped tasks, and tasks ptrace-stopped
 *                        (interrupt, attach, group-stop) by a tracer inside
 *   traced_outside (6)   a task traced from outside holds init for 1 s;
 *                        target: child / stopped thread / exited thread of
 *                        init; odd rounds the tracer reaps, even ones exits
 *   nonleader_init (3)   init's leader exits first; its last thread ends
 *                        by thread exit / exit_group / SIGKILL
 *   setns_fork_late (2)  a setns+fork child of an outside parent holds init
 *                        until reaped (by that parent / by us, reparented)
 *   setns_fork_race (30) two outside racers setns+fork while init is killed;
 *                        after the reap a fork must fail (ENOMEM)
 *   nested (2)           4 nested namespaces, outermost init SIGKILLed; even
 *                        rounds the innermost init is traced from outside
 *   reboot (3)           init's reboot(2): RESTART -> SIGHUP, POWER_OFF and
 *                        HALT -> SIGINT
 *   exec_race (40)       a process whose every image starts a thread that
 *                        execs the next one; init SIGKILLed at random
 *                        moments, often while a non-leader thread is in
 *                        de_thread() (its leader holds the SIGKILL the exec
 *                        queued, the exec'ing thread none)
 *   coredump_race (20)   a non-leader thread dumps core into a pipe helper
 *                        that never reads; init SIGKILLed at random moments,
 *                        mostly while the dump waits for the other threads
 *                        (its leader holds the SIGKILL zap_threads() queued,
 *                        the dumper none) or is being written.  Both count "escapes": init not
 *                        reapable 10 s after the kill, or tasks outliving it
 *                        (details above sc_exec_race)
 *   freezer (1)          init parked in its final wait; suspend-to-idle
 *                        freezer test: must freeze, must not spin after
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
 * Where a teardown can be held.  The last init thread runs
 * zap_pid_ns_processes(): it SIGKILLs the namespace, then (1) reaps its
 * children with wait4 until ECHILD (the "reap loop"), then (2) sleeps until
 * every other pid of the namespace is freed (the "final wait").  SIGKILL
 * always wins over a stop, so nothing alive can hold init: what holds it is
 * a zombie that init cannot reap.  The three kinds of pgtest hold:
 *
 *   zombie   (default) a thread T of init, ptrace-seized by the outside
 *            tracer P, exits on its own before the teardown: a traced
 *            thread is not autoreaped, it stays a zombie until P reaps it.
 *            It is no child of init, so init passes the reap loop and
 *            sleeps in the FINAL WAIT for T's pid.  (The freezer scenario
 *            uses this kind: it is the wait the old kernels spin in.)
 *   stopped  a child T of init sits in a ptrace-stop (PTRACE_SEIZE +
 *            PTRACE_INTERRUPT by P) when init is killed.  The SIGKILL wakes
 *            it, it dies and stays a zombie that only its tracer may reap;
 *            being init's child, it holds init in the REAP LOOP (wait4
 *            keeps waiting for a traced child).
 *   foreign  O did setns() into the namespace and forked C: C lives in the
 *            namespace but its parent is O, outside.  C is killed and
 *            stays a zombie until O reaps it; init cannot reap it, so init
 *            sleeps in the FINAL WAIT.
 *
 *   hold prints "held <init pid> <ns inode> <holder pid> <held task pid>"
 *   (the holder is P, or O for foreign; pids are pgtest's view), waits for
 *   a line on the fifo (opened read-write, so a writer never blocks) or
 *   for SIGUSR1, lets the holder reap, waits for init (60 s) and checks
 *   the invariant: "ok hold ..." / "fail hold ...".
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

/* ------------------------------------------------------------------ */
/* Driver                                                               */

static const struct scenario scenarios[] = {
	{ "tree_wide", sc_tree_wide, 2 },
	{ "tree_deep", sc_tree_deep, 2 },
	{ "stopped", sc_stopped, 2 },
	{ "traced_outside", sc_traced_outside, 6 },
	{ "nonleader_init", sc_nonleader_init, 3 },
	{ "setns_fork_late", sc_setns_fork_late, 2 },
	{ "setns_fork_race", sc_setns_fork_race, 30 },
	{ "nested", sc_nested, 2 },
	{ "reboot", sc_reboot, 3 },
	{ "exec_race", sc_exec_race, 40 },
	{ "coredump_race", sc_coredump_race, 20 },
	{ "freezer", sc_freezer, 1 },
};

#define N_SCENARIOS ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

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
	for (int i = 0; i < N_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		int rc;

		if (!strcmp(name, "all")) {
			if (!strcmp(sc->name, "freezer"))
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
	return do_hold(kind, fifo);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };

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
		for (int i = 0; i < N_SCENARIOS; i++)
			printf("%s\n", scenarios[i].name);
		return PASS;
	}
	/* Orphans of our helpers come back to us, to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "pgtest: PR_SET_CHILD_SUBREAPER: %m\n");
		return SETUP;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGALRM, &sa, NULL);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	return usage();
}
