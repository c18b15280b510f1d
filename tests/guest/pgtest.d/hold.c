// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest hold (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* hold                                                                 */

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

int do_hold(const char *kind, const char *fifo_path)
{
	struct ctx c = { .name = "hold", .rounds = 1 };
	struct situ s = { .extra = 2 };
	char where[256], b[64];
	long long t_held, t_rel, took;
	int fifo = -1, rc, tst;
	sigset_t usr1;

	g_name = "hold";
	if (!strcmp(kind, "zombie"))
		s.kind = TK_THREAD_EXITED;
	else if (!strcmp(kind, "stopped"))
		s.kind = TK_CHILD, s.stop = true;
	else if (!strcmp(kind, "foreign"))
		s.kind = TK_FOREIGN;
	else {
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
		kill(s.init, SIGKILL);
		rc = situ_wait_parked(&c, &s, where, sizeof(where));
	}
	if (rc) {
		printf("fail hold %s\n", c.why);
		round_end();
		return rc;
	}
	printf("held %d %lu %d %d\n", s.init, (unsigned long)s.ns.ino, s.ag.pid, s.tid);
	fflush(stdout);
	t_held = now_ms();

	if (hold_wait_release(fifo))
		diag("no release after %d s: releasing anyway", HOLD_MAX_S);
	if (waitpid(s.init, &tst, WNOHANG) == s.init) {
		untrack(s.init);
		rc = failf(&c, FAIL, "init became reapable while still held (%s)",
			   status_str(tst, b, sizeof(b)));
	}
	t_rel = now_ms();
	if (!rc)
		rc = situ_release(&c, &s, false, &tst);
	if (!rc)
		rc = finish_teardown(&c, s.init, &s.ns, t_rel, SIGKILL, 0, &took);
	round_end();
	if (rc) {
		printf("fail hold %s\n", c.why);
		return rc;
	}
	printf("ok hold kind=%s: init held %lld ms in its %s (%s), reaped %lld ms after release, nothing left\n",
	       kind, t_rel - t_held, wait_stage(where), where, took);
	return PASS;
}
