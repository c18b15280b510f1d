// SPDX-License-Identifier: GPL-2.0
/*
 * pgsoak - many PID namespace teardowns of random shapes, each checked.
 *
 *   pgsoak [-n ROUNDS] [-s SEED] [-u STOPFILE] [-q]
 *
 * -u: stop early, after the round during which STOPFILE appeared (for
 * running teardowns while something else happens).
 * Every round builds a namespace of a random shape, SIGKILLs its init from
 * outside, releases what holds the teardown, reaps init and checks THE
 * INVARIANT: no task that lived in the namespace (or in one nested in it)
 * exists any more.  A shape mixes:
 *
 *   tree      plain children of init, 1..3 threads each, 0..2 grandchildren
 *   stopped   children that group-stop themselves (SIGSTOP)
 *   zombies   children that exited and were never waited for
 *   traced    a child of init ptrace-stopped by us (outside): its zombie is
 *             ours to reap, so init waits for it in its reap loop
 *   zthread   a thread of init traced by us that exited before the
 *             teardown: init waits for its pid in the final (unhash) wait
 *   foreign   a child we forked into the namespace with setns(): init
 *             waits for it in the final wait until we reap it
 *   nested    1 or 2 namespaces nested below init, each with a child
 *
 * The teardown is only released once init is seen parked where the shape
 * holds it, so what pidns_guard's counters must say is known: the last
 * line, "ok soak ... expect teardowns=LO..HI tasks_killed=LO..HI
 * children_reaped=LO..HI unhash_waits=LO..HI proc_flushes=LO..", gives
 * the deltas for the suite to compare, exact (LO = HI) where the kernel
 * leaves no choice and a range where it races (see account()).
 *
 * Also checked at the end: the "pid" and "pid_namespace" slabs are back
 * where they started (within one slab per cpu of slack, the objects SLUB
 * keeps on per-cpu slabs).  Exit: 0 pass, 1 fail, 2 setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "pgproc.h"

#define MAX_RECS	256
#define ROUND_S		120	/* one round, however slow the emulation */
#define STATE_MS	30000

struct shape {
	int nproc, threads, grand;
	int stopped, zombies;
	bool traced, zthread, foreign;
	int nested;
};

/* What a task of the namespace tells us about itself. */
struct rec {
	pid_t tid;		/* in our (the /proc mount's) namespace */
	ino_t ns;		/* its pid namespace */
	char kind;		/* see REC_* */
};

enum {
	REC_INIT = 'I', REC_TASK = 't', REC_STOPPED = 'T', REC_ZOMBIE = 'Z',
	REC_TRACED = 'P', REC_ZTHREAD = 'X', REC_NESTED = 'N',
};

/* What pidns_guard's counters must have grown by: lo..hi. */
struct range {
	unsigned long long lo, hi;
};

struct expect {
	struct range teardowns, killed, reaped, unhash_waits;
	unsigned long long flushes;	/* at least: other tasks exit too */
};

static int g_rec[2];		/* tasks -> us */
static int g_die[2];		/* us -> the zthread: exit now */
static int g_round;
static struct shape g_shape;

static void fail(const char *fmt, ...)
{
	const struct shape *s = &g_shape;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("fail soak round %d: %s (shape: tree %dx%d+%d stopped %d zombies %d%s%s%s nested %d)\n",
	       g_round, msg, s->nproc, s->threads, s->grand, s->stopped,
	       s->zombies, s->traced ? " traced" : "", s->zthread ? " zthread" : "",
	       s->foreign ? " foreign" : "", s->nested);
	fflush(stdout);
	/* Our children die with us (PDEATHSIG); the namespace goes with init. */
	exit(1);
}

static void on_alarm(int sig)
{
	(void)sig;
	fail("did not finish within %d s", ROUND_S);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = { 0, 5 * 1000000L };

	nanosleep(&ts, NULL);
}

/* xorshift64*: reproducible from the seed printed at the end. */
static uint64_t g_rng;

static int pick(int n)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return (int)(((g_rng * 2685821657736338717ULL) >> 33) % (uint64_t)n);
}

/* ------------------------------------------------------------------ */
/* Inside the namespace                                                */

static void report(char kind)
{
	struct rec r = { .kind = kind };
	char path[64];
	struct stat st;
	ssize_t n;

	/* /proc is our parent's mount: thread-self names the outer tid. */
	n = readlink("/proc/thread-self", path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		r.tid = atoi(strrchr(path, '/') + 1);
	}
	if (!stat("/proc/thread-self/ns/pid", &st))
		r.ns = st.st_ino;
	if (write(g_rec[1], &r, sizeof(r)) != sizeof(r))
		_exit(2);
}

static void __attribute__((noreturn)) idle(void)
{
	for (;;)
		pause();
}

static void *idle_thread(void *arg)
{
	report(REC_TASK);
	(void)arg;
	idle();
}

static void *zthread(void *arg)
{
	sigset_t all;
	char b;

	/*
	 * Traced, it would take even an ignored signal (init's SIGCHLDs) as
	 * a signal-delivery stop we never resume: leave them to the leader.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	report(REC_ZTHREAD);
	(void)arg;
	/* Exit alone (not the group) once our tracer has us seized. */
	if (read(g_die[0], &b, 1) == 1)
		syscall(SYS_exit, 0);
	idle();
}

static void spawn_thread(void *(*fn)(void *))
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, NULL))
		_exit(2);
}

/* fork(); the child runs fn and never returns. */
static void spawn(void (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (pid < 0)
		_exit(2);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
}

static void plain_grandchild(int unused)
{
	(void)unused;
	report(REC_TASK);
	idle();
}

static void plain_child(int threads)
{
	report(REC_TASK);
	for (int i = 1; i < threads; i++)
		spawn_thread(idle_thread);
	for (int i = 0; i < g_shape.grand; i++)
		spawn(plain_grandchild, 0);
	idle();
}

static void stopped_child(int unused)
{
	(void)unused;
	report(REC_STOPPED);
	raise(SIGSTOP);
	idle();
}

static void zombie_child(int unused)
{
	(void)unused;
	report(REC_ZOMBIE);
	_exit(0);
}

static void traced_child(int unused)
{
	(void)unused;
	report(REC_TRACED);
	idle();
}

/* unshare() moves only our next child; come back home right after. */
static pid_t fork_new_ns(void (*fn)(int), int arg)
{
	int home = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	pid_t pid;

	if (home < 0 || unshare(CLONE_NEWPID))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(home);
		fn(arg);
		_exit(0);
	}
	if (setns(home, CLONE_NEWPID))
		_exit(2);
	close(home);
	return pid;
}

static void nested_init(int depth)
{
	report(REC_NESTED);
	spawn(plain_grandchild, 0);
	if (depth > 1 && fork_new_ns(nested_init, depth - 1) < 0)
		_exit(2);
	idle();
}

static void ns_init(int unused)
{
	const struct shape *s = &g_shape;

	(void)unused;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	report(REC_INIT);
	for (int i = 0; i < s->nproc; i++)
		spawn(plain_child, s->threads);
	for (int i = 0; i < s->stopped; i++)
		spawn(stopped_child, 0);
	for (int i = 0; i < s->zombies; i++)
		spawn(zombie_child, 0);
	if (s->traced)
		spawn(traced_child, 0);
	if (s->nested && fork_new_ns(nested_init, s->nested) < 0)
		_exit(2);
	/* Last: every fork above came from a single-threaded process. */
	if (s->zthread)
		spawn_thread(zthread);
	idle();
}

/* ------------------------------------------------------------------ */
/* Outside: build, hold, release, check                                */

static void random_shape(struct shape *s)
{
	s->nproc = pick(5);
	s->threads = 1 + pick(3);
	s->grand = pick(3);
	s->stopped = pick(3);
	s->zombies = pick(4);
	s->traced = !pick(4);
	s->zthread = !pick(4);
	s->foreign = !pick(4);
	s->nested = pick(5) < 3 ? 0 : 1 + pick(2);
}

static int tasks_of(const struct shape *s)
{
	return 1 + s->zthread + s->nproc * (s->threads + s->grand) +
	       s->stopped + s->zombies + s->traced + 2 * s->nested;
}

static void wait_state(pid_t tid, char want, const char *what)
{
	long long end = now_ms() + STATE_MS;

	while (pgproc_state(tid, NULL) != want) {
		if (now_ms() > end)
			fail("%s %d never reached state %c", what, tid, want);
		nap();
	}
}

/* Stop a child of init, traced by us: PTRACE_SEIZE + INTERRUPT. */
static void seize(pid_t tid, bool stop)
{
	int st;

	if (ptrace(PTRACE_SEIZE, tid, 0, 0))
		fail("PTRACE_SEIZE %d: %m", tid);
	if (!stop)
		return;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) ||
	    waitpid(tid, &st, __WALL) != tid || !WIFSTOPPED(st))
		fail("cannot ptrace-stop %d", tid);
}

static pid_t foreign_child(pid_t init)
{
	pid_t pid = pgproc_fork_into(init);

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		report(REC_TASK);
		idle();
	}
	if (pid < 0)
		fail("setns+fork into the namespace of %d: %m", init);
	return pid;
}

static int collect(struct rec *recs, int want)
{
	long long end = now_ms() + STATE_MS;
	int got = 0;

	while (got < want) {
		ssize_t n = read(g_rec[0], &recs[got], sizeof(*recs));

		if (n == sizeof(*recs)) {
			got++;
		} else if (n < 0 && errno == EAGAIN) {
			if (now_ms() > end)
				fail("only %d of %d tasks reported", got, want);
			nap();
		} else {
			fail("reading reports: %m");
		}
	}
	return got;
}

static void wait_parked(pid_t init)
{
	long long end = now_ms() + STATE_MS;
	int stable = 0;

	while (stable < 3) {
		stable = pgproc_parked(init) ? stable + 1 : 0;
		if (now_ms() > end)
			fail("init %d never parked in its final wait", init);
		nap();
	}
	/* Still unreapable: something holds it. */
	if (waitpid(init, NULL, WNOHANG) != 0)
		fail("init %d reapable while a zombie of its namespace is held", init);
}

static bool ns_of_round(ino_t ino, const struct rec *recs, int n)
{
	for (int i = 0; i < n; i++)
		if ((recs[i].kind == REC_INIT || recs[i].kind == REC_NESTED) &&
		    recs[i].ns == ino)
			return true;
	return false;
}

/* THE INVARIANT, for every task that reported. */
static void check_gone(const struct rec *recs, int n)
{
	char path[64];
	struct stat st;

	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", recs[i].tid);
		if (!stat(path, &st) && ns_of_round(st.st_ino, recs, n))
			fail("task %d (%c) of the namespace outlived its init",
			     recs[i].tid, recs[i].kind);
	}
}

static pid_t find(const struct rec *recs, int n, char kind)
{
	for (int i = 0; i < n; i++)
		if (recs[i].kind == kind)
			return recs[i].tid;
	return 0;
}

static void reap(pid_t pid, const char *what)
{
	if (waitpid(pid, NULL, __WALL) != pid)
		fail("cannot reap %s %d: %m", what, pid);
}

static void add(struct range *r, int lo, int hi)
{
	r->lo += lo;
	r->hi += hi;
}

/*
 * Where the kernel leaves a choice, the range says which.
 *
 * tasks_killed counts SIGKILLs sent: the kill phase visits every pid of
 * its namespace (nested ones' tasks included) and signals each task with
 * no fatal signal pending.  The first SIGKILL of a process reaches every
 * thread of it, so normally it is one per thread group (lo); one more is
 * sent whenever a visited thread has already taken its SIGKILL off its
 * pending set on the way out, at most once per task: hi counts every task
 * (threads included) of the namespace and of the nested ones, init's own
 * thread group excepted (the zthread is init's).  On top of that a nested
 * init's teardown races with the outer one: both may signal the same
 * nested task (below).
 *
 * A nested task may also die before its init ignores SIGCHLD, leaving a
 * zombie for that init to reap (reaped).  And any teardown may sleep
 * briefly in its final wait: an autoreaped child is off the reap loop's
 * view (EXIT_DEAD) a moment before release_task() frees its pid.  With 1
 * nested level there is 1 nested task below a nested init (its child),
 * with 2 there are 3 (child, inner init, its child) + 1.
 */
static void account(const struct shape *s, int tasks, struct expect *e)
{
	/* Thread groups other than init's; a nested init counts itself. */
	int groups = s->nproc * (1 + s->grand) + s->stopped + s->zombies +
		     s->traced + s->foreign + 2 * s->nested;
	/* Every task other than init's threads, threads included. */
	int others = s->nproc * (s->threads + s->grand) + s->stopped + s->zombies +
		     s->traced + s->foreign + 2 * s->nested;
	int below = s->nested == 2 ? 4 : s->nested;
	int held = s->zthread || s->foreign;

	add(&e->teardowns, 1 + s->nested, 1 + s->nested);
	add(&e->killed, groups, others + below);
	add(&e->reaped, s->zombies, s->zombies + (s->nested == 2 ? 3 : s->nested));
	add(&e->unhash_waits, held, 1 + s->nested);
	e->flushes += tasks;
}

static void one_round(struct expect *e)
{
	const struct shape *s = &g_shape;
	struct rec recs[MAX_RECS];
	int n = tasks_of(s);
	pid_t init, t, foreign = 0;

	alarm(ROUND_S);
	init = fork_new_ns(ns_init, 0);
	if (init < 0)
		fail("cannot create a pid namespace: %m");
	n = collect(recs, n);
	for (int i = 0; i < n; i++) {
		if (recs[i].kind == REC_STOPPED)
			wait_state(recs[i].tid, 'T', "stopped child");
		else if (recs[i].kind == REC_ZOMBIE)
			wait_state(recs[i].tid, 'Z', "exited child");
	}
	t = find(recs, n, REC_TRACED);
	if (t)
		seize(t, true);
	t = find(recs, n, REC_ZTHREAD);
	if (t) {
		seize(t, false);
		if (write(g_die[1], "x", 1) != 1)
			fail("cannot tell the thread to exit");
		wait_state(t, 'Z', "traced thread of init");
	}
	if (s->foreign) {
		foreign = foreign_child(init);
		n += collect(recs + n, 1);
	}

	kill(init, SIGKILL);
	/* The reap loop waits for the traced child: we are its tracer. */
	t = find(recs, n, REC_TRACED);
	if (t)
		reap(t, "traced child");
	if (s->zthread || s->foreign) {
		wait_parked(init);
		if (foreign)
			reap(foreign, "foreign child");
		t = find(recs, n, REC_ZTHREAD);
		if (t)
			reap(t, "traced thread");
	}
	reap(init, "init");
	alarm(0);
	check_gone(recs, n);
	account(s, n, e);
}

/* Active objects of a slab cache, from /proc/slabinfo; -1 if absent. */
static long slab_objs(const char *cache, long *per_slab)
{
	char line[512], name[64];
	long active = -1, num, objsize, per;
	FILE *f;

	/*
	 * SLUB counts what sits on per-cpu (partial) slabs as in use: flush
	 * them to the node lists first, or a few hundred objects hide there.
	 */
	snprintf(line, sizeof(line), "/sys/kernel/slab/%s/shrink", cache);
	f = fopen(line, "we");
	if (f) {
		fputs("1", f);
		fclose(f);
	}
	f = fopen("/proc/slabinfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld %ld %ld %ld", name, &active, &num,
			   &objsize, &per) == 5 && !strcmp(name, cache)) {
			*per_slab = per;
			fclose(f);
			return active;
		}
	}
	fclose(f);
	return -1;
}

/* Freed pids and namespaces go through RCU: give them a few seconds. */
static void check_slab(const char *cache, long before, long per_slab)
{
	long slack = per_slab * sysconf(_SC_NPROCESSORS_ONLN), now = 0;
	long long end = now_ms() + 20000;

	/* Merged into another cache, it could not be told apart. */
	if (before < 0)
		fail("slab %s is not in /proc/slabinfo (boot with slab_nomerge)", cache);
	while (now_ms() < end) {
		now = slab_objs(cache, &per_slab);
		if (now <= before + slack)
			break;
		usleep(200000);
	}
	if (now > before + slack)
		fail("slab %s grew from %ld to %ld active objects", cache, before, now);
	printf("# slab %s: %ld -> %ld active objects (slack %ld)\n", cache, before, now, slack);
}

/* Each namespace level has its own pid cache: "pid", "pid_2", ... */
static const char *const g_caches[] = {
	"pid", "pid_2", "pid_3", "pid_4", "pid_namespace",
};

#define N_CACHES ((int)(sizeof(g_caches) / sizeof(g_caches[0])))

int main(int argc, char **argv)
{
	long before[N_CACHES], per[N_CACHES];
	struct expect e = { 0 };
	uint64_t seed = (uint64_t)time(NULL);
	int rounds = 100, opt;
	const char *stop = NULL;
	bool quiet = false;
	long long t0;

	while ((opt = getopt(argc, argv, "n:s:u:q")) != -1) {
		if (opt == 'n')
			rounds = atoi(optarg);
		else if (opt == 'u')
			stop = optarg;
		else if (opt == 's')
			seed = strtoull(optarg, NULL, 0);
		else if (opt == 'q')
			quiet = true;
		else
			return 2;
	}
	g_rng = seed ? seed : 1;
	if (!pgproc_have_children_file()) {
		printf("fail soak: no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN) to see init parked\n");
		return 2;
	}
	signal(SIGALRM, on_alarm);
	if (pipe2(g_rec, O_CLOEXEC) || pipe2(g_die, O_CLOEXEC) ||
	    fcntl(g_rec[0], F_SETFL, O_NONBLOCK)) {
		perror("pgsoak: pipe");
		return 2;
	}
	/* One round of every kind first: the per-level pid caches exist. */
	g_shape = (struct shape){ .nproc = 1, .threads = 2, .grand = 1,
				  .stopped = 1, .zombies = 1, .traced = true,
				  .zthread = true, .foreign = true, .nested = 2 };
	one_round(&e);
	for (int i = 0; i < N_CACHES; i++)
		before[i] = slab_objs(g_caches[i], &per[i]);
	t0 = now_ms();
	for (g_round = 1; g_round <= rounds; g_round++) {
		random_shape(&g_shape);
		one_round(&e);
		if (stop && !access(stop, F_OK))
			rounds = g_round;
		if (!quiet && g_round % 500 == 0)
			fprintf(stderr, "pgsoak: %d rounds, %.0f s\n", g_round,
				(now_ms() - t0) / 1000.0);
	}
	g_round = 0;
	for (int i = 0; i < N_CACHES; i++)
		check_slab(g_caches[i], before[i], per[i]);
	printf("ok soak rounds=%d+1 seed=%llu %.1fs expect teardowns=%llu..%llu teardowns_done=%llu..%llu tasks_killed=%llu..%llu children_reaped=%llu..%llu unhash_waits=%llu..%llu proc_flushes=%llu..\n",
	       rounds, (unsigned long long)seed, (now_ms() - t0) / 1000.0,
	       e.teardowns.lo, e.teardowns.hi, e.teardowns.lo, e.teardowns.hi, e.killed.lo, e.killed.hi,
	       e.reaped.lo, e.reaped.hi, e.unhash_waits.lo, e.unhash_waits.hi,
	       e.flushes);
	return 0;
}
