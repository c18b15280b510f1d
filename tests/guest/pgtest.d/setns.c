// SPDX-License-Identifier: GPL-2.0
/*
 * setns: tasks that enter the namespace from outside, with setns() and
 * fork(), so that their parent is not in it.
 *
 *   setns_fork_late (2)  a setns+fork child of an outside parent holds init
 *                        until reaped (by that parent / by us, reparented)
 *   setns_fork_race (30) two outside racers setns+fork while init is killed;
 *                        after the reap a fork must fail (ENOMEM)
 */
#include "pgtest.h"
#include <sys/mman.h>

/* setns_fork_late ---------------------------------------------------- */

/* Odd rounds the outside parent reaps its child, even ones it exits. */
static int setns_late_round(struct ctx *c, int round, void *arg)
{
	struct situ s = { .kind = TK_FOREIGN, .extra = 2 };

	return situ_held_round(c, &s, !(round & 1), "setns+fork child", arg);
}

static int sc_setns_fork_late(struct ctx *c)
{
	long long min_held = 0;
	int rc = run_rounds(c, setns_late_round, &min_held);

	if (rc)
		return rc;
	return passf(c, "%d rounds, setns+fork child of an outside parent kept init unreapable for all %lld+ ms of holding; reaped (by its parent / by us after reparenting), init reaped within %lld ms",
		     c->rounds, min_held, c->max_ms);
}

const struct scenario scenario_setns_fork_late = { "setns_fork_late", sc_setns_fork_late, 2 };

/* setns_fork_race ---------------------------------------------------- */

#define RACERS 2

struct racer {
	int ok, enomem, other, other_errno, setns_fail;
	int final_done;		/* the attempt after init was reaped */
	int final_setns_errno;	/* 0: setns worked */
	int final_fork_errno;	/* 0: fork worked (a bug) */
};

/* Shared with the racers (MAP_SHARED). */
struct race {
	int stop;		/* racers: reap what is left and exit */
	int reaped;		/* init is reaped: make one more attempt */
	struct racer r[RACERS];
};

struct racer_args {
	struct race *sh;
	int idx, nsfd;
};

struct race_totals {
	int ok, enomem, other, setns_fail;
	int final_enomem, final_setns;
};

struct race_run {
	struct race *sh;
	struct race_totals tot;
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

/* Count one attempt made while init was alive (or being killed). */
static void racer_count(struct racer *r, int rc, int serr)
{
	if (!rc) {
		inc(&r->ok);
		return;
	}
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

static int racer_main(void *arg)
{
	struct racer_args *a = arg;
	struct racer *r = &a->sh->r[a->idx];
	long long end;
	unsigned int i = 0;
	int serr, st_, rc;

	while (!ld(&a->sh->stop)) {
		if (ld(&r->final_done)) {
			sleep_us(1000);
		} else if (ld(&a->sh->reaped)) {
			rc = race_attempt(a, i++, &serr);
			r->final_setns_errno = serr;
			r->final_fork_errno = !rc ? -1 : serr ? 0 : errno;
			st(&r->final_done, 1);
		} else {
			rc = race_attempt(a, i++, &serr);
			racer_count(r, rc, serr);
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

/* Start the racers on the namespace of init (held open by nsfd). */
static int racers_start(struct ctx *c, struct race *sh, pid_t init, pid_t *racer,
			struct racer_args *ra)
{
	char path[64];
	int nsfd;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return failf(c, SETUP, "open %s: %m", path);
	round_fd(nsfd);
	for (int i = 0; i < RACERS; i++) {
		ra[i] = (struct racer_args){ .sh = sh, .idx = i, .nsfd = nsfd };
		racer[i] = spawn(racer_main, &ra[i]);
		if (racer[i] < 0)
			return failf(c, SETUP, "fork: %m");
	}
	return PASS;
}

/* After the reap, one more setns+fork each; then they reap and exit. */
static int racers_end(struct ctx *c, struct race *sh, const pid_t *racer)
{
	int st_;

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
	return PASS;
}

/* Add up the racers' counts; the attempt after the reap must have failed. */
static int racers_tally(struct ctx *c, const struct race *sh, struct race_totals *tot)
{
	for (int i = 0; i < RACERS; i++) {
		const struct racer *r = &sh->r[i];

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

static int race_round(struct ctx *c, int round, void *arg)
{
	struct flat_ns f = { .nproc = 2, .nthreads = 1 };
	struct race_run *run = arg;
	struct race *sh = run->sh;
	struct racer_args ra[RACERS];
	pid_t racer[RACERS];
	int rc;

	memset(sh, 0, sizeof(*sh));
	rc = ns_start(c, &f.r, flat_init, &f, 3);
	if (!rc)
		rc = racers_start(c, sh, f.r.init, racer, ra);
	if (rc)
		return rc;
	/* Let both racers get going, then kill init at a varying moment. */
	for (int i = 0; i < RACERS; i++)
		if (wait_flag(&sh->r[i].ok, 2 + round % 4, SETUP_MS))
			return failf(c, SETUP, "racer %d cannot fork into the namespace", i);
	sleep_us((round * 1733) % 6000);
	ns_teardown(&f.r, true);
	rc = ns_finish(c, &f.r, SIGKILL, 0);
	if (!rc)
		rc = racers_end(c, sh, racer);
	if (!rc)
		rc = racers_tally(c, sh, &run->tot);
	return rc;
}

static int sc_setns_fork_race(struct ctx *c)
{
	struct race_run run = { 0 };
	struct race_totals *tot = &run.tot;
	int rc;

	run.sh = mmap(NULL, sizeof(*run.sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (run.sh == MAP_FAILED)
		return failf(c, SETUP, "mmap: %m");
	rc = run_rounds(c, race_round, &run);
	munmap(run.sh, sizeof(*run.sh));
	if (rc)
		return rc;
	if (tot->other)
		return failf(c, FAIL, "%d forks failed with an errno other than ENOMEM", tot->other);
	return passf(c, "%d rounds, %d racers: forks ok %d, ENOMEM %d, setns failed %d; after init reaped: fork ENOMEM %d, setns refused %d (of %d); teardown max %lld ms",
		     c->rounds, RACERS, tot->ok, tot->enomem, tot->setns_fail,
		     tot->final_enomem, tot->final_setns, RACERS * c->rounds, c->max_ms);
}

const struct scenario scenario_setns_fork_race = { "setns_fork_race", sc_setns_fork_race, 30 };
