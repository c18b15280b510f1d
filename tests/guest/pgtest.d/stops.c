// SPDX-License-Identifier: GPL-2.0
/*
 * Stops and tracing: tasks that cannot run when the teardown begins.
 *
 *   stopped (2)          group-stopped tasks, and tasks ptrace-stopped
 *                        (interrupt, attach, group-stop) by a tracer inside
 *   traced_outside (6)   a task traced from outside holds init for 1 s;
 *                        target: child / stopped thread / exited thread of
 *                        init; odd rounds the tracer reaps, even ones exits
 */
#include "pgtest.h"

/* stopped ------------------------------------------------------------ */

struct stopped_args {
	struct ns_round r;
	int ack[2];
	pid_t s[2], x[3];	/* inner pids: group-stopped, ptrace-stopped */
};

struct stop_counts {
	int gstop, tstop;	/* threads group-stopped, tasks ptrace-stopped */
};

/* A sleeping child with threads; acks init once its threads run. */
static pid_t fork_acked_sleeper(struct stopped_args *a, int threads)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (start_sleepers(threads)) {
			note_err(a->r.notes[1], "pthread_create");
			_exit(SETUP);
		}
		note_send(a->r.notes[1], N_TASK, 0);
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
		note_err(a->r.notes[1], "tracer in the namespace");
		return SETUP;
	}
	note_send(a->r.notes[1], N_TRACER, 0);
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
	note_send(a->r.notes[1], N_INIT, 0);
	wait_byte(a->r.go[0]);
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

/*
 * The tasks were forked in the order s0 s1 x0 x1 x2; their notes can
 * arrive in any order, so look at what each of them is instead.
 */
static int count_stops(struct ctx *c, const struct ns_round *r, struct stop_counts *n)
{
	int threads;

	n->gstop = n->tstop = 0;
	for (int i = 0; i < r->nnotes; i++) {
		const struct note *t = &r->note[i];
		char st;

		if (t->tag != N_TASK)
			continue;
		st = wait_state(t->tgid, 0, "Tt", STATE_MS);
		if (!st)
			return failf(c, SETUP, "task %d never stopped", t->tgid);
		if (all_threads_in(t->tgid, "Tt", &threads))
			return failf(c, SETUP, "not every thread of %d stopped", t->tgid);
		if (st == 't') {
			n->tstop++;
			n->gstop += threads - 1;	/* the untraced threads: group stop */
		} else {
			n->gstop += threads;
		}
	}
	if (n->tstop != 3)
		return failf(c, SETUP, "%d tasks in a ptrace-stop, expected 3", n->tstop);
	return PASS;
}

static int stopped_round(struct ctx *c, int round, void *arg)
{
	struct stopped_args a = { 0 };
	bool by_kill = round & 1;
	struct scan s;
	int rc;

	rc = mkpipe(c, a.ack);
	if (!rc)
		rc = ns_start(c, &a.r, stopped_init, &a, 7);
	if (!rc)
		rc = expect_tasks(c, &a.r.ns, 1 + 5 + 4 + 1, &s);
	if (!rc)
		rc = count_stops(c, &a.r, arg);
	if (rc)
		return rc;
	ns_teardown(&a.r, by_kill);
	return ns_finish(c, &a.r, by_kill ? SIGKILL : 0, 0);
}

static int sc_stopped(struct ctx *c)
{
	struct stop_counts n = { 0 };
	int rc = run_rounds(c, stopped_round, &n);

	if (rc)
		return rc;
	return passf(c, "%d rounds, %d tasks group-stopped + %d ptrace-stopped by a tracer in the namespace, teardown max %lld ms",
		     c->rounds, n.gstop, n.tstop, c->max_ms);
}

const struct scenario scenario_stopped = { "stopped", sc_stopped, 2 };

/* traced_outside ----------------------------------------------------- */

static int traced_outside_round(struct ctx *c, int round, void *arg)
{
	static const enum target_kind kinds[] = { TK_CHILD, TK_THREAD, TK_THREAD_EXITED };
	struct situ s = { .extra = 3 };
	bool agent_exits = !(round & 1);
	char what[32] = "";

	s.kind = kinds[((round - 1) / 2) % 3];
	s.stop = s.kind == TK_THREAD;
	/* Reaped by its tracer, a child or stopped thread died of the SIGKILL. */
	if (!agent_exits && s.kind != TK_THREAD_EXITED)
		snprintf(what, sizeof(what), "traced %s", tk_name[s.kind]);
	return situ_held_round(c, &s, agent_exits, what[0] ? what : NULL, arg);
}

static int sc_traced_outside(struct ctx *c)
{
	long long min_held = 0;
	int rc = run_rounds(c, traced_outside_round, &min_held);

	if (rc)
		return rc;
	return passf(c, "%d rounds (target: %s of init; tracer reaps/exits): init unreapable for all %lld+ ms of holding, reaped within %lld ms of the release",
		     c->rounds, c->rounds <= 2 ? "child" : c->rounds <= 4 ? "child/stopped thread" :
		     "child/stopped thread/exited thread", min_held, c->max_ms);
}

const struct scenario scenario_traced_outside = { "traced_outside", sc_traced_outside, 6 };
