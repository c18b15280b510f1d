// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios nonleader_init, nested, reboot (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenario: nonleader_init                                             */

enum { NL_THREAD_EXIT, NL_EXIT_GROUP, NL_KILLED, NL_WAYS };
static const char *const nl_way[] = { "thread exit", "exit_group", "SIGKILL" };
#define NL_LEADER_CODE	3
#define NL_THREAD_CODE	4
#define NL_GROUP_CODE	5

struct nl_args {
	int notes[2], go[2];
	int way;
};

static void *nl_worker(void *arg)
{
	struct nl_args *a = arg;

	note_send(a->notes[1], N_TARGET, 0);
	wait_byte(a->go[0]);
	if (a->way == NL_THREAD_EXIT)
		syscall(SYS_exit, NL_THREAD_CODE);
	else if (a->way == NL_EXIT_GROUP)
		syscall(SYS_exit_group, NL_GROUP_CODE);
	sleep_forever();
	return NULL;
}

/* Children first, then a thread; then the leader thread exits alone. */
static int nl_init(void *arg)
{
	struct nl_args *a = arg;

	if (populate(3, 1, a->notes[1], 0))
		return SETUP;
	errno = start_thread(nl_worker, a);
	if (errno) {
		note_err(a->notes[1], "pthread_create");
		return SETUP;
	}
	note_send(a->notes[1], N_INIT, 0);
	syscall(SYS_exit, NL_LEADER_CODE);
	return SETUP;
}

static int nonleader_round(struct ctx *c, int round, long long *max_ms, int *code)
{
	struct nl_args a = { .way = (round - 1) % NL_WAYS };
	struct note notes[8];
	const struct note *w;
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc, st;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(nl_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 5, init);
	if (rc)
		return rc;
	w = note_find(notes, 5, N_TARGET, -1);
	if (!w)
		return failf(c, SETUP, "init's thread never reported");
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	if (!wait_state(init, 0, "Z", STATE_MS))
		return failf(c, SETUP, "init's leader thread did not exit");
	if (!wait_state(init, w->tid, "SR", STATE_MS))
		return failf(c, SETUP, "init's thread %d not alive", w->tid);
	/* The leader is a zombie, the init is not done: not reapable yet. */
	if (waitpid(init, &st, WNOHANG) != 0) {
		untrack(init);
		return failf(c, FAIL, "init reapable while its thread %d lives", w->tid);
	}
	rc = expect_tasks(c, &ns, 1 + 1 + 3 * 2, &s);
	if (rc)
		return rc;

	t0 = now_ms();
	if (a.way == NL_KILLED)
		kill(init, SIGKILL);
	else
		send_byte(a.go[1], 'g');
	/*
	 * exit_group() sets the status.  After plain thread exits, some
	 * kernels report the leader's own exit code, others (with upstream's
	 * fix of delay_group_leader->exit_code, as 6.1.0-47 and 6.18 do) the
	 * last thread's: either is right here; the summary says which.
	 */
	if (a.way == NL_KILLED) {
		rc = finish_teardown(c, init, &ns, t0, SIGKILL, 0, &took);
	} else if (a.way == NL_EXIT_GROUP) {
		rc = finish_teardown(c, init, &ns, t0, 0, NL_GROUP_CODE, &took);
	} else {
		rc = finish_teardown(c, init, &ns, t0, -1, 0, &took);
		*code = last_status;
		if (!rc && !(WIFEXITED(last_status) &&
			     (WEXITSTATUS(last_status) == NL_LEADER_CODE ||
			      WEXITSTATUS(last_status) == NL_THREAD_CODE)))
			rc = failf(c, FAIL, "init exited with status 0x%x, expected exit %d (leader's) or %d (last thread's)",
				   last_status, NL_LEADER_CODE, NL_THREAD_CODE);
	}
	if (took > *max_ms)
		*max_ms = took;
	return rc;
}

int sc_nonleader_init(struct ctx *c)
{
	long long max_ms = 0;
	int rc, code = -1;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = nonleader_round(c, g_round, &max_ms, &code);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, leader exited first (code %d), last init thread ended by %s%s%s; after a thread exit init reported exit %d (%s), teardown max %lld ms",
		 c->rounds, NL_LEADER_CODE, nl_way[0], c->rounds > 1 ? "/" : "",
		 c->rounds > 2 ? "exit_group/SIGKILL" : c->rounds > 1 ? "exit_group" : "",
		 WEXITSTATUS(code), WEXITSTATUS(code) == NL_LEADER_CODE ? "leader's" : "last thread's",
		 max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: nested                                                     */

#define NEST_DEPTH	4

struct nest_args {
	int notes[2];
	int level;	/* 1 = outermost */
};

/* Init of level k: a few tasks, then the init of level k + 1. */
static int nest_init(void *arg)
{
	struct nest_args *a = arg;

	if (populate(2, 1, a->notes[1], a->level))
		return SETUP;
	if (a->level < NEST_DEPTH) {
		a->level++;
		if (fork_ns_init(nest_init, a, false) < 0) {
			note_err(a->notes[1], "nested pid namespace");
			return SETUP;
		}
		a->level--;
	}
	note_send(a->notes[1], N_INIT, a->level);
	sleep_forever();
	return 0;
}

static int nested_round(struct ctx *c, int round, long long *max_ms, int *tasks)
{
	struct nest_args a = { .level = 1 };
	struct note notes[3 * NEST_DEPTH];
	const struct note *inner;
	bool traced = !(round & 1);
	struct agent ag;
	long long t0, t1, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc, st_;

	if (mkpipe(c, a.notes) || (traced && agent_start(c, &ag)))
		return SETUP;
	init = fork_ns_init(nest_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3 * NEST_DEPTH, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 5 * NEST_DEPTH, &s);
	if (rc)
		return rc;
	for (int d = 0; d < NEST_DEPTH; d++)
		if (s.by_depth[d] != 5)
			return failf(c, SETUP, "level %d holds %d tasks, expected 5", d + 1, s.by_depth[d]);
	*tasks = s.total;
	inner = note_find(notes, 3 * NEST_DEPTH, N_INIT, NEST_DEPTH);
	if (!inner)
		return failf(c, SETUP, "the innermost init never reported");
	if (traced) {
		rc = agent_call(&ag, A_SEIZE_STOP, inner->tid, 0, &st_);
		if (rc < 0)
			return failf(c, SETUP, "ptrace innermost init %d: %s", inner->tid, strerror(-rc));
	}

	t0 = t1 = now_ms();
	kill(init, SIGKILL);
	if (traced) {
		struct situ sv = { .init = init, .tgid = inner->tgid, .tid = inner->tid, .ag = ag };

		rc = situ_check_held(c, &sv, HOLD_CHECK_MS);
		if (rc)
			return rc;
		t1 = now_ms();
		rc = agent_call(&ag, A_REAP, inner->tid, STATE_MS, &st_);
		if (rc < 0)
			return failf(c, FAIL, "tracer could not reap the innermost init: %s", strerror(-rc));
	}
	rc = finish_teardown(c, init, &ns, t1, SIGKILL, 0, &took);
	if (took > *max_ms)
		*max_ms = took;
	if (traced)
		diag("innermost init traced from outside held the outermost %lld ms", t1 - t0);
	return rc;
}

int sc_nested(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = nested_round(c, g_round, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, %d nested namespaces, %d tasks, outermost init SIGKILLed%s, teardown max %lld ms",
		 c->rounds, NEST_DEPTH, tasks,
		 c->rounds > 1 ? " (even rounds: innermost init traced from outside)" : "", max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: reboot                                                     */

static const struct {
	int cmd;
	int sig;
	const char *name;
} reboot_cmds[] = {
	{ LINUX_REBOOT_CMD_RESTART, SIGHUP, "RESTART" },
	{ LINUX_REBOOT_CMD_POWER_OFF, SIGINT, "POWER_OFF" },
	{ LINUX_REBOOT_CMD_HALT, SIGINT, "HALT" },
};

/* Never reboot the machine: only a child namespace's init may go on. */
static bool in_child_pid_ns(const struct nsid *home)
{
	struct nsid self;

	if (nsid_of_path("/proc/thread-self/ns/pid", &self))
		return false;
	return getpid() == 1 && !nsid_eq(&self, home);
}

static int reboot_init(void *arg)
{
	struct simple_args *a = arg;

	if (populate(a->nproc, a->nthreads, a->notes[1], 0))
		return SETUP;
	note_send(a->notes[1], N_INIT, 0);
	wait_byte(a->go[0]);
	if (!in_child_pid_ns(&a->home)) {
		diag("refusing reboot(2): not the init of a child pid namespace");
		return 99;
	}
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, a->reboot_cmd, NULL);
	diag("reboot(2) returned: %m");
	return 100;
}

static int reboot_round(struct ctx *c, int round, char *seen, size_t len)
{
	struct simple_args a = { .nproc = 2, .nthreads = 2 };
	int k = (round - 1) % 3;
	struct note notes[4];
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	a.reboot_cmd = reboot_cmds[k].cmd;
	if (nsid_of_path("/proc/thread-self/ns/pid", &a.home))
		return failf(c, SETUP, "stat /proc/thread-self/ns/pid: %m");
	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(reboot_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 1 + 2 * 3, &s);
	if (rc)
		return rc;

	t0 = now_ms();
	send_byte(a.go[1], 'g');
	rc = finish_teardown(c, init, &ns, t0, reboot_cmds[k].sig, 0, &took);
	if (!rc)
		snprintf(seen + strlen(seen), len - strlen(seen), "%s%s->SIG%s",
			 *seen ? " " : "", reboot_cmds[k].name, sigabbrev_np(reboot_cmds[k].sig));
	return rc;
}

int sc_reboot(struct ctx *c)
{
	char seen[128] = "";
	int rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = reboot_round(c, g_round, seen, sizeof(seen));
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum), "%d rounds, init reboot(2) seen by its parent as: %s",
		 c->rounds, seen);
	return PASS;
}
