// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios setns_fork_late, setns_fork_race (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenario: setns_fork_late                                            */

static int setns_late_round(struct ctx *c, int round, struct held_times *ht)
{
	struct situ s = { .kind = TK_FOREIGN, .extra = 2 };
	bool parent_exits = !(round & 1);
	long long t1, held, took;
	char b[64];
	int rc, cst;

	rc = situ_hold_release(c, &s, parent_exits, &cst, &t1, &held);
	if (rc)
		return rc;
	if (!(WIFSIGNALED(cst) && WTERMSIG(cst) == SIGKILL))
		return failf(c, FAIL, "setns+fork child %s, expected killed by SIGKILL",
			     status_str(cst, b, sizeof(b)));
	rc = finish_teardown(c, s.init, &s.ns, t1, SIGKILL, 0, &took);
	diag("child %d of outside %d: held %lld ms, reaped by %s, init reapable %lld ms later",
	     s.tid, s.ag.pid, held, parent_exits ? "us after reparenting" : "its parent", took);
	held_times_add(ht, held, took);
	return rc;
}

int sc_setns_fork_late(struct ctx *c)
{
	struct held_times ht = { 0 };
	int rc = run_held_rounds(c, &ht, setns_late_round);

	if (rc)
		return rc;
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, setns+fork child of an outside parent kept init unreapable for all %lld+ ms of holding; reaped (by its parent / by us after reparenting), init reaped within %lld ms",
		 c->rounds, ht.min_held_ms, ht.max_release_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: setns_fork_race                                            */

#define RACERS 2

struct racer {
	int ok, enomem, other, other_errno, setns_fail;
	int final_done;		/* the attempt after init was reaped */
	int final_setns_errno;	/* 0: setns worked */
	int final_fork_errno;	/* 0: fork worked (a bug) */
};

struct race {
	int stop;		/* racers: reap what is left and exit */
	int reaped;		/* init is reaped: make one more attempt */
	struct racer r[RACERS];
};

struct racer_args {
	struct race *sh;
	int idx, nsfd;
};

/* One setns+fork; the child exits at once or sleeps until killed. */
static int race_attempt(struct racer_args *a, unsigned int i, int *setns_errno)
{
	pid_t pid;

	*setns_errno = 0;
	if (setns(a->nsfd, CLONE_NEWPID)) {
		*setns_errno = errno;
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (i & 1)
			sleep_forever();
		_exit(0);
	}
	return pid < 0 ? -1 : 0;
}

static int racer_main(void *arg)
{
	struct racer_args *a = arg;
	struct racer *r = &a->sh->r[a->idx];
	long long end;
	unsigned int i = 0;
	int serr, st_;

	while (!ld(&a->sh->stop)) {
		int rc;

		if (ld(&r->final_done)) {
			sleep_us(1000);
		} else if (ld(&a->sh->reaped)) {
			rc = race_attempt(a, i++, &serr);
			r->final_setns_errno = serr;
			r->final_fork_errno = !rc ? -1 : serr ? 0 : errno;
			st(&r->final_done, 1);
		} else if (!(rc = race_attempt(a, i++, &serr))) {
			inc(&r->ok);
		} else {
			if (serr) {
				inc(&r->setns_fail);
			} else if (errno == ENOMEM) {
				inc(&r->enomem);	/* the namespace is dying */
			} else {
				r->other_errno = errno;
				inc(&r->other);
			}
			sleep_us(200);	/* do not starve the teardown */
		}
		while (waitpid(-1, &st_, WNOHANG) > 0)
			;
	}
	/* Our children in the namespace were killed by its teardown. */
	end = now_ms() + STATE_MS;
	while (now_ms() < end) {
		pid_t p = waitpid(-1, &st_, WNOHANG);

		if (p < 0 && errno == ECHILD)
			return 0;
		if (p <= 0)
			sleep_us(1000);
	}
	return FAIL;
}

static int wait_flag(int *p, int want, int ms)
{
	long long end = now_ms() + ms;

	while (ld(p) < want) {
		if (now_ms() > end)
			return -1;
		sleep_us(500);
	}
	return 0;
}

struct race_totals {
	int ok, enomem, other, setns_fail;
	int final_enomem, final_setns;
	long long max_ms;
};

static int race_round(struct ctx *c, int round, struct race *sh, struct race_totals *tot)
{
	struct simple_args a = { .nproc = 2, .nthreads = 1 };
	struct racer_args ra[RACERS];
	struct note notes[4];
	long long t0, took;
	char path[64];
	struct nsid ns;
	int rc, nsfd, st_;
	pid_t init, racer[RACERS];

	memset(sh, 0, sizeof(*sh));
	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(wide_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3, init);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || nsid_of_pid(init, &ns))
		return failf(c, SETUP, "open %s: %m", path);
	g_fds[g_nfds++] = nsfd;	/* closed by round_end() */
	for (int i = 0; i < RACERS; i++) {
		ra[i] = (struct racer_args){ .sh = sh, .idx = i, .nsfd = nsfd };
		racer[i] = spawn(racer_main, &ra[i]);
		if (racer[i] < 0)
			return failf(c, SETUP, "fork: %m");
	}
	/* Let both racers get going, then kill init at a varying moment. */
	for (int i = 0; i < RACERS; i++)
		if (wait_flag(&sh->r[i].ok, 2 + round % 4, SETUP_MS))
			return failf(c, SETUP, "racer %d cannot fork into the namespace", i);
	sleep_us((round * 1733) % 6000);
	t0 = now_ms();
	kill(init, SIGKILL);
	rc = finish_teardown(c, init, &ns, t0, SIGKILL, 0, &took);
	if (rc)
		return rc;
	if (took > tot->max_ms)
		tot->max_ms = took;

	/* After the reap, one more setns+fork each: it must not succeed. */
	st(&sh->reaped, 1);
	for (int i = 0; i < RACERS; i++)
		if (wait_flag(&sh->r[i].final_done, 1, STATE_MS))
			return failf(c, FAIL, "racer %d did not make its last attempt", i);
	st(&sh->stop, 1);
	for (int i = 0; i < RACERS; i++) {
		if (wait_pid_for(racer[i], &st_, STATE_MS + 5000) != 1)
			return failf(c, FAIL, "racer %d did not finish", i);
		untrack(racer[i]);
		if (!WIFEXITED(st_) || WEXITSTATUS(st_))
			return failf(c, FAIL, "racer %d could not reap its children in the namespace", i);
	}
	for (int i = 0; i < RACERS; i++) {
		struct racer *r = &sh->r[i];

		tot->ok += r->ok;
		tot->enomem += r->enomem;
		tot->other += r->other;
		tot->setns_fail += r->setns_fail;
		if (r->other)
			diag("racer %d: %d forks failed with %s", i, r->other, strerror(r->other_errno));
		if (r->final_setns_errno) {
			tot->final_setns++;
			diag("after the reap setns failed: %s", strerror(r->final_setns_errno));
		} else if (r->final_fork_errno == ENOMEM) {
			tot->final_enomem++;
		} else if (r->final_fork_errno < 0) {
			return failf(c, FAIL, "a fork into the namespace succeeded after init was reaped");
		} else {
			return failf(c, FAIL, "fork into the reaped namespace failed with %s, expected ENOMEM",
				     strerror(r->final_fork_errno));
		}
	}
	return PASS;
}

int sc_setns_fork_race(struct ctx *c)
{
	struct race_totals tot = { 0 };
	struct race *sh;
	int rc = PASS;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return failf(c, SETUP, "mmap: %m");
	for (g_round = 1; g_round <= c->rounds && !rc; g_round++) {
		rc = race_round(c, g_round, sh, &tot);
		round_end();
	}
	munmap(sh, sizeof(*sh));
	if (rc)
		return rc;
	g_round = 0;
	if (tot.other)
		return failf(c, FAIL, "%d forks failed with an errno other than ENOMEM", tot.other);
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, %d racers: forks ok %d, ENOMEM %d, setns failed %d; after init reaped: fork ENOMEM %d, setns refused %d (of %d); teardown max %lld ms",
		 c->rounds, RACERS, tot.ok, tot.enomem, tot.setns_fail,
		 tot.final_enomem, tot.final_setns, RACERS * c->rounds, tot.max_ms);
	return PASS;
}
