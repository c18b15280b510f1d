// SPDX-License-Identifier: GPL-2.0
/*
 * Scenarios exec_race, coredump_race; pgtest execloop, pgtest coresink (main.c has the overview).
 */
#include "pgtest.h"

/* ------------------------------------------------------------------ */
/* Scenarios: exec_race, coredump_race                                  */

/*
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
 */
#define ESCAPE_MS	10000	/* init reapable this soon after the kill, or the round escaped */
#define XR_JITTER_US	30000	/* exec_race: random wait before the kill */
#define CR_JITTER_US	15000	/* coredump_race: random wait once the dump began */
#define CR_BLIND_US	40000	/* ... or, every 4th round, right after the crash */
#define CORE_FILL	(1 << 20)	/* dumped memory: far more than a pipe holds */
#define CORESINK_MS	30000	/* the core pipe helper never waits longer */
#define SIGKILL_BIT	(1ULL << (SIGKILL - 1))
#define MAX_ESCAPES	5	/* the verdict is in: stop (each escape costs ESCAPE_MS) */

char g_exe[PATH_MAX];	/* our own binary: the exec loop's image, the core sink */
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

/* One "Key:" line of /proc/TGID/task/TID/status, parsed as a number. */
static int status_num(pid_t tgid, pid_t tid, const char *key, int base,
		      unsigned long long *val)
{
	char path[96], buf[4096], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", tgid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			*val = strtoull(p + klen + 1, NULL, base);
			return 0;
		}
	}
	return -1;
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

/* Threads of a process (0 once it is gone). */
static int count_threads(pid_t pid)
{
	struct dirent *de;
	char path[64];
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += is_number(de->d_name);
	closedir(d);
	return n;
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
	long long max_ms;		/* slowest teardown of a round that did not escape */
	char first[400];		/* the first escape */
};

/*
 * SIGKILL init and judge the round: init must be reapable within
 * ESCAPE_MS and leave nothing behind.  Otherwise it is an escape: counted,
 * described, and cleaned up by SIGKILLing victim (the racing process) from
 * outside; the teardown must end then, or the scenario fails.
 */
static int race_kill(struct ctx *c, struct race_stats *rs, pid_t init, const struct nsid *ns,
		     pid_t victim, pid_t racer, const char *hit)
{
	char what[400], stack[256], rstack[256];
	long long t0 = now_ms(), took;
	struct scan s;
	int st, r;

	rs->rounds++;
	kill(init, SIGKILL);
	r = wait_pid_for(init, &st, ESCAPE_MS);
	if (r < 0)
		return failf(c, SETUP, "waitpid(init %d): %m", init);
	if (r == 1) {
		untrack(init);
		took = now_ms() - t0;
		if (scan_ns(ns, &s))
			return failf(c, SETUP, "cannot scan /proc: %m");
		if (!s.total && !s.unknown) {
			if (took > rs->max_ms)
				rs->max_ms = took;
			return PASS;
		}
		scan_report(&s, "left behind");
		snprintf(what, sizeof(what), "round %d: %d task(s) of the namespace outlived init (kill hit %s)",
			 g_round, s.total + s.unknown, hit);
		for (int i = 0; i < s.listed; i++)
			kill(s.task[i].tgid, SIGKILL);
		kill(victim, SIGKILL);
	} else {
		int threads = count_threads(victim);
		struct pstat ps;

		kernel_stack_top(init, stack, sizeof(stack));
		kernel_stack_top(racer, rstack, sizeof(rstack));
		if (read_stat(victim, 0, &ps))
			memset(&ps, 0, sizeof(ps));
		snprintf(what, sizeof(what),
			 "round %d: init %d not reapable %d s after the kill (kill hit %s; init in %.60s), held by %d (%s, %d thread(s), state %c; thread %d in %.60s)",
			 g_round, init, ESCAPE_MS / 1000, hit, stack, victim, ps.comm, threads,
			 ps.state ? ps.state : '?', racer, rstack);
		kill(victim, SIGKILL);
	}
	diag("ESCAPE: %s", what);
	rs->escapes++;
	if (!rs->first[0])
		snprintf(rs->first, sizeof(rs->first), "%s", what);
	/* Cleaned up: now the teardown must end, and leave nothing. */
	if (r == 1)
		return leftovers_gone(c, ns);
	return finish_teardown(c, init, ns, now_ms(), SIGKILL, 0, NULL);
}

/* The scenario's verdict from its rounds. */
static int race_verdict(struct ctx *c, const struct race_stats *rs, const char *window,
			const char *detail)
{
	g_round = 0;
	if (rs->escapes)
		return failf(c, FAIL, "escapes=%d of %d rounds%s (kill hit %s in %d); %s; first: %s",
			     rs->escapes, rs->rounds, rs->escapes >= MAX_ESCAPES ? " (stopped there)" : "",
			     window, rs->window, detail, rs->first);
	if (!rs->window)
		return failf(c, FAIL, "escapes=0 of %d rounds, but the kill never hit %s: the race was not exercised; %s",
			     rs->rounds, window, detail);
	snprintf(c->sum, sizeof(c->sum), "escapes=0 of %d rounds; kill hit %s in %d; %s; teardown max %lld ms",
		 rs->rounds, window, rs->window, detail, rs->max_ms);
	return PASS;
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
	int notes[2], images[2];
};

static int exec_init(void *arg)
{
	struct xr_args *a = arg;
	pid_t pid = fork();

	if (pid < 0) {
		note_err(a->notes[1], "fork");
		return SETUP;
	}
	if (pid == 0) {
		close(a->images[0]);
		note_send(a->notes[1], N_TASK, 0);
		_exit(execloop_main(a->images[1]));
	}
	note_send(a->notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

static int exec_race_round(struct ctx *c, struct race_stats *rs)
{
	struct xr_args a;
	struct note notes[2];
	const struct note *x;
	int rc, want = 2 + rnd(3);
	bool window;
	struct nsid ns;
	pid_t init;
	char b;

	if (mkpipe(c, a.notes) || mkpipe(c, a.images))
		return SETUP;
	init = fork_ns_init(exec_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 2, init);
	if (rc)
		return rc;
	x = note_find(notes, 2, N_TASK, -1);
	if (!x || nsid_of_pid(init, &ns))
		return failf(c, SETUP, "the exec loop never reported, or stat /proc/%d/ns/pid: %m", init);
	/* A few images, then the kill at a random moment. */
	for (int got = 0; got < want; got++) {
		if (read_full(a.images[0], &b, 1, SETUP_MS, init))
			return failf(c, SETUP, "exec loop stalled after %d images", got);
		if (b == 'E')
			return failf(c, SETUP, "exec of %s failed in the namespace", g_exe);
	}
	sleep_us(rnd(XR_JITTER_US));
	/* In de_thread(): zap_other_threads() queued SIGKILL on the leader. */
	window = kill_pending(x->tgid, x->tgid);
	if (window)
		rs->window++;
	return race_kill(c, rs, init, &ns, x->tgid, x->tgid,
			 window ? "an exec in de_thread()" : "no exec in flight");
}

int sc_exec_race(struct ctx *c)
{
	struct race_stats rs = { 0 };
	bool blocks = leader_sleep_blocks();
	char detail[160];
	int rc;

	seed_rounds();
	for (g_round = 1; g_round <= c->rounds && rs.escapes < MAX_ESCAPES; g_round++) {
		rc = exec_race_round(c, &rs);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(detail, sizeof(detail), "leader %s, kill %d..%d ms after 2..4 images",
		 blocks ? "in synchronize_rcu() (membarrier)" : "sleeping (no membarrier: narrow window)",
		 0, XR_JITTER_US / 1000);
	return race_verdict(c, &rs, "an exec in de_thread() (leader holding its SIGKILL)", detail);
}

/* coredump_race ------------------------------------------------------ */

static const char *const core_pattern = "/proc/sys/kernel/core_pattern";
static const char *const core_pipe_limit = "/proc/sys/kernel/core_pipe_limit";
static char g_core_saved[256], g_limit_saved[32];
static volatile sig_atomic_t g_core_set;

/* Put core_pattern back; also from the watchdog (async-signal-safe). */
void core_restore(void)
{
	if (!g_core_set)
		return;
	write_file(core_pattern, g_core_saved);
	write_file(core_pipe_limit, g_limit_saved);
	g_core_set = 0;
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

/* Sinks still there (by their files): killed, and the files removed. */
static void coresinks_end(const char *dir, bool remove_dir)
{
	long long end = now_ms() + 5000;
	struct dirent *de;
	char path[PATH_MAX];
	int left;
	DIR *d;

	do {
		left = 0;
		d = opendir(dir);
		if (!d)
			return;
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "sink.", 5))
				left++;
		closedir(d);
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

struct cr_args {
	int notes[2], go[2];
};

static void *crash_thread(void *arg)
{
	struct cr_args *a = arg;

	note_send(a->notes[1], N_TARGET, 0);
	wait_byte(a->go[0]);
	/* Taken on the way back to user space: this thread dumps core. */
	syscall(SYS_tgkill, getpid(), gettid(), SIGSEGV);
	sleep_forever();
	return NULL;
}

static int crash_init(void *arg)
{
	struct cr_args *a = arg;
	struct rlimit inf = { RLIM_INFINITY, RLIM_INFINITY };
	pid_t pid = fork();
	void *fill;

	if (pid < 0) {
		note_err(a->notes[1], "fork");
		return SETUP;
	}
	if (pid == 0) {
		fill = mmap(NULL, CORE_FILL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fill == MAP_FAILED || setrlimit(RLIMIT_CORE, &inf) ||
		    prctl(PR_SET_DUMPABLE, 1)) {
			note_err(a->notes[1], "dumpable process");
			_exit(SETUP);
		}
		memset(fill, 0x5a, CORE_FILL);
		errno = start_thread(crash_thread, a);
		if (errno) {
			note_err(a->notes[1], "pthread_create");
			_exit(SETUP);
		}
		note_send(a->notes[1], N_TASK, 0);
		for (;;)
			leader_sleep();
	}
	note_send(a->notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

static int coredump_race_round(struct ctx *c, struct race_stats *rs)
{
	const struct note *x, *d;
	unsigned long long dumping;
	struct note notes[3];
	struct cr_args a;
	bool window;
	struct nsid ns;
	const char *hit;
	pid_t init;
	int rc;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(crash_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3, init);
	if (rc)
		return rc;
	x = note_find(notes, 3, N_TASK, -1);
	d = note_find(notes, 3, N_TARGET, -1);
	if (!x || !d || nsid_of_pid(init, &ns))
		return failf(c, SETUP, "the crashing process never reported, or stat /proc/%d/ns/pid: %m", init);
	/*
	 * Mostly: wait for zap_threads() (CoreDumping), then a random moment
	 * inside or past the window; every 4th round a moment anywhere from
	 * the crash on.
	 */
	send_byte(a.go[1], 'g');
	if (g_round % 4) {
		long long end = now_ms() + STATE_MS;

		while ((status_num(x->tgid, d->tid, "CoreDumping", 10, &dumping) || !dumping) &&
		       now_ms() < end)
			sleep_us(200);
		sleep_us(rnd(CR_JITTER_US));
	} else {
		sleep_us(rnd(CR_BLIND_US));
	}
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
	return race_kill(c, rs, init, &ns, x->tgid, d->tid, hit);
}

int sc_coredump_race(struct ctx *c)
{
	char dir[] = "/tmp/pgtest-core.XXXXXX", pattern[PATH_MAX + 64], buf[256], detail[320];
	struct race_stats rs = { 0 };
	bool blocks = leader_sleep_blocks();
	int rc = PASS, err;

	if (!g_exe[0] || access(core_pattern, W_OK) ||
	    read_file(core_pattern, g_core_saved, sizeof(g_core_saved)) ||
	    read_file(core_pipe_limit, g_limit_saved, sizeof(g_limit_saved))) {
		snprintf(c->why, sizeof(c->why), "%s not writable or unreadable (%s)", core_pattern,
			 g_exe[0] ? strerror(errno) : "own path unknown");
		return SKIP;
	}
	if (!mkdtemp(dir))
		return failf(c, SETUP, "mkdtemp %s: %m", dir);
	snprintf(pattern, sizeof(pattern), "|%s coresink %s", g_exe, dir);
	g_core_set = 1;
	err = write_file(core_pipe_limit, "0");
	if (!err)
		err = write_file(core_pattern, pattern);
	if (!err && (read_file(core_pattern, buf, sizeof(buf)) || strcmp(buf, pattern)))
		err = EINVAL;
	if (err) {
		core_restore();
		rmdir(dir);
		snprintf(c->why, sizeof(c->why), "cannot set %s to \"%.200s\": %s", core_pattern, pattern,
			 strerror(err));
		return SKIP;
	}
	seed_rounds();
	for (g_round = 1; g_round <= c->rounds && !rc && rs.escapes < MAX_ESCAPES; g_round++) {
		rc = coredump_race_round(c, &rs);
		round_end();
		coresinks_end(dir, false);
	}
	core_restore();
	coresinks_end(dir, true);
	if (rc)
		return rc;
	snprintf(detail, sizeof(detail),
		 "also hit: dump being written %d, no dump yet %d; leader %s, kill %d..%d ms after the dump began (every 4th round: %d..%d ms after the crash); core_pattern \"%.60s\" restored",
		 rs.dump_writing, rs.dump_before,
		 blocks ? "in synchronize_rcu() (membarrier)" : "sleeping (no membarrier: narrow window)",
		 0, CR_JITTER_US / 1000, 0, CR_BLIND_US / 1000, g_core_saved);
	return race_verdict(c, &rs, "a dump in coredump_wait() (leader holding its SIGKILL)", detail);
}
