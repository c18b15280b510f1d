// SPDX-License-Identifier: GPL-2.0
/*
 * Held teardowns: a namespace with one task that only an outside process
 * (an "agent") can reap.  Used by traced_outside, setns_fork_late, nested,
 * freezer and pgtest hold.
 *
 * Where a teardown can be held.  The last init thread runs
 * zap_pid_ns_processes(): it SIGKILLs the namespace, then (1) reaps its
 * children with wait4 until ECHILD (the "reap loop"), then (2) sleeps until
 * every other pid of the namespace is freed (the "final wait").  SIGKILL
 * always wins over a stop, so nothing alive can hold init: what holds it is
 * a zombie that init cannot reap.  The target kinds below make one; hold.c
 * says which of them pgtest hold's kinds use and where each holds init.
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Agents: helper processes outside the namespace, driven by commands   */

struct amsg {
	int op;
	int pid;	/* the task to act on (pgtest's view) */
	int arg;
	int rc;		/* reply: >= 0 result, < 0 -errno */
	int status;	/* reply: wait status of a reaped task */
};

/*
 * As the tracer (or parent): wait for pid to stop (want_exit false) or to
 * be gone (reaped, want_exit true).  0, -ETIMEDOUT or -errno.
 */
int traced_wait(pid_t pid, int ms, bool want_exit, int *status)
{
	long long end = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == pid) {
			*status = st;
			if (WIFEXITED(st) || WIFSIGNALED(st))
				return want_exit ? 0 : -ESRCH;
			if (!want_exit && WIFSTOPPED(st))
				return 0;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
		if (r != pid)
			sleep_us(1000);
	}
}

/* Seize pid and put it into a ptrace-stop (PTRACE_EVENT_STOP). */
int seize_stop(pid_t pid, int *status)
{
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -errno;
	return traced_wait(pid, STATE_MS, false, status);
}

/* setns() into pid's namespace and fork a sleeper there; returns its pid. */
static int setns_fork_sleeper(pid_t nspid)
{
	char path[64];
	int fd, err;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", nspid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWPID)) {
		err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	child = fork();
	if (child == 0)
		sleep_forever();
	return child < 0 ? -errno : child;
}

static void agent_do(struct amsg *m)
{
	m->status = 0;
	switch (m->op) {
	case A_SEIZE:
		m->rc = ptrace(PTRACE_SEIZE, m->pid, NULL, NULL) ? -errno : 0;
		break;
	case A_SEIZE_STOP:
		m->rc = seize_stop(m->pid, &m->status);
		break;
	case A_REAP:
		m->rc = traced_wait(m->pid, m->arg, true, &m->status);
		break;
	case A_SETNS_FORK:
		m->rc = setns_fork_sleeper(m->pid);
		break;
	case A_EXIT:
		m->rc = 0;
		break;
	default:
		m->rc = -EINVAL;
	}
}

static int agent_main(void *arg)
{
	struct agent *a = arg;
	struct amsg m;

	for (;;) {
		ssize_t n = read(a->cmd[0], &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(m))
			return 0;
		agent_do(&m);
		if (write(a->rep[1], &m, sizeof(m)) != sizeof(m))
			return SETUP;
		if (m.op == A_EXIT)
			_exit(0);	/* whatever it traces or parents: not reaped */
	}
}

int agent_start(struct ctx *c, struct agent *a)
{
	if (mkpipe(c, a->cmd) || mkpipe(c, a->rep))
		return SETUP;
	a->pid = spawn(agent_main, a);
	if (a->pid < 0)
		return failf(c, SETUP, "fork: %m");
	return PASS;
}

/* Run one command in the agent; its rc (or -errno of the channel). */
int agent_call(struct agent *a, int op, pid_t pid, int arg, int *status)
{
	struct amsg m = { .op = op, .pid = pid, .arg = arg };

	if (write(a->cmd[1], &m, sizeof(m)) != sizeof(m))
		return -EPIPE;
	if (read_full(a->rep[0], &m, sizeof(m), AGENT_MS + arg, a->pid))
		return -ETIMEDOUT;
	if (status)
		*status = m.status;
	return m.rc;
}

/* ------------------------------------------------------------------ */
/* A namespace with one task that only an outside process can reap      */

const char *const tk_name[] = {
	[TK_CHILD] = "child", [TK_THREAD] = "thread",
	[TK_THREAD_EXITED] = "exited-thread", [TK_FOREIGN] = "foreign",
};

static void *situ_thread(void *arg)
{
	struct situ *s = arg;

	note_send(s->r.notes[1], N_TARGET, 0);
	/* TK_THREAD_EXITED: exit this thread alone when told to. */
	if (wait_byte(s->r.go[0]) == 'x')
		syscall(SYS_exit, 0);
	sleep_forever();
	return NULL;
}

static int situ_init(void *arg)
{
	struct situ *s = arg;
	pid_t pid;

	if (populate(s->extra, 1, s->r.notes[1], 0))
		return SETUP;
	if (s->kind == TK_CHILD) {
		pid = fork();
		if (pid < 0) {
			note_err(s->r.notes[1], "fork");
			return SETUP;
		}
		if (pid == 0) {
			note_send(s->r.notes[1], N_TARGET, 0);
			sleep_forever();
		}
	} else if (s->kind == TK_THREAD || s->kind == TK_THREAD_EXITED) {
		errno = start_thread(situ_thread, s);
		if (errno) {
			note_err(s->r.notes[1], "pthread_create");
			return SETUP;
		}
	}
	note_send(s->r.notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

/* The agent forks the target into the namespace: its child, not init's. */
static int situ_foreign_target(struct ctx *c, struct situ *s)
{
	struct pstat ps;
	int rc = agent_call(&s->ag, A_SETNS_FORK, s->r.init, 0, NULL);

	if (rc < 0)
		return failf(c, SETUP, "setns+fork into the namespace: %s", strerror(-rc));
	s->tgid = s->tid = rc;
	if (read_stat(rc, 0, &ps) || ps.ppid != s->ag.pid)
		return failf(c, SETUP, "setns+fork child %d is not parented by %d", rc, s->ag.pid);
	return PASS;
}

/* The agent ptraces the target init made (and stops it if asked). */
static int situ_traced_target(struct ctx *c, struct situ *s)
{
	const struct note *t = ns_note(&s->r, N_TARGET, -1);
	int rc, st;

	if (!t)
		return failf(c, SETUP, "the target task never reported");
	s->tgid = t->tgid;
	s->tid = t->tid;
	rc = agent_call(&s->ag, s->stop ? A_SEIZE_STOP : A_SEIZE, s->tid, 0, &st);
	if (rc < 0)
		return failf(c, SETUP, "ptrace %d from outside: %s", s->tid, strerror(-rc));
	if (s->stop && !wait_state(s->tgid, s->tid, "t", STATE_MS))
		return failf(c, SETUP, "tracee %d never showed a ptrace-stop", s->tid);
	return PASS;
}

/* Build it: namespace, target, outside agent holding the target. */
int situ_build(struct ctx *c, struct situ *s)
{
	int want = s->extra + 1 + (s->kind != TK_FOREIGN);
	struct scan sc;
	int rc;

	rc = agent_start(c, &s->ag);
	if (!rc)
		rc = ns_start(c, &s->r, situ_init, s, want);
	if (rc)
		return rc;
	rc = s->kind == TK_FOREIGN ? situ_foreign_target(c, s) : situ_traced_target(c, s);
	if (rc)
		return rc;
	s->ntasks = 1 + 2 * s->extra + 1;
	if (s->kind == TK_THREAD_EXITED) {
		/* It exits traced: no autoreap, a zombie until P reaps it. */
		send_byte(s->r.go[1], 'x');
		if (!wait_state(s->tgid, s->tid, "Z", STATE_MS))
			return failf(c, SETUP, "traced thread %d did not become a zombie", s->tid);
	}
	return expect_tasks(c, &s->r.ns, s->ntasks, &sc);
}

/* After the kill: the target must be a zombie and init not reapable. */
int situ_check_held(struct ctx *c, struct situ *s, int ms)
{
	char b[64];
	int st, r;

	if (!wait_state(s->tgid, s->tid, "Z", STATE_MS))
		return failf(c, FAIL, "held task %d did not become a zombie (state %c)",
			     s->tid, task_state(s->tgid, s->tid));
	r = stays_unreapable(s->r.init, ms, &st);
	if (r < 0)
		return failf(c, SETUP, "waitpid(init): %m");
	if (r == 0) {
		untrack(s->r.init);
		return failf(c, FAIL, "init reapable (%s) while zombie %d still waits for %d to reap it",
			     status_str(st, b, sizeof(b)), s->tid, s->ag.pid);
	}
	if (kill(s->ag.pid, 0))
		return failf(c, SETUP, "agent %d is gone", s->ag.pid);
	return PASS;
}

/*
 * Let the held zombie go: the agent reaps it, or (agent_exits) the agent
 * exits without reaping it; a setns+fork child is then reparented to us
 * (child subreaper) and we reap it.  *tstatus: the target's wait status.
 */
int situ_release(struct ctx *c, struct situ *s, bool agent_exits, int *tstatus)
{
	int rc, st;

	*tstatus = -1;
	if (!agent_exits) {
		rc = agent_call(&s->ag, A_REAP, s->tid, STATE_MS, tstatus);
		if (rc < 0)
			return failf(c, FAIL, "agent could not reap %d: %s", s->tid, strerror(-rc));
		return PASS;
	}
	rc = agent_call(&s->ag, A_EXIT, 0, 0, NULL);
	if (wait_pid_for(s->ag.pid, &st, STATE_MS) != 1)
		return failf(c, FAIL, "agent %d did not exit", s->ag.pid);
	untrack(s->ag.pid);
	if (s->kind == TK_FOREIGN &&
	    wait_pid_for(s->tid, tstatus, STATE_MS) != 1)
		return failf(c, FAIL, "orphaned zombie %d was not reparented to us", s->tid);
	return rc < 0 ? failf(c, SETUP, "agent: %s", strerror(-rc)) : PASS;
}

/*
 * Wait until init sits in its teardown, parked: every other task of the
 * namespace gone but the held zombie, init exiting and asleep, and all of
 * it still so 100 ms later (init may be between the reap loop and the
 * final wait at first).
 */
int situ_wait_parked(struct ctx *c, struct situ *s, char *where, size_t len)
{
	long long end = now_ms() + STATE_MS;
	struct pstat ps;
	struct scan sc;
	int stable = 0;

	for (;;) {
		if (!read_stat(s->r.init, 0, &ps) && (ps.flags & PF_EXITING_FLAG) &&
		    strchr("SDI", ps.state) && !scan_ns(&s->r.ns, &sc) &&
		    sc.total == 2 && task_state(s->tgid, s->tid) == 'Z')
			stable++;
		else
			stable = 0;
		if (stable >= 5)
			break;
		if (now_ms() > end) {
			if (!scan_ns(&s->r.ns, &sc))
				scan_report(&sc, "in namespace");
			return failf(c, FAIL, "init never parked in its teardown (state %c)",
				     task_state(s->r.init, 0));
		}
		sleep_us(20000);
	}
	kernel_stack_top(s->r.init, where, len);
	diag("init %d parked, state %c, kernel stack %s", s->r.init, ps.state, where);
	return PASS;
}

/*
 * One round of a held scenario: build @s, SIGKILL its init, check that
 * init stays unreapable for HOLD_CHECK_MS, then let the agent go (it reaps
 * its zombie, or exits when @agent_exits).  Unless @what is NULL, the
 * released target (so named) must have died of the SIGKILL.  Then the
 * teardown must end (ns_finish(), timed from the release).  The hold's
 * length goes to s->held_ms, the shortest of the scenario to *@min_held.
 */
int situ_held_round(struct ctx *c, struct situ *s, bool agent_exits, const char *what,
		    long long *min_held)
{
	long long t0;
	char b[64];
	int rc, tst;

	rc = situ_build(c, s);
	if (rc)
		return rc;
	t0 = now_ms();
	kill(s->r.init, SIGKILL);
	rc = situ_check_held(c, s, HOLD_CHECK_MS);
	if (rc)
		return rc;
	s->r.t0 = now_ms();
	s->held_ms = s->r.t0 - t0;
	rc = situ_release(c, s, agent_exits, &tst);
	if (rc)
		return rc;
	if (what && !(WIFSIGNALED(tst) && WTERMSIG(tst) == SIGKILL))
		return failf(c, FAIL, "%s %s, expected killed by SIGKILL",
			     what, status_str(tst, b, sizeof(b)));
	rc = ns_finish(c, &s->r, SIGKILL, 0);
	diag("%s target %d of agent %d, %s: held %lld ms, init reapable %lld ms after release",
	     tk_name[s->kind], s->tid, s->ag.pid, agent_exits ? "agent exited" : "agent reaped it",
	     s->held_ms, s->r.took_ms);
	if (!*min_held || s->held_ms < *min_held)
		*min_held = s->held_ms;
	return rc;
}
