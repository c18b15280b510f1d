// SPDX-License-Identifier: GPL-2.0
/*
 * Init shapes: the namespace init itself ends in an unusual way.
 *
 *   nonleader_init (3)   init's leader exits first; its last thread ends
 *                        by thread exit / exit_group / SIGKILL
 *   nested (2)           4 nested namespaces, outermost init SIGKILLed; even
 *                        rounds the innermost init is traced from outside
 *   reboot (3)           init's reboot(2): RESTART -> SIGHUP, POWER_OFF and
 *                        HALT -> SIGINT
 *
 * reboot(2) is only ever called after checking that the caller is the
 * init of a child PID namespace.
 */
#include "pgtest.h"
#include <linux/reboot.h>

/* nonleader_init ----------------------------------------------------- */

enum { NL_THREAD_EXIT, NL_EXIT_GROUP, NL_KILLED, NL_WAYS };
static const char *const nl_way[] = { "thread exit", "exit_group", "SIGKILL" };
#define NL_LEADER_CODE	3
#define NL_THREAD_CODE	4
#define NL_GROUP_CODE	5

struct nl_args {
	struct ns_round r;
	int way;
};

static void *nl_worker(void *arg)
{
	struct nl_args *a = arg;

	note_send(a->r.notes[1], N_TARGET, 0);
	wait_byte(a->r.go[0]);
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

	if (populate(3, 1, a->r.notes[1], 0))
		return SETUP;
	errno = start_thread(nl_worker, a);
	if (errno) {
		note_err(a->r.notes[1], "pthread_create");
		return SETUP;
	}
	note_send(a->r.notes[1], N_INIT, 0);
	syscall(SYS_exit, NL_LEADER_CODE);
	return SETUP;
}

/* Before the teardown: init's leader a zombie, its thread w alive. */
static int nl_check_leader_gone(struct ctx *c, struct ns_round *r)
{
	const struct note *w = ns_note(r, N_TARGET, -1);
	struct scan s;
	int st;

	if (!w)
		return failf(c, SETUP, "init's thread never reported");
	if (!wait_state(r->init, 0, "Z", STATE_MS))
		return failf(c, SETUP, "init's leader thread did not exit");
	if (!wait_state(r->init, w->tid, "SR", STATE_MS))
		return failf(c, SETUP, "init's thread %d not alive", w->tid);
	/* The leader is a zombie, the init is not done: not reapable yet. */
	if (waitpid(r->init, &st, WNOHANG) != 0) {
		untrack(r->init);
		return failf(c, FAIL, "init reapable while its thread %d lives", w->tid);
	}
	return expect_tasks(c, &r->ns, 1 + 1 + 3 * 2, &s);
}

/*
 * exit_group() sets the status.  After plain thread exits, some kernels
 * report the leader's own exit code, others (with upstream's fix of
 * delay_group_leader->exit_code, as 6.1.0-47 and 6.18 do) the last
 * thread's: either is right here; the summary says which.
 */
static int nl_finish(struct ctx *c, struct nl_args *a, int *code)
{
	int rc;

	if (a->way == NL_KILLED)
		return ns_finish(c, &a->r, SIGKILL, 0);
	if (a->way == NL_EXIT_GROUP)
		return ns_finish(c, &a->r, 0, NL_GROUP_CODE);
	rc = ns_finish(c, &a->r, -1, 0);
	*code = last_status;
	if (!rc && !(WIFEXITED(last_status) &&
		     (WEXITSTATUS(last_status) == NL_LEADER_CODE ||
		      WEXITSTATUS(last_status) == NL_THREAD_CODE)))
		rc = failf(c, FAIL, "init exited with status 0x%x, expected exit %d (leader's) or %d (last thread's)",
			   last_status, NL_LEADER_CODE, NL_THREAD_CODE);
	return rc;
}

static int nonleader_round(struct ctx *c, int round, void *arg)
{
	struct nl_args a = { .way = (round - 1) % NL_WAYS };
	int rc;

	rc = ns_start(c, &a.r, nl_init, &a, 5);
	if (!rc)
		rc = nl_check_leader_gone(c, &a.r);
	if (rc)
		return rc;
	ns_teardown(&a.r, a.way == NL_KILLED);
	return nl_finish(c, &a, arg);
}

static int sc_nonleader_init(struct ctx *c)
{
	int code = -1;
	int rc = run_rounds(c, nonleader_round, &code);

	if (rc)
		return rc;
	return passf(c, "%d rounds, leader exited first (code %d), last init thread ended by %s%s%s; after a thread exit init reported exit %d (%s), teardown max %lld ms",
		     c->rounds, NL_LEADER_CODE, nl_way[0], c->rounds > 1 ? "/" : "",
		     c->rounds > 2 ? "exit_group/SIGKILL" : c->rounds > 1 ? "exit_group" : "",
		     WEXITSTATUS(code), WEXITSTATUS(code) == NL_LEADER_CODE ? "leader's" : "last thread's",
		     c->max_ms);
}

const struct scenario scenario_nonleader_init = { "nonleader_init", sc_nonleader_init, 3 };

/* nested ------------------------------------------------------------- */

#define NEST_DEPTH	4

struct nest_args {
	struct ns_round r;
	int level;	/* 1 = outermost */
};

/* Init of level k: a few tasks, then the init of level k + 1. */
static int nest_init(void *arg)
{
	struct nest_args *a = arg;

	if (populate(2, 1, a->r.notes[1], a->level))
		return SETUP;
	if (a->level < NEST_DEPTH) {
		a->level++;
		if (fork_ns_init(nest_init, a, false) < 0) {
			note_err(a->r.notes[1], "nested pid namespace");
			return SETUP;
		}
		a->level--;
	}
	note_send(a->r.notes[1], N_INIT, a->level);
	sleep_forever();
	return 0;
}

/* Every level holds its init, 2 children and their 2 threads. */
static int nest_check_levels(struct ctx *c, struct ns_round *r, int *tasks)
{
	struct scan s;
	int rc = expect_tasks(c, &r->ns, 5 * NEST_DEPTH, &s);

	if (rc)
		return rc;
	for (int d = 0; d < NEST_DEPTH; d++)
		if (s.by_depth[d] != 5)
			return failf(c, SETUP, "level %d holds %d tasks, expected 5", d + 1, s.by_depth[d]);
	*tasks = s.total;
	return PASS;
}

/*
 * The innermost init, traced from outside, holds the outermost one until
 * its tracer reaps it; then r->t0 is the release.
 */
static int nest_hold_release(struct ctx *c, struct ns_round *r, struct agent *ag,
			     const struct note *inner)
{
	struct situ sv = { .r.init = r->init, .tgid = inner->tgid, .tid = inner->tid, .ag = *ag };
	int rc, st;

	rc = situ_check_held(c, &sv, HOLD_CHECK_MS);
	if (rc)
		return rc;
	r->t0 = now_ms();
	rc = agent_call(ag, A_REAP, inner->tid, STATE_MS, &st);
	if (rc < 0)
		return failf(c, FAIL, "tracer could not reap the innermost init: %s", strerror(-rc));
	return PASS;
}

static int nested_round(struct ctx *c, int round, void *arg)
{
	struct nest_args a = { .level = 1 };
	const struct note *inner;
	bool traced = !(round & 1);
	struct agent ag;
	long long t0;
	int rc, st;

	if (traced && agent_start(c, &ag))
		return SETUP;
	rc = ns_start(c, &a.r, nest_init, &a, 3 * NEST_DEPTH);
	if (!rc)
		rc = nest_check_levels(c, &a.r, arg);
	if (rc)
		return rc;
	inner = ns_note(&a.r, N_INIT, NEST_DEPTH);
	if (!inner)
		return failf(c, SETUP, "the innermost init never reported");
	if (traced) {
		rc = agent_call(&ag, A_SEIZE_STOP, inner->tid, 0, &st);
		if (rc < 0)
			return failf(c, SETUP, "ptrace innermost init %d: %s", inner->tid, strerror(-rc));
	}

	ns_teardown(&a.r, true);
	t0 = a.r.t0;
	if (traced) {
		rc = nest_hold_release(c, &a.r, &ag, inner);
		if (rc)
			return rc;
	}
	rc = ns_finish(c, &a.r, SIGKILL, 0);
	if (traced)
		diag("innermost init traced from outside held the outermost %lld ms", a.r.t0 - t0);
	return rc;
}

static int sc_nested(struct ctx *c)
{
	int tasks = 0;
	int rc = run_rounds(c, nested_round, &tasks);

	if (rc)
		return rc;
	return passf(c, "%d rounds, %d nested namespaces, %d tasks, outermost init SIGKILLed%s, teardown max %lld ms",
		     c->rounds, NEST_DEPTH, tasks,
		     c->rounds > 1 ? " (even rounds: innermost init traced from outside)" : "", c->max_ms);
}

const struct scenario scenario_nested = { "nested", sc_nested, 2 };

/* reboot ------------------------------------------------------------- */

static const struct {
	int cmd;
	int sig;
	const char *name;
} reboot_cmds[] = {
	{ LINUX_REBOOT_CMD_RESTART, SIGHUP, "RESTART" },
	{ LINUX_REBOOT_CMD_POWER_OFF, SIGINT, "POWER_OFF" },
	{ LINUX_REBOOT_CMD_HALT, SIGINT, "HALT" },
};

struct reboot_args {
	struct flat_ns f;
	int cmd;
	struct nsid home;
};

/* What the rounds saw, "RESTART->SIGHUP ...", for the summary. */
struct reboot_seen {
	char s[128];
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
	struct reboot_args *a = arg;

	if (flat_ready(&a->f))
		return SETUP;
	if (!in_child_pid_ns(&a->home)) {
		diag("refusing reboot(2): not the init of a child pid namespace");
		return 99;
	}
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, a->cmd, NULL);
	diag("reboot(2) returned: %m");
	return 100;
}

static int reboot_round(struct ctx *c, int round, void *arg)
{
	struct reboot_args a = { .f = { .nproc = 2, .nthreads = 2 } };
	int k = (round - 1) % 3;
	struct reboot_seen *seen = arg;
	size_t len = strlen(seen->s);
	struct scan s;
	int rc;

	a.cmd = reboot_cmds[k].cmd;
	if (nsid_of_path("/proc/thread-self/ns/pid", &a.home))
		return failf(c, SETUP, "stat /proc/thread-self/ns/pid: %m");
	rc = ns_start(c, &a.f.r, reboot_init, &a, 3);
	if (!rc)
		rc = expect_tasks(c, &a.f.r.ns, 1 + 2 * 3, &s);
	if (rc)
		return rc;
	ns_teardown(&a.f.r, false);
	rc = ns_finish(c, &a.f.r, reboot_cmds[k].sig, 0);
	if (!rc)
		snprintf(seen->s + len, sizeof(seen->s) - len, "%s%s->SIG%s", len ? " " : "",
			 reboot_cmds[k].name, sigabbrev_np(reboot_cmds[k].sig));
	return rc;
}

static int sc_reboot(struct ctx *c)
{
	struct reboot_seen seen = { "" };
	int rc = run_rounds(c, reboot_round, &seen);

	if (rc)
		return rc;
	return passf(c, "%d rounds, init reboot(2) seen by its parent as: %s", c->rounds, seen.s);
}

const struct scenario scenario_reboot = { "reboot", sc_reboot, 3 };
