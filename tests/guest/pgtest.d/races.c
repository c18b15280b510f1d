// SPDX-License-Identifier: GPL-2.0
/*
 * Races: a group-wide action already under way when the teardown's kill
 * comes, and the helpers they run (pgtest execloop, pgtest coresink).
 *
 *   exec_race (40)       a process whose every image starts a thread that
 *                        execs the next one; init SIGKILLed at random
 *                        moments, often while a non-leader thread is in
 *                        de_thread() (its leader holds the SIGKILL the exec
 *                        queued, the exec'ing thread none)
 *   coredump_race (20)   a non-leader thread dumps core into a pipe helper
 *                        that never reads; init SIGKILLed at random moments,
 *                        mostly while the dump waits for the other threads
 *                        (its leader holds the SIGKILL zap_threads() queued,
 *                        the dumper none) or is being written.  Both count "escapes": init not
 *                        reapable 10 s after the kill, or tasks outliving it
 *                        (details below)
 *
 * Both race a group-wide action that has already queued SIGKILL on some
 * threads of a process (de_thread()'s zap_other_threads(), the coredump's
 * zap_threads()) against the teardown's kill.  The thread that started the
 * action has no SIGKILL pending and is not the group leader: a teardown
 * that looks only at leaders, skipping those with SIGKILL pending, never
 * signals it, and the exec completes (the new image runs on) or the dump
 * goes on.  Upstream visits every pid of the namespace and signals each
 * task without a fatal signal pending, so the exec'ing thread or the
 * dumper is killed.
 *
 * The window: a thread takes its queued SIGKILL off its pending set as
 * soon as it runs (get_signal()), and from then on a group SIGKILL sent
 * through the leader reaches the exec'ing thread or the dumper again.  So
 * the leader here sleeps uninterruptibly in a loop, one RCU grace period
 * per call (membarrier(MEMBARRIER_CMD_GLOBAL) is synchronize_rcu()), as a
 * leader blocked on I/O would: the window is then the rest of a grace
 * period, not a wake-up.  Without membarrier (one CPU, nohz_full) the
 * leader sleeps interruptibly and the summary says so.
 *
 * An escape is a round where init is not reapable ESCAPE_MS after the
 * kill, or where a task of the namespace outlives init; the escaped
 * process is then SIGKILLed from outside (by its pid here) so that the
 * teardown ends and the run goes on.  Every round samples /proc right
 * before the kill to tell what the kill hit: the leader still holding the
 * SIGKILL the exec or dump queued (the race window), or, for the dump,
 * the dump writing already.  A scenario whose kill never hit the window
 * fails too: it would prove nothing.  After MAX_ESCAPES escapes the
 * scenario stops: the verdict is in.
 *
 * coredump_race sets /proc/sys/kernel/core_pattern (and core_pipe_limit 0)
 * for its run and restores them (also on a watchdog timeout), or is
 * skipped if it cannot; it needs a writable /tmp.
 */
#include "pgtest.h"
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/resource.h>

#define ESCAPE_MS	10000	/* init reapable this soon after the kill, or the round escaped */
#define XR_JITTER_US	30000	/* exec_race: random wait before the kill */
#define CR_JITTER_US	15000	/* coredump_race: random wait once the dump began */
#define CR_BLIND_US	40000	/* ... or, every 4th round, right after the crash */
#define CORE_FILL	(1 << 20)	/* dumped memory: far more than a pipe holds */
#define CORESINK_MS	30000	/* the core pipe helper never waits longer */
#define SIGKILL_BIT	(1ULL << (SIGKILL - 1))
#define MAX_ESCAPES	5	/* the verdict is in: stop (each escape costs ESCAPE_MS) */

static unsigned int g_seed;

static unsigned int rnd(unsigned int n)
{
	return n ? (unsigned int)rand_r(&g_seed) % n : 0;
}

static void seed_rounds(void)
{
	const char *s = getenv("PGTEST_SEED");

	g_seed = s ? (unsigned int)strtoul(s, NULL, 0) : (unsigned int)(now_us() ^ getpid());
	diag("seed %u (PGTEST_SEED=%u repeats the kill timings)", g_seed, g_seed);
}

/* Does the thread have SIGKILL in its own pending set (SigPnd)? */
static bool kill_pending(pid_t tgid, pid_t tid)
{
	unsigned long long pnd;

	return !status_num(tgid, tid, "SigPnd", 16, &pnd) && (pnd & SIGKILL_BIT);
}

/* Uninterruptible for one RCU grace period; see above. */
static void leader_sleep(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		sleep_us(1000);
}

static bool leader_sleep_blocks(void)
{
	long q = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return q > 0 && (q & MEMBARRIER_CMD_GLOBAL) && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	       !syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
}

static const char *leader_how(void)
{
	return leader_sleep_blocks() ? "in synchronize_rcu() (membarrier)" :
	       "sleeping (no membarrier: narrow window)";
}

/* After an escape's cleanup: the namespace must empty within CLEANUP_MS. */
static int leftovers_gone(struct ctx *c, const struct nsid *ns)
{
	long long end = now_ms() + CLEANUP_MS;
	struct scan s;

	do {
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		if (scan_ns(ns, &s))
			return failf(c, SETUP, "cannot scan /proc: %m");
		if (!s.total && !s.unknown)
			return PASS;
		sleep_us(10000);
	} while (now_ms() < end);
	return check_invariant(c, ns);
}

struct race_stats {
	int rounds, escapes, window;	/* window: the kill hit the race window */
	int dump_writing, dump_before;	/* coredump_race: what else the kill hit */
	char first[400];		/* the first escape */
};

/* Init not reapable ESCAPE_MS after the kill: say where it and the racer are. */
static void describe_stuck(char *what, size_t len, pid_t init, pid_t victim, pid_t racer,
			   const char *hit)
{
	char stack[256], rstack[256];
	int threads = count_threads(victim);
	struct pstat ps;

	kernel_stack_top(init, stack, sizeof(stack));
	kernel_stack_top(racer, rstack, sizeof(rstack));
	if (read_stat(victim, 0, &ps))
		memset(&ps, 0, sizeof(ps));
	snprintf(what, len,
		 "round %d: init %d not reapable %d s after the kill (kill hit %s; init in %.60s), held by %d (%s, %d thread(s), state %c; thread %d in %.60s)",
		 g_round, init, ESCAPE_MS / 1000, hit, stack, victim, ps.comm, threads,
		 ps.state ? ps.state : '?', racer, rstack);
}

/*
 * SIGKILL init and judge the round: init must be reapable within
 * ESCAPE_MS and leave nothing behind.  Otherwise it is an escape: counted,
 * described, and cleaned up by SIGKILLing victim (the racing process) from
 * outside; the teardown must end then, or the scenario fails.  The
 * MAX_ESCAPES-th escape ends the scenario's rounds.
 */
static int race_kill(struct ctx *c, struct race_stats *rs, struct ns_round *r,
		     pid_t victim, pid_t racer, const char *hit)
{
	char what[400];
	long long took;
	struct scan s;
	int st, w;

	rs->rounds++;
	ns_teardown(r, true);
	w = wait_pid_for(r->init, &st, ESCAPE_MS);
	if (w < 0)
		return failf(c, SETUP, "waitpid(init %d): %m", r->init);
	if (w == 1) {
		untrack(r->init);
		took = now_ms() - r->t0;
		if (scan_ns(&r->ns, &s))
			return failf(c, SETUP, "cannot scan /proc: %m");
		if (!s.total && !s.unknown) {
			if (took > c->max_ms)
				c->max_ms = took;
			return PASS;
		}
		scan_report(&s, "left behind");
		snprintf(what, sizeof(what), "round %d: %d task(s) of the namespace outlived init (kill hit %s)",
			 g_round, s.total + s.unknown, hit);
		for (int i = 0; i < s.listed; i++)
			kill(s.task[i].tgid, SIGKILL);
	} else {
		describe_stuck(what, sizeof(what), r->init, victim, racer, hit);
	}
	kill(victim, SIGKILL);
	diag("ESCAPE: %s", what);
	rs->escapes++;
	if (rs->escapes >= MAX_ESCAPES)
		c->enough = true;
	if (!rs->first[0])
		snprintf(rs->first, sizeof(rs->first), "%s", what);
	/* Cleaned up: now the teardown must end, and leave nothing. */
	if (w == 1)
		return leftovers_gone(c, &r->ns);
	return finish_teardown(c, r->init, &r->ns, now_ms(), SIGKILL, 0, NULL);
}

/* The scenario's verdict from its rounds. */
static int race_verdict(struct ctx *c, const struct race_stats *rs, const char *window,
			const char *detail)
{
	if (rs->escapes)
		return failf(c, FAIL, "escapes=%d of %d rounds%s (kill hit %s in %d); %s; first: %s",
			     rs->escapes, rs->rounds, rs->escapes >= MAX_ESCAPES ? " (stopped there)" : "",
			     window, rs->window, detail, rs->first);
	if (!rs->window)
		return failf(c, FAIL, "escapes=0 of %d rounds, but the kill never hit %s: the race was not exercised; %s",
			     rs->rounds, window, detail);
	return passf(c, "escapes=0 of %d rounds; kill hit %s in %d; %s; teardown max %lld ms",
		     rs->rounds, window, rs->window, detail, c->max_ms);
}

/* exec_race ---------------------------------------------------------- */

static int g_loop_fd;		/* execloop: one byte per image goes here */
static int g_leader_in;		/* execloop: the leader is in its sleep loop */

static void *exec_thread(void *arg)
{
	char fd[16];
	char *argv[] = { "pgtest", "execloop", fd, NULL };

	(void)arg;
	snprintf(fd, sizeof(fd), "%d", g_loop_fd);
	while (!ld(&g_leader_in))
		sched_yield();
	execv(g_exe, argv);
	diag("execloop: exec %s: %m", g_exe);
	if (write(g_loop_fd, "E", 1) < 0)
		_exit(SETUP);
	_exit(SETUP);
	return NULL;
}

/*
 * pgtest execloop FD: every image reports itself on FD, starts a thread
 * that execs the next image at once, and sleeps (leader_sleep) meanwhile.
 * Once the namespace is closed the thread cannot be created any more: an
 * image that gets that far has escaped its teardown, and lives on.
 */
int execloop_main(int fd)
{
	g_loop_fd = fd;
	if (write(fd, "i", 1) < 0)
		sleep_forever();
	if (start_thread(exec_thread, NULL))
		sleep_forever();
	for (;;) {
		st(&g_leader_in, 1);
		leader_sleep();
	}
	return 0;
}

struct xr_args {
	struct ns_round r;
	int images[2];
};

static int exec_init(void *arg)
{
	struct xr_args *a = arg;
	pid_t pid = fork();

	if (pid < 0) {
		note_err(a->r.notes[1], "fork");
		return SETUP;
	}
	if (pid == 0) {
		close(a->images[0]);
		note_send(a->r.notes[1], N_TASK, 0);
		_exit(execloop_main(a->images[1]));
	}
	note_send(a->r.notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

static int exec_race_round(struct ctx *c, int round, void *arg)
{
	struct race_stats *rs = arg;
	struct xr_args a = { 0 };
	const struct note *x;
	int rc, want = 2 + rnd(3);
	bool window;
	char b;

	(void)round;
	rc = mkpipe(c, a.images);
	if (!rc)
		rc = ns_start(c, &a.r, exec_init, &a, 2);
	if (rc)
		return rc;
	x = ns_note(&a.r, N_TASK, -1);
	if (!x)
		return failf(c, SETUP, "the exec loop never reported");
	/* A few images, then the kill at a random moment. */
	for (int got = 0; got < want; got++) {
		if (read_full(a.images[0], &b, 1, SETUP_MS, a.r.init))
			return failf(c, SETUP, "exec loop stalled after %d images", got);
		if (b == 'E')
			return failf(c, SETUP, "exec of %s failed in the namespace", g_exe);
	}
	sleep_us(rnd(XR_JITTER_US));
	/* In de_thread(): zap_other_threads() queued SIGKILL on the leader. */
	window = kill_pending(x->tgid, x->tgid);
	if (window)
		rs->window++;
	return race_kill(c, rs, &a.r, x->tgid, x->tgid,
			 window ? "an exec in de_thread()" : "no exec in flight");
}

static int sc_exec_race(struct ctx *c)
{
	struct race_stats rs = { 0 };
	const char *how = leader_how();
	char detail[160];
	int rc;

	seed_rounds();
	rc = run_rounds(c, exec_race_round, &rs);
	if (rc)
		return rc;
	snprintf(detail, sizeof(detail), "leader %s, kill %d..%d ms after 2..4 images",
		 how, 0, XR_JITTER_US / 1000);
	return race_verdict(c, &rs, "an exec in de_thread() (leader holding its SIGKILL)", detail);
}

const struct scenario scenario_exec_race = { "exec_race", sc_exec_race, 40 };

/* coredump_race ------------------------------------------------------ */

static const char *const core_pattern = "/proc/sys/kernel/core_pattern";
static const char *const core_pipe_limit = "/proc/sys/kernel/core_pipe_limit";
static char g_core_saved[256], g_limit_saved[32];
static volatile sig_atomic_t g_core_set;

/* Put core_pattern back; also from the watchdog (async-signal-safe). */
static void core_restore(void)
{
	if (!g_core_set)
		return;
	write_file(core_pattern, g_core_saved);
	write_file(core_pipe_limit, g_limit_saved);
	g_core_set = 0;
}

/*
 * Pipe core dumps to "pgtest coresink dir" (and core_pipe_limit 0),
 * saving the settings for core_restore().  0 or a SKIP reason in why.
 */
static int core_redirect(const char *dir, char *why, size_t len)
{
	char pattern[PATH_MAX + 64], buf[256];
	int err;

	snprintf(pattern, sizeof(pattern), "|%s coresink %s", g_exe, dir);
	watchdog_undo(core_restore);
	g_core_set = 1;
	err = write_file(core_pipe_limit, "0");
	if (!err)
		err = write_file(core_pattern, pattern);
	if (!err && (read_file(core_pattern, buf, sizeof(buf)) || strcmp(buf, pattern)))
		err = EINVAL;
	if (err) {
		core_restore();
		snprintf(why, len, "cannot set %s to \"%.200s\": %s", core_pattern, pattern,
			 strerror(err));
		return -1;
	}
	return 0;
}

/*
 * pgtest coresink DIR: the core pipe helper.  The kernel runs it outside
 * every namespace of ours, with the dump on stdin.  It never reads: the
 * dumper fills the pipe and blocks in pipe_write() until it is killed
 * (which closes the pipe: POLLHUP) or CORESINK_MS pass.  It leaves its pid
 * in DIR so that the scenario can make sure no sink outlives it.
 */
int coresink_main(const char *dir)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = 0 };
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/sink.%d", dir, getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	poll(&p, 1, CORESINK_MS);
	unlink(path);
	return 0;
}

/* How many sinks are there (by their files); -1: no dir. */
static int coresinks_count(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "sink.", 5))
			n++;
	closedir(d);
	return n;
}

/* Sinks still there (by their files): killed, and the files removed. */
static void coresinks_end(const char *dir, bool remove_dir)
{
	long long end = now_ms() + 5000;
	struct dirent *de;
	char path[PATH_MAX];
	int left;
	DIR *d;

	do {
		left = coresinks_count(dir);
		if (left < 0)
			return;
		if (left)
			sleep_us(20000);
	} while (left && now_ms() < end);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct pstat ps;
		pid_t pid;

		if (strncmp(de->d_name, "sink.", 5))
			continue;
		pid = atoi(de->d_name + 5);
		if (pid > 0 && !read_stat(pid, 0, &ps) && !strcmp(ps.comm, "pgtest")) {
			diag("core sink %d still there: killed", pid);
			kill(pid, SIGKILL);
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (remove_dir)
		rmdir(dir);
}

static void *crash_thread(void *arg)
{
	struct ns_round *r = arg;

	note_send(r->notes[1], N_TARGET, 0);
	wait_byte(r->go[0]);
	/* Taken on the way back to user space: this thread dumps core. */
	syscall(SYS_tgkill, getpid(), gettid(), SIGSEGV);
	sleep_forever();
	return NULL;
}

/* In the namespace: a dumpable process with much memory and a crash thread. */
static void crasher(struct ns_round *r)
{
	struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
	void *fill;

	fill = mmap(NULL, CORE_FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fill == MAP_FAILED || setrlimit(RLIMIT_CORE, &inf) ||
	    prctl(PR_SET_DUMPABLE, 1)) {
		note_err(r->notes[1], "dumpable process");
		_exit(SETUP);
	}
	memset(fill, 0x5a, CORE_FILL);
	errno = start_thread(crash_thread, r);
	if (errno) {
		note_err(r->notes[1], "pthread_create");
		_exit(SETUP);
	}
	note_send(r->notes[1], N_TASK, 0);
	for (;;)
		leader_sleep();
}

static int crash_init(void *arg)
{
	struct ns_round *r = arg;
	pid_t pid = fork();

	if (pid < 0) {
		note_err(r->notes[1], "fork");
		return SETUP;
	}
	if (pid == 0)
		crasher(r);
	note_send(r->notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

/*
 * Mostly: wait for zap_threads() (CoreDumping), then a random moment
 * inside or past the window; every 4th round a moment anywhere from the
 * crash on.
 */
static void crash_and_wait(struct ns_round *r, int round, const struct note *x,
			   const struct note *d)
{
	unsigned long long dumping;

	send_byte(r->go[1], 'g');
	if (round % 4) {
		long long end = now_ms() + STATE_MS;

		while ((status_num(x->tgid, d->tid, "CoreDumping", 10, &dumping) || !dumping) &&
		       now_ms() < end)
			sleep_us(200);
		sleep_us(rnd(CR_JITTER_US));
	} else {
		sleep_us(rnd(CR_BLIND_US));
	}
}

struct cr_run {
	struct race_stats rs;
	const char *dir;	/* where the sinks leave their pids */
};

static int coredump_race_kill(struct ctx *c, int round, struct race_stats *rs)
{
	const struct note *x, *d;
	unsigned long long dumping;
	struct ns_round r = { 0 };
	const char *hit;
	bool window;
	int rc;

	rc = ns_start(c, &r, crash_init, &r, 3);
	if (rc)
		return rc;
	x = ns_note(&r, N_TASK, -1);
	d = ns_note(&r, N_TARGET, -1);
	if (!x || !d)
		return failf(c, SETUP, "the crashing process never reported");
	crash_and_wait(&r, round, x, d);
	/*
	 * CoreDumping: signal->core_state is set (zap_threads() ran).  While
	 * the leader still holds the SIGKILL it queued, the dumper waits in
	 * coredump_wait() for it: the window.  After that the dump is being
	 * written (into the sink, where it blocks).
	 */
	if (status_num(x->tgid, d->tid, "CoreDumping", 10, &dumping))
		dumping = 0;
	window = dumping && kill_pending(x->tgid, x->tgid);
	if (window) {
		rs->window++;
		hit = "a dump in coredump_wait()";
	} else if (dumping) {
		rs->dump_writing++;
		hit = "a dump being written";
	} else {
		rs->dump_before++;
		hit = "no dump yet";
	}
	return race_kill(c, rs, &r, x->tgid, d->tid, hit);
}

static int coredump_race_round(struct ctx *c, int round, void *arg)
{
	struct cr_run *run = arg;
	int rc = coredump_race_kill(c, round, &run->rs);

	/* The round's tasks gone, so are the dumps: no sink may be left. */
	round_end();
	coresinks_end(run->dir, false);
	return rc;
}

static int sc_coredump_race(struct ctx *c)
{
	char dir[] = "/tmp/pgtest-core.XXXXXX", detail[320], why[400];
	struct cr_run run = { .dir = dir };
	const char *how = leader_how();
	int rc;

	if (!g_exe[0] || access(core_pattern, W_OK) ||
	    read_file(core_pattern, g_core_saved, sizeof(g_core_saved)) ||
	    read_file(core_pipe_limit, g_limit_saved, sizeof(g_limit_saved)))
		return skipf(c, "%s not writable or unreadable (%s)", core_pattern,
			     g_exe[0] ? strerror(errno) : "own path unknown");
	if (!mkdtemp(dir))
		return failf(c, SETUP, "mkdtemp %s: %m", dir);
	if (core_redirect(dir, why, sizeof(why))) {
		rmdir(dir);
		return skipf(c, "%s", why);
	}
	seed_rounds();
	rc = run_rounds(c, coredump_race_round, &run);
	core_restore();
	coresinks_end(dir, true);
	if (rc)
		return rc;
	snprintf(detail, sizeof(detail),
		 "also hit: dump being written %d, no dump yet %d; leader %s, kill %d..%d ms after the dump began (every 4th round: %d..%d ms after the crash); core_pattern \"%.60s\" restored",
		 run.rs.dump_writing, run.rs.dump_before, how,
		 0, CR_JITTER_US / 1000, 0, CR_BLIND_US / 1000, g_core_saved);
	return race_verdict(c, &run.rs, "a dump in coredump_wait() (leader holding its SIGKILL)", detail);
}

const struct scenario scenario_coredump_race = { "coredump_race", sc_coredump_race, 20 };
