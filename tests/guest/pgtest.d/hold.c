// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest hold [--kind KIND] [--release-fifo PATH]: park a teardown, for
 * shell scripts (tests/guest/lib.sh: pgt_hold_start, pgt_hold_release).
 *
 * The three kinds of pgtest hold (held.c: where a teardown can be held):
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
 */
#include "pgtest.h"

/* Wait for data on the fifo (if any) or SIGUSR1 (blocked by the caller). */
static int hold_wait_release(int fifo)
{
	long long end = now_ms() + HOLD_MAX_S * 1000LL;
	struct timespec tick = { 0, 200 * 1000000L };
	sigset_t usr1;
	char buf[128];

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	while (now_ms() < end) {
		struct pollfd p = { .fd = fifo, .events = POLLIN };

		if (fifo >= 0 && poll(&p, 1, 0) > 0 && read(fifo, buf, sizeof(buf)) > 0)
			return 0;
		if (sigtimedwait(&usr1, NULL, &tick) == SIGUSR1)
			return 0;
	}
	return -1;
}

/* The situation of a kind; -1 for an unknown kind. */
static int hold_kind(const char *kind, struct situ *s)
{
	if (!strcmp(kind, "zombie")) {
		s->kind = TK_THREAD_EXITED;
	} else if (!strcmp(kind, "stopped")) {
		s->kind = TK_CHILD;
		s->stop = true;
	} else if (!strcmp(kind, "foreign")) {
		s->kind = TK_FOREIGN;
	} else {
		return -1;
	}
	return 0;
}

/* The "fail hold" line; then what the hold built is killed and reaped. */
static int hold_fail(struct ctx *c, int rc)
{
	printf("fail hold %s\n", c->why);
	round_end();
	return rc;
}

/* Held until released: let the holder reap, and the teardown must end well. */
static int hold_release(struct ctx *c, struct situ *s, int fifo, long long *held_ms)
{
	long long t_held = now_ms();
	char b[64];
	int rc, tst;

	if (hold_wait_release(fifo))
		diag("no release after %d s: releasing anyway", HOLD_MAX_S);
	if (waitpid(s->r.init, &tst, WNOHANG) == s->r.init) {
		untrack(s->r.init);
		return failf(c, FAIL, "init became reapable while still held (%s)",
			     status_str(tst, b, sizeof(b)));
	}
	s->r.t0 = now_ms();
	*held_ms = s->r.t0 - t_held;
	rc = situ_release(c, s, false, &tst);
	if (!rc)
		rc = ns_finish(c, &s->r, SIGKILL, 0);
	return rc;
}

int hold_main(const char *kind, const char *fifo_path)
{
	struct ctx c = { .name = "hold", .rounds = 1 };
	struct situ s = { .extra = 2 };
	long long held_ms = 0;
	char where[256];
	int fifo = -1, rc;
	sigset_t usr1;

	g_name = "hold";
	if (hold_kind(kind, &s)) {
		fprintf(stderr, "pgtest: hold: unknown kind %s (zombie, stopped, foreign)\n", kind);
		return SETUP;
	}
	if (fifo_path) {
		/* Read-write: a writer never blocks, and we never see EOF. */
		fifo = open(fifo_path, O_RDWR | O_CLOEXEC);
		if (fifo < 0) {
			diag("open %s: %m", fifo_path);
			printf("fail hold cannot open %s\n", fifo_path);
			return SETUP;
		}
	}
	/* An early SIGUSR1 must not be lost (nor kill us). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	rc = situ_build(&c, &s);
	if (!rc) {
		kill(s.r.init, SIGKILL);
		rc = situ_wait_parked(&c, &s, where, sizeof(where));
	}
	if (rc)
		return hold_fail(&c, rc);
	printf("held %d %lu %d %d\n", s.r.init, (unsigned long)s.r.ns.ino, s.ag.pid, s.tid);
	fflush(stdout);

	rc = hold_release(&c, &s, fifo, &held_ms);
	if (rc)
		return hold_fail(&c, rc);
	round_end();
	printf("ok hold kind=%s: init held %lld ms in its %s (%s), reaped %lld ms after release, nothing left\n",
	       kind, held_ms, wait_stage(where), where, s.r.took_ms);
	return PASS;
}
