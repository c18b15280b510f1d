// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios stopped, traced_outside (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenario: stopped                                                    */

struct stopped_args {
	int notes[2], go[2], ack[2];
	pid_t s[2], x[3];	/* inner pids: group-stopped, ptrace-stopped */
};

/* A sleeping child with threads; acks init once its threads run. */
static pid_t fork_acked_sleeper(struct stopped_args *a, int threads)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (start_sleepers(threads)) {
			note_err(a->notes[1], "pthread_create");
			_exit(SETUP);
		}
		note_send(a->notes[1], N_TASK, 0);
		send_byte(a->ack[1], 'a');
		sleep_forever();
	}
	return pid;
}

/* ptrace-stop x[0] (interrupt), x[1] (attach), x[2] (group-stop). */
static int stopped_tracer(struct stopped_args *a)
{
	int st, rc;

	rc = seize_stop(a->x[0], &st);
	if (!rc && !(WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP))
		rc = -EPROTO;
	if (!rc && ptrace(PTRACE_ATTACH, a->x[1], NULL, NULL))
		rc = -errno;
	if (!rc)
		rc = traced_wait(a->x[1], STATE_MS, false, &st);
	if (!rc && ptrace(PTRACE_SEIZE, a->x[2], NULL, NULL))
		rc = -errno;
	if (!rc && kill(a->x[2], SIGSTOP))
		rc = -errno;
	/*
	 * When the traced thread dequeues the SIGSTOP it is reported first,
	 * and passing it on starts the group stop.  When another thread of
	 * x[2] dequeues it, the group stop has begun already and is what is
	 * reported (PTRACE_EVENT_STOP): passing a signal then would only
	 * resume the tracee.
	 */
	if (!rc)
		rc = traced_wait(a->x[2], STATE_MS, false, &st);
	if (!rc && !(WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP)) {
		if (ptrace(PTRACE_CONT, a->x[2], NULL, (void *)(long)SIGSTOP))
			rc = -errno;
		else
			rc = traced_wait(a->x[2], STATE_MS, false, &st);
	}
	if (!rc && !(WIFSTOPPED(st) && st >> 16 == PTRACE_EVENT_STOP))
		rc = -EPROTO;
	if (rc) {
		errno = -rc;
		note_err(a->notes[1], "tracer in the namespace");
		return SETUP;
	}
	note_send(a->notes[1], N_TRACER, 0);
	sleep_forever();
	return 0;
}

static int stopped_init(void *arg)
{
	struct stopped_args *a = arg;
	pid_t tracer;

	a->s[0] = fork_acked_sleeper(a, 0);
	a->s[1] = fork_acked_sleeper(a, 2);
	a->x[0] = fork_acked_sleeper(a, 0);
	a->x[1] = fork_acked_sleeper(a, 0);
	a->x[2] = fork_acked_sleeper(a, 2);
	for (int i = 0; i < 5; i++)
		wait_byte(a->ack[0]);
	/* Plain group stops, from the namespace init itself. */
	kill(a->s[0], SIGSTOP);
	kill(a->s[1], SIGSTOP);
	tracer = fork();
	if (tracer == 0)
		_exit(stopped_tracer(a));
	note_send(a->notes[1], N_INIT, 0);
	wait_byte(a->go[0]);
	return 0;
}

/* Every thread of process pid in one of states; counts them. */
static int all_threads_in(pid_t pid, const char *states, int *count)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int bad = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	*count = 0;
	while ((de = readdir(d))) {
		if (!is_number(de->d_name))
			continue;
		if (!wait_state(pid, atoi(de->d_name), states, STATE_MS))
			bad++;
		(*count)++;
	}
	closedir(d);
	return bad ? -1 : 0;
}

static int stopped_round(struct ctx *c, int round, int *gstop, int *tstop, long long *max_ms)
{
	struct stopped_args a = { 0 };
	struct note notes[8];
	bool by_kill = round & 1;
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc, n;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go) || mkpipe(c, a.ack))
		return SETUP;
	init = fork_ns_init(stopped_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 7, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 1 + 5 + 4 + 1, &s);
	if (rc)
		return rc;

	/*
	 * The tasks were forked in the order s0 s1 x0 x1 x2; their notes can
	 * arrive in any order, so look at what each of them is instead.
	 */
	*gstop = *tstop = 0;
	for (int i = 0; i < 7; i++) {
		char st;

		if (notes[i].tag != N_TASK)
			continue;
		st = wait_state(notes[i].tgid, 0, "Tt", STATE_MS);
		if (!st)
			return failf(c, SETUP, "task %d never stopped", notes[i].tgid);
		if (all_threads_in(notes[i].tgid, "Tt", &n))
			return failf(c, SETUP, "not every thread of %d stopped", notes[i].tgid);
		if (st == 't') {
			(*tstop)++;
			*gstop += n - 1;	/* the untraced threads: group stop */
		} else {
			*gstop += n;
		}
	}
	if (*tstop != 3)
		return failf(c, SETUP, "%d tasks in a ptrace-stop, expected 3", *tstop);

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

int sc_stopped(struct ctx *c)
{
	int gstop = 0, tstop = 0, rc;
	long long max_ms = 0;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = stopped_round(c, g_round, &gstop, &tstop, &max_ms);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, %d tasks group-stopped + %d ptrace-stopped by a tracer in the namespace, teardown max %lld ms",
		 c->rounds, gstop, tstop, max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: traced_outside                                             */

static int traced_outside_round(struct ctx *c, int round, struct held_times *ht)
{
	static const enum target_kind kinds[] = { TK_CHILD, TK_THREAD, TK_THREAD_EXITED };
	struct situ s = { .extra = 3 };
	bool agent_exits = !(round & 1);
	long long t1, held, took;
	int rc, tst;
	char b[64];

	s.kind = kinds[((round - 1) / 2) % 3];
	s.stop = s.kind == TK_THREAD;
	rc = situ_hold_release(c, &s, agent_exits, &tst, &t1, &held);
	if (rc)
		return rc;
	if (!agent_exits && !(WIFSIGNALED(tst) && WTERMSIG(tst) == SIGKILL) &&
	    s.kind != TK_THREAD_EXITED)
		return failf(c, FAIL, "traced %s %s, expected killed by SIGKILL",
			     tk_name[s.kind], status_str(tst, b, sizeof(b)));
	rc = finish_teardown(c, s.init, &s.ns, t1, SIGKILL, 0, &took);
	diag("%s target, tracer %s: held %lld ms, reapable %lld ms after release",
	     tk_name[s.kind], agent_exits ? "exited" : "reaped", held, took);
	held_times_add(ht, held, took);
	return rc;
}

int sc_traced_outside(struct ctx *c)
{
	struct held_times ht = { 0 };
	int rc = run_held_rounds(c, &ht, traced_outside_round);

	if (rc)
		return rc;
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds (target: %s of init; tracer reaps/exits): init unreapable for all %lld+ ms of holding, reaped within %lld ms of the release",
		 c->rounds, c->rounds <= 2 ? "child" : c->rounds <= 4 ? "child/stopped thread" :
		 "child/stopped thread/exited thread", ht.min_held_ms, ht.max_release_ms);
	return PASS;
}
