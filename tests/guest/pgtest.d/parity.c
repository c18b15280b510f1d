// SPDX-License-Identifier: GPL-2.0
/*
 * What a parked teardown shows of itself, the same with pidns_guard as
 * with the stock function of this kernel (docs/generations.md).
 *
 *   parked_init (1)      init's leader ends by a thread exit while an
 *                        exited thread of its own, traced from outside,
 *                        is still a zombie, and a child of its own is in
 *                        that tracer's ptrace-stop: the teardown is held
 *                        in its reap loop, then (the child reaped) in its
 *                        final wait.  In both:
 *                        - the kill loop sends SIGKILL through the zombie
 *                          thread to init's own thread group, and the
 *                          kernel drops it (SIGNAL_GROUP_EXIT is set once
 *                          the group's last thread exits): the tracepoint
 *                          signal/signal_generate shows it (sig=9, the
 *                          thread's pid, grp=1, res=1: ignored), nothing
 *                          else does (ShdPnd stays empty);
 *                        - PF_NO_NOTIFY_SIGNAL (0x00800000 in the flags of
 *                          /proc/INIT/stat) is set on new-generation
 *                          kernels, from the reap loop to the return, and
 *                          that bit is clear on old ones (the environment's
 *                          PG_GENERATION says which);
 *                        - /proc/INIT/stack names zap_pid_ns_processes (a
 *                          substring of pidns_guard's pg_zap_pid_ns_processes),
 *                          and in the final wait so does its wchan.
 */
#include "pgtest.h"

#define PR_LEADER_CODE		3
#define PF_NO_NOTIFY_SIGNAL	0x00800000	/* include/linux/sched.h, 6.1.0-55+, 6.12.115+ */
#define SIGKILL_MASK		(1ULL << (SIGKILL - 1))
#define SIGGEN			"/sys/kernel/tracing/events/signal/signal_generate/"

struct parity {
	struct ns_round r;	/* r.go: 'x' makes the thread exit */
	int lead[2];		/* 'x' makes the leader exit */
	struct agent ag;	/* the tracer outside */
	pid_t child, thread;	/* pgtest's view */
	bool want_notify;	/* new generation: PF_NO_NOTIFY_SIGNAL expected */
};

static void *parity_thread(void *arg)
{
	struct parity *p = arg;

	note_send(p->r.notes[1], N_TARGET, 0);
	if (wait_byte(p->r.go[0]) == 'x')
		syscall(SYS_exit, 0);
	sleep_forever();
	return NULL;
}

/* A child, a thread, then the leader waits to exit alone. */
static int parity_init(void *arg)
{
	struct parity *p = arg;
	pid_t pid = fork();

	if (pid < 0) {
		note_err(p->r.notes[1], "fork");
		return SETUP;
	}
	if (pid == 0) {
		note_send(p->r.notes[1], N_TASK, 0);
		sleep_forever();
	}
	errno = start_thread(parity_thread, p);
	if (errno) {
		note_err(p->r.notes[1], "pthread_create");
		return SETUP;
	}
	note_send(p->r.notes[1], N_INIT, 0);
	if (wait_byte(p->lead[0]) == 'x')
		syscall(SYS_exit, PR_LEADER_CODE);
	sleep_forever();
	return SETUP;
}

/* signal_generate on, for SIGKILL only, its buffer emptied; or off. */
static int siggen_trace(bool on)
{
	int err = write_file(SIGGEN "enable", "0");

	if (!err)
		err = write_file(SIGGEN "filter", on ? "sig == 9" : "0");
	if (!err && on)
		err = write_file("/sys/kernel/tracing/trace", "");
	if (!err && on)
		err = write_file(SIGGEN "enable", "1");
	return err;
}

/*
 * The SIGKILL the kill loop sent to init's own thread group, through the
 * zombie thread: its signal_generate line ("... pid=THREAD grp=1 res=N"),
 * the text from "pid=" on, in seen.
 */
static bool siggen_seen(pid_t thread, char *seen, size_t len)
{
	char buf[65536], want[32], *p, *line, *save;

	if (read_text("/sys/kernel/tracing/trace", buf, sizeof(buf)) <= 0)
		return false;
	snprintf(want, sizeof(want), " pid=%d grp=1 ", thread);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "signal_generate: sig=9 ") || !(p = strstr(line, want)))
			continue;
		snprintf(seen, len, "%s", p + 1);
		return true;
	}
	return false;
}

/* Built and held: the child ptrace-stopped, the thread a traced zombie. */
static int parity_build(struct ctx *c, struct parity *p)
{
	const struct note *n;
	int rc, st;

	if (mkpipe(c, p->lead) || agent_start(c, &p->ag))
		return SETUP;
	rc = ns_start(c, &p->r, parity_init, p, 3);
	if (rc)
		return rc;
	n = ns_note(&p->r, N_TASK, -1);
	p->child = n ? n->tid : 0;
	n = ns_note(&p->r, N_TARGET, -1);
	p->thread = n ? n->tid : 0;
	if (!p->child || !p->thread)
		return failf(c, SETUP, "init's child or thread never reported");
	rc = agent_call(&p->ag, A_SEIZE_STOP, p->child, 0, &st);
	if (rc < 0)
		return failf(c, SETUP, "ptrace-stop child %d from outside: %s", p->child, strerror(-rc));
	rc = agent_call(&p->ag, A_SEIZE, p->thread, 0, &st);
	if (rc < 0)
		return failf(c, SETUP, "ptrace thread %d from outside: %s", p->thread, strerror(-rc));
	send_byte(p->r.go[1], 'x');
	if (!wait_state(p->r.init, p->thread, "Z", STATE_MS))
		return failf(c, SETUP, "traced thread %d did not become a zombie", p->thread);
	if (siggen_trace(true))
		return failf(c, SETUP, "cannot trace signal/signal_generate (tracefs at /sys/kernel/tracing)");
	p->r.t0 = now_ms();
	send_byte(p->lead[1], 'x');
	return PASS;
}

/* Init asleep in the teardown, in the wait stage want, 5 times in a row. */
static int parity_parked(struct ctx *c, struct parity *p, const char *want, char *stack, size_t len)
{
	long long end = now_ms() + STATE_MS;
	struct pstat ps;
	int stable = 0;

	for (;;) {
		kernel_stack_top(p->r.init, stack, len);
		if (!read_stat(p->r.init, 0, &ps) && (ps.flags & PF_EXITING_FLAG) &&
		    strchr("SDI", ps.state) && !strcmp(wait_stage(stack), want))
			stable++;
		else
			stable = 0;
		if (stable >= 5)
			return PASS;
		if (now_ms() > end)
			return failf(c, FAIL, "init never parked in its %s (state %c, stack %s)",
				     want, task_state(p->r.init, 0), stack);
		sleep_us(20000);
	}
}

/* Does init's whole kernel stack name the function? */
static bool stack_names(pid_t pid, const char *fn)
{
	char path[64], buf[4096];

	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	return read_text(path, buf, sizeof(buf)) > 0 && strstr(buf, fn);
}

/* What init shows while parked where want says; final: the final wait. */
static int parity_check(struct ctx *c, struct parity *p, const char *want, bool final,
			char *seen, size_t len)
{
	unsigned long long shdpnd = 0;
	char stack[256], wchan[128] = "?", sig[96] = "none";
	struct pstat ps;
	char path[64];
	bool notify;
	int rc;

	rc = parity_parked(c, p, want, stack, sizeof(stack));
	if (rc)
		return rc;
	if (status_num(p->r.init, p->r.init, "ShdPnd", 16, &shdpnd) || read_stat(p->r.init, 0, &ps))
		return failf(c, SETUP, "cannot read /proc/%d/status or stat", p->r.init);
	snprintf(path, sizeof(path), "/proc/%d/wchan", p->r.init);
	read_file(path, wchan, sizeof(wchan));
	notify = ps.flags & PF_NO_NOTIFY_SIGNAL;
	if (!final && !siggen_seen(p->thread, sig, sizeof(sig)))
		return failf(c, FAIL, "no signal_generate of SIGKILL to init's own thread group (pid=%d grp=1): the kill loop did not send it",
			     p->thread);
	snprintf(seen, len, "%s: %s%s%sShdPnd %016llx, flags %08x, wchan %s", want,
		 final ? "" : "signal_generate ", final ? "" : sig, final ? "" : ", ",
		 shdpnd, ps.flags, wchan);
	diag("parked in %s: %s; stack %s", want, seen, stack);
	if (shdpnd & SIGKILL_MASK)
		return failf(c, FAIL, "in its %s init's shared pending set (ShdPnd %016llx) holds a SIGKILL: the group's exit should have dropped it",
			     want, shdpnd);
	if (notify != p->want_notify)
		return failf(c, FAIL, "in its %s init's flags %08x %s PF_NO_NOTIFY_SIGNAL (0x%08x), on a %s-generation kernel",
			     want, ps.flags, notify ? "have" : "lack", PF_NO_NOTIFY_SIGNAL,
			     p->want_notify ? "new" : "old");
	if (!stack_names(p->r.init, "zap_pid_ns_processes"))
		return failf(c, FAIL, "in its %s init's /proc/%d/stack does not name zap_pid_ns_processes", want, p->r.init);
	if (final && !strstr(wchan, "zap_pid_ns_processes"))
		return failf(c, FAIL, "in its final wait init's wchan is %s, not *zap_pid_ns_processes", wchan);
	return PASS;
}

static int sc_parked_init(struct ctx *c)
{
	const char *gen = getenv("PG_GENERATION");
	struct parity p = { 0 };
	char reap[192], fin[192];
	int rc, st;

	if (!gen || (strcmp(gen, "old") && strcmp(gen, "new")))
		return failf(c, SETUP, "PG_GENERATION (old or new) not set: which flags to expect");
	p.want_notify = !strcmp(gen, "new");
	rc = parity_build(c, &p);
	if (!rc)
		rc = parity_check(c, &p, "reap loop", false, reap, sizeof(reap));
	siggen_trace(false);
	if (rc)
		return rc;
	rc = agent_call(&p.ag, A_REAP, p.child, STATE_MS, &st);
	if (rc < 0)
		return failf(c, FAIL, "the tracer could not reap child %d: %s", p.child, strerror(-rc));
	rc = parity_check(c, &p, "final wait", true, fin, sizeof(fin));
	if (rc)
		return rc;
	rc = agent_call(&p.ag, A_REAP, p.thread, STATE_MS, &st);
	if (rc < 0)
		return failf(c, FAIL, "the tracer could not reap thread %d: %s", p.thread, strerror(-rc));
	rc = ns_finish(c, &p.r, -1, 0);
	if (rc)
		return rc;
	return passf(c, "%s generation; %s; %s; the stack named zap_pid_ns_processes in both",
		     gen, reap, fin);
}

const struct scenario scenario_parked_init = { "parked_init", sc_parked_init, 1 };
