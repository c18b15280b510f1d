// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest - PID namespace teardown scenarios for pidns_guard.
 *
 *   pgtest list                      scenario names, one per line
 *   pgtest run NAME [-n ROUNDS]      one scenario (NAME "all": every one
 *                                    but freezer, one result line each)
 *   pgtest hold [--kind KIND] [--release-fifo PATH]
 *                                    park a teardown, for shell scripts
 *   pgtest execloop FD, pgtest coresink DIR
 *                                    helpers of exec_race / coredump_race
 *                                    (an image of the exec loop; the core
 *                                    pipe helper the kernel runs)
 *
 * Exit: 0 pass, 1 fail, 2 usage or setup error, 3 skipped.  stdout gets
 * exactly one line per scenario: "ok NAME <measured summary>",
 * "fail NAME <reason>" or "skip NAME <why>"; diagnostics go to stderr as
 * "pgtest: NAME: ...".
 *
 * Scenarios (default rounds):
 *   tree_wide (2)        50 children x 3 threads; init exits / is SIGKILLed
 *   tree_deep (2)        a chain of 60 processes, some threaded; SIGKILL
 *   stopped (2)          group-stopped tasks, and tasks ptrace-stopped
 *                        (interrupt, attach, group-stop) by a tracer inside
 *   traced_outside (6)   a task traced from outside holds init for 1 s;
 *                        target: child / stopped thread / exited thread of
 *                        init; odd rounds the tracer reaps, even ones exits
 *   nonleader_init (3)   init's leader exits first; its last thread ends
 *                        by thread exit / exit_group / SIGKILL
 *   setns_fork_late (2)  a setns+fork child of an outside parent holds init
 *                        until reaped (by that parent / by us, reparented)
 *   setns_fork_race (30) two outside racers setns+fork while init is killed;
 *                        after the reap a fork must fail (ENOMEM)
 *   nested (2)           4 nested namespaces, outermost init SIGKILLed; even
 *                        rounds the innermost init is traced from outside
 *   reboot (3)           init's reboot(2): RESTART -> SIGHUP, POWER_OFF and
 *                        HALT -> SIGINT
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
 *                        (details above sc_exec_race)
 *   freezer (1)          init parked in its final wait; suspend-to-idle
 *                        freezer test: must freeze, must not spin after
 *
 * Every scenario makes a new PID namespace (its first task is the
 * namespace init), builds a situation in it, starts the teardown (init
 * exits or is SIGKILLed from outside), reaps init from outside and then
 * checks THE INVARIANT: once init is reaped, no task of the namespace or
 * of any namespace nested in it exists any more, zombie or not.  The check
 * walks every /proc/PID/task/TID/ns/pid up with NS_GET_PARENT.
 *
 * Who is who: pgtest itself ("the outer parent") forks the namespace init
 * and every outside helper ("agents": a ptrace tracer P, a setns+fork
 * parent O, the fork racers), all in pgtest's own PID namespace.  pgtest
 * is a child subreaper so that nothing it started escapes its cleanup,
 * and every direct child dies with it (PR_SET_PDEATHSIG).  Tasks report
 * readiness over pipes; sleeps are used only for polling with deadlines.
 *
 * Where a teardown can be held.  The last init thread runs
 * zap_pid_ns_processes(): it SIGKILLs the namespace, then (1) reaps its
 * children with wait4 until ECHILD (the "reap loop"), then (2) sleeps until
 * every other pid of the namespace is freed (the "final wait").  SIGKILL
 * always wins over a stop, so nothing alive can hold init: what holds it is
 * a zombie that init cannot reap.  The three kinds of pgtest hold:
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
 *
 * Assumptions: root (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SYS_BOOT), /proc
 * mounted from pgtest's own PID namespace, Linux >= 4.12 (pid_for_children,
 * NS_GET_PARENT), no seccomp filter on ptrace/setns/reboot.  reboot(2) is
 * only ever called after checking that the caller is the init of a child
 * PID namespace.  The freezer scenario also needs /sys/power/pm_test
 * (CONFIG_PM_DEBUG) and "freeze" in /sys/power/state, or it is skipped.
 * coredump_race sets /proc/sys/kernel/core_pattern (and core_pipe_limit 0)
 * for its run and restores them (also on a watchdog timeout), or is
 * skipped if it cannot; it needs a writable /tmp.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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
#include <linux/membarrier.h>
#include <linux/nsfs.h>
#include <linux/reboot.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Exit codes (also the result of every scenario function). */
enum { PASS = 0, FAIL = 1, SETUP = 2, SKIP = 3 };

/*
 * Deadlines.  The guest is TCG-emulated, 10x slower than a real machine at
 * least; every one of these is far beyond what a healthy kernel needs, and
 * they only matter when something is broken.
 */
#define SETUP_MS	60000	/* a namespace to be fully built */
#define TEARDOWN_MS	60000	/* init to be reapable once nothing holds it */
#define STATE_MS	30000	/* a task to reach an expected state */
#define AGENT_MS	30000	/* an agent to answer a command */
#define HOLD_CHECK_MS	1000	/* how long a held init must stay unreapable */
#define HOLD_MAX_S	3600	/* pgtest hold: longest wait for the release */
#define CLEANUP_MS	30000	/* leftovers of a round to be reaped */

#define PF_EXITING_FLAG	0x00000004	/* include/linux/sched.h PF_EXITING */

/* ------------------------------------------------------------------ */
/* Diagnostics and time                                                */

static const char *g_name = "pgtest";
static int g_round;

static void diag(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (g_round)
		n = snprintf(buf, sizeof(buf), "pgtest: %s: round %d: ", g_name, g_round);
	else
		n = snprintf(buf, sizeof(buf), "pgtest: %s: ", g_name);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write, so that lines of several processes do not interleave. */
	if (write(STDERR_FILENO, buf, n) < 0)
		return;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static long long now_ms(void)
{
	return now_us() / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A scenario's verdict: the first failure reason wins. */
struct ctx {
	const char *name;
	int rounds;
	char why[512];
	char sum[512];
};

static int failf(struct ctx *c, int rc, const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	diag("%s", buf);
	if (!c->why[0]) {
		if (g_round && c->rounds > 1)
			snprintf(c->why, sizeof(c->why), "round %d: %s", g_round, buf);
		else
			snprintf(c->why, sizeof(c->why), "%s", buf);
	}
	return rc;
}

static const char *status_str(int st, char *buf, size_t len)
{
	const char *abbrev;

	if (WIFEXITED(st)) {
		snprintf(buf, len, "exited %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		abbrev = sigabbrev_np(WTERMSIG(st));
		snprintf(buf, len, "killed by SIG%s", abbrev ? abbrev : "?");
	} else {
		snprintf(buf, len, "wait status 0x%x", st);
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Our direct children: tracked so that a timeout or failure kills all. */

#define MAX_TRACKED 32
static volatile pid_t g_tracked[MAX_TRACKED];
static char g_alarm_line[160];

static void track(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++) {
		if (!g_tracked[i]) {
			g_tracked[i] = pid;
			return;
		}
	}
	diag("too many children to track (pid %d untracked)", pid);
}

static void untrack(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (g_tracked[i] == pid)
			g_tracked[i] = 0;
}

static void kill_tracked(void)
{
	for (int i = 0; i < MAX_TRACKED; i++)
		if (g_tracked[i] > 0)
			kill(g_tracked[i], SIGKILL);
}

/* Last resort: a scenario that ran far too long.  Async-signal-safe. */
static void core_restore(void);

static void on_alarm(int sig)
{
	(void)sig;
	kill_tracked();
	core_restore();
	if (write(STDOUT_FILENO, g_alarm_line, strlen(g_alarm_line)) < 0)
		_exit(FAIL);
	_exit(FAIL);
}

static void watchdog_arm(int seconds)
{
	snprintf(g_alarm_line, sizeof(g_alarm_line),
		 "fail %s watchdog: no result after %d s\n", g_name, seconds);
	alarm(seconds);
}

/*
 * End of a round: whatever is left (also on failure) is killed and reaped.
 * Killing the agents releases any zombie they hold, so the namespace can
 * finish; orphans they leave are reparented to us (child subreaper).
 */
static int cleanup_children(void)
{
	long long end = now_ms() + CLEANUP_MS;
	int left, st;

	kill_tracked();
	for (;;) {
		while (waitpid(-1, &st, WNOHANG | __WALL) > 0)
			;
		left = 0;
		for (int i = 0; i < MAX_TRACKED; i++) {
			pid_t pid = g_tracked[i];

			pid_t r;

			if (!pid)
				continue;
			r = waitpid(pid, &st, WNOHANG | __WALL);
			if (r == pid || (r < 0 && errno == ECHILD))
				untrack(pid);	/* ECHILD: reaped just above */
			else
				left++;
		}
		if (!left || now_ms() > end)
			break;
		sleep_us(2000);
	}
	if (left)
		diag("cleanup: %d children could not be reaped in %d s", left, CLEANUP_MS / 1000);
	return left;
}

/* ------------------------------------------------------------------ */
/* Forking                                                             */

/* Direct children of pgtest die with it and start with a clean slate. */
static void child_setup(pid_t parent)
{
	sigset_t none;

	signal(SIGALRM, SIG_DFL);
	alarm(0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	memset((void *)g_tracked, 0, sizeof(g_tracked));
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The parent may have died before PDEATHSIG was armed. */
	if (parent && getppid() != parent)
		_exit(SETUP);
}

typedef int (*task_fn)(void *arg);

/* fork() a tracked child of pgtest running fn, in pgtest's namespace. */
static pid_t spawn(task_fn fn, void *arg)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		child_setup(parent);
		_exit(fn(arg));
	}
	if (pid > 0)
		track(pid);
	return pid;
}

/*
 * fork() the init of a new PID namespace.  unshare(CLONE_NEWPID) only
 * changes where the caller's next child goes, so the caller's previous
 * pid_for_children is put back right after: its later forks stay at home.
 */
static pid_t fork_ns_init(task_fn fn, void *arg, bool tracked)
{
	int saved = open("/proc/thread-self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
	pid_t pid;
	int err;

	if (saved < 0)
		return -1;
	if (unshare(CLONE_NEWPID)) {
		err = errno;
		close(saved);
		errno = err;
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(saved);
		if (tracked)
			child_setup(0);	/* getppid() is 0 in a new namespace */
		_exit(fn(arg));
	}
	err = errno;
	if (setns(saved, CLONE_NEWPID)) {
		diag("cannot return to our own pid namespace: %m");
		if (pid > 0)
			kill(pid, SIGKILL);
		_exit(SETUP);
	}
	close(saved);
	if (pid > 0 && tracked)
		track(pid);
	errno = err;
	return pid;
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void *sleeper_thread(void *arg)
{
	(void)arg;
	sleep_forever();
	return NULL;
}

static int start_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

static int start_sleepers(int n)
{
	for (int i = 0; i < n; i++) {
		int rc = start_thread(sleeper_thread, NULL);

		if (rc) {
			errno = rc;
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Notes: fixed-size readiness records, atomic on a pipe (< PIPE_BUF).  */

enum note_tag { N_ERR = 1, N_INIT, N_TASK, N_TARGET, N_TRACER };

struct note {
	int16_t tag;
	int16_t level;		/* nesting level of the sender's namespace */
	int32_t inner;		/* tid in the sender's own namespace, or errno */
	int32_t tgid;		/* ids as pgtest sees them (/proc/thread-self) */
	int32_t tid;
};

/* Our ids in the namespace of /proc, i.e. as the outer parent sees them. */
static void outer_ids(int *tgid, int *tid)
{
	char buf[64];
	ssize_t n = readlink("/proc/thread-self", buf, sizeof(buf) - 1);

	*tgid = *tid = -1;
	if (n > 0) {
		buf[n] = 0;
		sscanf(buf, "%d/task/%d", tgid, tid);
	}
}

static void note_send(int fd, int tag, int level)
{
	struct note n = { .tag = tag, .level = level, .inner = gettid() };
	int tgid, tid;

	outer_ids(&tgid, &tid);
	n.tgid = tgid;
	n.tid = tid;
	if (write(fd, &n, sizeof(n)) != sizeof(n))
		return;	/* the reader is gone; it will time out */
}

/* A task inside a namespace could not set itself up. */
static void note_err(int fd, const char *what)
{
	struct note n = { .tag = N_ERR, .inner = errno };

	diag("%s: %m", what);
	if (write(fd, &n, sizeof(n)) != sizeof(n))
		return;
}

/*
 * Read exactly len bytes within ms.  When watch is set, stop early if
 * that child exits (looked at with WNOWAIT: it stays reapable).
 */
static int read_full(int fd, void *buf, size_t len, int ms, pid_t watch)
{
	long long end = now_ms() + ms;
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		siginfo_t si;
		ssize_t n;
		int r = poll(&p, 1, 50);

		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0) {
			n = read(fd, (char *)buf + got, len - got);
			if (n > 0)
				got += n;
			else if (n == 0 || errno != EINTR)
				return -1;
			continue;
		}
		if (watch > 0) {
			memset(&si, 0, sizeof(si));
			if (!waitid(P_PID, watch, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid) {
				errno = ECHILD;
				return -1;
			}
		}
		if (now_ms() > end) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

/* Collect want notes from the tasks being built; setup failures are loud. */
static int notes_collect(struct ctx *c, int fd, struct note *out, int want, pid_t init)
{
	long long end = now_ms() + SETUP_MS;

	for (int i = 0; i < want; i++) {
		int left = end - now_ms();

		if (left < 0 || read_full(fd, &out[i], sizeof(out[i]), left, init)) {
			if (errno == ECHILD)
				return failf(c, SETUP, "namespace init died while being set up (%d of %d tasks ready)",
					     i, want);
			return failf(c, SETUP, "only %d of %d tasks ready after %d s",
				     i, want, SETUP_MS / 1000);
		}
		if (out[i].tag == N_ERR)
			return failf(c, SETUP, "a task in the namespace failed to set up: %s",
				     strerror(out[i].inner));
	}
	return PASS;
}

static const struct note *note_find(const struct note *n, int count, int tag, int level)
{
	for (int i = 0; i < count; i++)
		if (n[i].tag == tag && (level < 0 || n[i].level == level))
			return &n[i];
	return NULL;
}

/* Fork n sleeping children, each with threads extra threads; one note each. */
static int populate(int n, int threads, int note_fd, int level)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			note_err(note_fd, "fork");
			return -1;
		}
		if (pid == 0) {
			if (start_sleepers(threads)) {
				note_err(note_fd, "pthread_create");
				_exit(SETUP);
			}
			note_send(note_fd, N_TASK, level);
			sleep_forever();
		}
	}
	return 0;
}

/* Block until one byte arrives (or the writer is gone). */
static char wait_byte(int fd)
{
	char b = 0;

	while (read(fd, &b, 1) < 0 && errno == EINTR)
		;
	return b;
}

static void send_byte(int fd, char b)
{
	if (write(fd, &b, 1) != 1)
		diag("cannot write to a pipe: %m");
}

/* Pipes of the current round, closed by round_end(). */
static int g_fds[64];
static int g_nfds;

static int mkpipe(struct ctx *c, int fds[2])
{
	if (pipe(fds) || g_nfds + 2 > (int)(sizeof(g_fds) / sizeof(g_fds[0])))
		return failf(c, SETUP, "pipe: %m");
	g_fds[g_nfds++] = fds[0];
	g_fds[g_nfds++] = fds[1];
	return PASS;
}

static int round_end(void)
{
	int left = cleanup_children();

	while (g_nfds > 0)
		close(g_fds[--g_nfds]);
	return left;
}

/* ------------------------------------------------------------------ */
/* /proc                                                               */

struct pstat {
	char state;
	int ppid;
	unsigned int flags;
	unsigned long long utime, stime;
	char comm[32];
};

/* Parse /proc/TGID[/task/TID]/stat; tid 0 means the process. */
static int read_stat(pid_t tgid, pid_t tid, struct pstat *ps)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	ssize_t n;
	size_t len;
	int fd;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", tgid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	len = close_paren - open_paren - 1;
	if (len >= sizeof(ps->comm))
		len = sizeof(ps->comm) - 1;
	memcpy(ps->comm, open_paren + 1, len);
	ps->comm[len] = 0;
	/* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
	if (sscanf(close_paren + 2, "%c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %llu %llu",
		   &ps->state, &ps->ppid, &ps->flags, &ps->utime, &ps->stime) != 5)
		return -1;
	return 0;
}

static char task_state(pid_t tgid, pid_t tid)
{
	struct pstat ps;

	return read_stat(tgid, tid, &ps) ? 0 : ps.state;
}

/* Poll until the task is in one of states; returns the state, 0 on timeout. */
static char wait_state(pid_t tgid, pid_t tid, const char *states, int ms)
{
	long long end = now_ms() + ms;
	char s;

	for (;;) {
		s = task_state(tgid, tid);
		if (s && strchr(states, s))
			return s;
		if (now_ms() > end)
			return 0;
		sleep_us(2000);
	}
}

/* Top of a task's kernel stack, for diagnostics only (needs root). */
static void kernel_stack_top(pid_t pid, char *out, size_t len)
{
	char path[64], buf[2048], *p, *line, *save;
	size_t used = 0;
	int fd, k = 0;
	ssize_t n;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	out[0] = 0;
	for (line = strtok_r(buf, "\n", &save); line && k < 4; line = strtok_r(NULL, "\n", &save)) {
		p = strchr(line, ']');
		p = p ? p + 2 : line;
		p[strcspn(p, "+ ")] = 0;
		used += snprintf(out + used, used < len ? len - used : 0, "%s%s", k ? "<" : "", p);
		k++;
	}
}

/* Which wait of the teardown a kernel stack shows init in. */
static const char *wait_stage(const char *stack)
{
	if (!strcmp(stack, "?"))
		return "teardown (kernel stack unreadable)";
	if (strstr(stack, "do_wait") || strstr(stack, "wait4"))
		return "reap loop";
	return "final wait";
}

/* ------------------------------------------------------------------ */
/* Namespaces and THE INVARIANT                                        */

struct nsid {
	dev_t dev;
	ino_t ino;
};

static bool nsid_eq(const struct nsid *a, const struct nsid *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

static int nsid_of_path(const char *path, struct nsid *id)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

static int nsid_of_pid(pid_t pid, struct nsid *id)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	return nsid_of_path(path, id);
}

/* Results of walking up from one namespace, kept for one scan. */
struct ns_cache {
	int n;
	struct {
		struct nsid id;
		int depth;
	} e[256];
};

/*
 * How deep fd's pid namespace sits below target: 0 = target itself,
 * k > 0 = nested k levels, -1 = not inside target.  NS_GET_PARENT fails
 * (EPERM) once the walk leaves our own namespace, which ends it.
 */
static int ns_depth(int fd, const struct nsid *target, struct ns_cache *cache)
{
	struct stat st;
	struct nsid first;
	int cur = fd, depth = 0, result = -1;

	if (fstat(fd, &st))
		return -1;
	first.dev = st.st_dev;
	first.ino = st.st_ino;
	for (int i = 0; i < cache->n; i++)
		if (nsid_eq(&cache->e[i].id, &first))
			return cache->e[i].depth;

	for (;;) {
		struct nsid id;
		int parent;

		if (fstat(cur, &st))
			break;
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		if (nsid_eq(&id, target)) {
			result = depth;
			break;
		}
		parent = ioctl(cur, NS_GET_PARENT);
		if (cur != fd)
			close(cur);
		cur = fd;
		if (parent < 0 || ++depth > 64)
			break;
		cur = parent;
	}
	if (cur != fd)
		close(cur);
	if (cache->n < (int)(sizeof(cache->e) / sizeof(cache->e[0]))) {
		cache->e[cache->n].id = first;
		cache->e[cache->n].depth = result;
		cache->n++;
	}
	return result;
}

struct task_id {
	pid_t tgid, tid;
	char state;
	int depth;
	char comm[32];
};

#define MAX_DEPTH 8
#define MAX_LISTED 16

struct scan {
	int total;			/* tasks in target or below */
	int by_depth[MAX_DEPTH];	/* ... per nesting level (last: deeper) */
	int zombies;
	int unknown;			/* tasks whose namespace could not be read */
	int unknown_errno;
	int listed;
	struct task_id task[MAX_LISTED];
};

static bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* How many pid namespace levels /proc shows for a task (NSpid: fields). */
static int nspid_levels(pid_t tgid, pid_t tid)
{
	char path[96], buf[4096], *p;
	int fd, n = 0;
	ssize_t len;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", tgid, tid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	buf[len] = 0;
	p = strstr(buf, "\nNSpid:");
	if (!p)
		return -1;
	for (p += 7; *p && *p != '\n'; ) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		n++;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return n;
}

/*
 * A task whose ns link we may not open (EACCES: some system daemons are
 * not dumpable): it cannot be in a namespace below ours if /proc shows it
 * with no more pid levels than we have.
 */
static bool surely_outside(pid_t tgid, pid_t tid)
{
	static int own = -1;
	int lv;

	if (own < 0)
		own = nspid_levels(0, 0);
	lv = nspid_levels(tgid, tid);
	return own > 0 && lv > 0 && lv <= own;
}

static bool task_exists(pid_t tgid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", tgid, tid);
	return !access(path, F_OK);
}

/*
 * Open a task's ns/pid link.  -1 with errno 0: the task is none of ours
 * (released meanwhile, or shown by NSpid to live at our level or above);
 * -1 with errno set: it exists but its namespace cannot be read.
 */
static int open_ns_link(pid_t tgid, pid_t tid)
{
	char path[96];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/pid", tgid, tid);
	for (int i = 0; i < 5; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		err = errno;
		/*
		 * ENOENT/ESRCH: released.  A task released between the lookup
		 * and the link gives EACCES (proc_ns_get_link() finds no task),
		 * so whatever the error, a task that is gone is no leftover.
		 */
		if (err == ENOENT || err == ESRCH || !task_exists(tgid, tid) ||
		    surely_outside(tgid, tid)) {
			errno = 0;
			return -1;
		}
		sleep_us(1000);
	}
	errno = err;
	return -1;
}

/* Note one task (tgid/tid) into the scan if it belongs to target. */
static void scan_task(pid_t tgid, pid_t tid, const struct nsid *target,
		      struct ns_cache *cache, struct scan *s)
{
	struct pstat ps;
	int fd, depth;

	fd = open_ns_link(tgid, tid);
	if (fd < 0) {
		if (errno) {
			s->unknown++;
			s->unknown_errno = errno;
			if (s->listed < MAX_LISTED) {
				struct task_id *t = &s->task[s->listed++];

				t->tgid = tgid;
				t->tid = tid;
				t->depth = -1;
				t->state = task_state(tgid, tid);
				snprintf(t->comm, sizeof(t->comm), "(unreadable ns: %s)",
					 strerror(s->unknown_errno));
			}
		}
		return;
	}
	depth = ns_depth(fd, target, cache);
	close(fd);
	if (depth < 0)
		return;
	s->total++;
	s->by_depth[depth < MAX_DEPTH ? depth : MAX_DEPTH - 1]++;
	if (read_stat(tgid, tid, &ps))
		memset(&ps, 0, sizeof(ps));
	if (ps.state == 'Z' || ps.state == 'X')
		s->zombies++;
	if (s->listed < MAX_LISTED) {
		struct task_id *t = &s->task[s->listed++];

		t->tgid = tgid;
		t->tid = tid;
		t->depth = depth;
		t->state = ps.state ? ps.state : '?';
		snprintf(t->comm, sizeof(t->comm), "%s", ps.comm);
	}
}

/* Every task (thread, zombie included) of target and of its descendants. */
static int scan_ns(const struct nsid *target, struct scan *s)
{
	static struct ns_cache cache;
	struct dirent *de, *te;
	DIR *proc, *tasks;
	char path[64];

	memset(s, 0, sizeof(*s));
	cache.n = 0;
	proc = opendir("/proc");
	if (!proc)
		return -1;
	while ((de = readdir(proc))) {
		pid_t tgid;

		if (!is_number(de->d_name))
			continue;
		tgid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task", tgid);
		tasks = opendir(path);
		if (!tasks)
			continue;
		while ((te = readdir(tasks)))
			if (is_number(te->d_name))
				scan_task(tgid, atoi(te->d_name), target, &cache, s);
		closedir(tasks);
	}
	closedir(proc);
	return 0;
}

static void scan_report(const struct scan *s, const char *what)
{
	for (int i = 0; i < s->listed; i++) {
		const struct task_id *t = &s->task[i];

		diag("%s: tid %d (tgid %d) comm %s state %c ns-depth %d",
		     what, t->tid, t->tgid, t->comm, t->state ? t->state : '?', t->depth);
	}
	if (s->total + s->unknown > s->listed)
		diag("%s: ... %d more", what, s->total + s->unknown - s->listed);
}

/* THE INVARIANT, checked right after init was reaped. */
static int check_invariant(struct ctx *c, const struct nsid *ns)
{
	struct scan s;
	const struct task_id *t;

	if (scan_ns(ns, &s))
		return failf(c, SETUP, "cannot scan /proc: %m");
	if (!s.total && !s.unknown)
		return PASS;
	scan_report(&s, "left behind");
	t = &s.task[0];
	if (!s.total)
		return failf(c, FAIL, "%d task(s) whose pid namespace cannot be read after init was reaped (%s), first tid %d",
			     s.unknown, strerror(s.unknown_errno), t->tid);
	for (int i = 0; i < s.listed; i++) {
		if (s.task[i].depth >= 0) {
			t = &s.task[i];
			break;
		}
	}
	return failf(c, FAIL, "%d task(s) of the namespace left after init was reaped; first: tid %d comm %s state %c%s",
		     s.total, t->tid, t->comm, t->state, t->depth > 0 ? " (nested namespace)" : "");
}

/* Count the namespace's tasks (a setup check, before the teardown). */
static int expect_tasks(struct ctx *c, const struct nsid *ns, int want, struct scan *s)
{
	if (scan_ns(ns, s))
		return failf(c, SETUP, "cannot scan /proc: %m");
	if (s->total != want) {
		scan_report(s, "in namespace");
		return failf(c, SETUP, "namespace holds %d tasks, expected %d", s->total, want);
	}
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Waiting for children, with deadlines                                */

/* waitpid(pid) within ms: 1 reaped (*st set), 0 timeout, -1 error. */
static int wait_pid_for(pid_t pid, int *st, int ms)
{
	long long end = now_ms() + ms;
	long delay = 200;

	for (;;) {
		pid_t r = waitpid(pid, st, WNOHANG | __WALL);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() > end)
			return 0;
		sleep_us(delay);
		if (delay < 4000)
			delay *= 2;
	}
}

/*
 * init must stay unreapable for ms: 1 if it did, 0 if it was reaped
 * meanwhile (*st set: the caller reports it), -1 on error.
 */
static int stays_unreapable(pid_t pid, int ms, int *st)
{
	long long end = now_ms() + ms;

	while (now_ms() < end) {
		pid_t r = waitpid(pid, st, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		sleep_us(10000);
	}
	return 1;
}

/*
 * The teardown was started at t0: wait for init, check how it ended and
 * check THE INVARIANT.  want_sig > 0: init must have been killed by it;
 * 0: it must have exited with want_exit; < 0: the caller looks at
 * last_status.
 */
static int last_status;	/* init's wait status, from finish_teardown() */

static int finish_teardown(struct ctx *c, pid_t init, const struct nsid *ns,
			   long long t0, int want_sig, int want_exit, long long *took_ms)
{
	char b1[64];
	int st, r = wait_pid_for(init, &st, TEARDOWN_MS);
	struct scan s;

	if (r < 0)
		return failf(c, SETUP, "waitpid(init %d): %m", init);
	if (r == 0) {
		char stack[256];

		kernel_stack_top(init, stack, sizeof(stack));
		diag("init %d state %c, kernel stack %s", init, task_state(init, 0), stack);
		if (!scan_ns(ns, &s))
			scan_report(&s, "still in namespace");
		return failf(c, FAIL, "init %d not reapable %d s after its teardown began (state %c)",
			     init, TEARDOWN_MS / 1000, task_state(init, 0));
	}
	untrack(init);
	last_status = st;
	if (took_ms)
		*took_ms = now_ms() - t0;
	r = check_invariant(c, ns);
	if (r || want_sig < 0)
		return r;
	if (want_sig > 0 && !(WIFSIGNALED(st) && WTERMSIG(st) == want_sig))
		return failf(c, FAIL, "init %s, expected killed by SIG%s",
			     status_str(st, b1, sizeof(b1)), sigabbrev_np(want_sig));
	if (want_sig <= 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == want_exit))
		return failf(c, FAIL, "init %s, expected exited %d",
			     status_str(st, b1, sizeof(b1)), want_exit);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Agents: helper processes outside the namespace, driven by commands   */

enum agent_op { A_SEIZE = 1, A_SEIZE_STOP, A_REAP, A_SETNS_FORK, A_EXIT };

struct amsg {
	int op;
	int pid;	/* the task to act on (pgtest's view) */
	int arg;
	int rc;		/* reply: >= 0 result, < 0 -errno */
	int status;	/* reply: wait status of a reaped task */
};

struct agent {
	pid_t pid;
	int cmd[2], rep[2];
};

/*
 * As the tracer (or parent): wait for pid to stop (want_exit false) or to
 * be gone (reaped, want_exit true).  0, -ETIMEDOUT or -errno.
 */
static int traced_wait(pid_t pid, int ms, bool want_exit, int *status)
{
	long long end = now_ms() + ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG | __WALL);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == pid) {
			*status = st;
			if (WIFEXITED(st) || WIFSIGNALED(st))
				return want_exit ? 0 : -ESRCH;
			if (!want_exit && WIFSTOPPED(st))
				return 0;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
		if (r != pid)
			sleep_us(1000);
	}
}

/* Seize pid and put it into a ptrace-stop (PTRACE_EVENT_STOP). */
static int seize_stop(pid_t pid, int *status)
{
	if (ptrace(PTRACE_SEIZE, pid, NULL, NULL))
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL))
		return -errno;
	return traced_wait(pid, STATE_MS, false, status);
}

/* setns() into pid's namespace and fork a sleeper there; returns its pid. */
static int setns_fork_sleeper(pid_t nspid)
{
	char path[64];
	int fd, err;
	pid_t child;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", nspid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWPID)) {
		err = errno;
		close(fd);
		return -err;
	}
	close(fd);
	child = fork();
	if (child == 0)
		sleep_forever();
	return child < 0 ? -errno : child;
}

static void agent_do(struct amsg *m)
{
	m->status = 0;
	switch (m->op) {
	case A_SEIZE:
		m->rc = ptrace(PTRACE_SEIZE, m->pid, NULL, NULL) ? -errno : 0;
		break;
	case A_SEIZE_STOP:
		m->rc = seize_stop(m->pid, &m->status);
		break;
	case A_REAP:
		m->rc = traced_wait(m->pid, m->arg, true, &m->status);
		break;
	case A_SETNS_FORK:
		m->rc = setns_fork_sleeper(m->pid);
		break;
	case A_EXIT:
		m->rc = 0;
		break;
	default:
		m->rc = -EINVAL;
	}
}

static int agent_main(void *arg)
{
	struct agent *a = arg;
	struct amsg m;

	for (;;) {
		ssize_t n = read(a->cmd[0], &m, sizeof(m));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(m))
			return 0;
		agent_do(&m);
		if (write(a->rep[1], &m, sizeof(m)) != sizeof(m))
			return SETUP;
		if (m.op == A_EXIT)
			_exit(0);	/* whatever it traces or parents: not reaped */
	}
}

static int agent_start(struct ctx *c, struct agent *a)
{
	if (mkpipe(c, a->cmd) || mkpipe(c, a->rep))
		return SETUP;
	a->pid = spawn(agent_main, a);
	if (a->pid < 0)
		return failf(c, SETUP, "fork: %m");
	return PASS;
}

/* Run one command in the agent; its rc (or -errno of the channel). */
static int agent_call(struct agent *a, int op, pid_t pid, int arg, int *status)
{
	struct amsg m = { .op = op, .pid = pid, .arg = arg };

	if (write(a->cmd[1], &m, sizeof(m)) != sizeof(m))
		return -EPIPE;
	if (read_full(a->rep[0], &m, sizeof(m), AGENT_MS + arg, a->pid))
		return -ETIMEDOUT;
	if (status)
		*status = m.status;
	return m.rc;
}

/* ------------------------------------------------------------------ */
/* A namespace with one task that only an outside process can reap      */

enum target_kind {
	TK_CHILD,		/* child process of init, traced from outside */
	TK_THREAD,		/* thread of init, traced (and stopped) from outside */
	TK_THREAD_EXITED,	/* thread of init, traced, already a zombie */
	TK_FOREIGN,		/* setns+fork child of an outside process */
};

static const char *const tk_name[] = {
	[TK_CHILD] = "child", [TK_THREAD] = "thread",
	[TK_THREAD_EXITED] = "exited-thread", [TK_FOREIGN] = "foreign",
};

struct situ {
	enum target_kind kind;
	bool stop;		/* ptrace-stop the target before the teardown */
	int extra;		/* other sleeping children of init (1 thread each) */
	pid_t init;
	struct nsid ns;
	struct agent ag;	/* tracer P, or the setns+fork parent O */
	pid_t tgid, tid;	/* the target, pgtest's view */
	int notes[2], die[2];
	int ntasks;		/* tasks of the namespace once built */
};

static void *situ_thread(void *arg)
{
	struct situ *s = arg;

	note_send(s->notes[1], N_TARGET, 0);
	/* TK_THREAD_EXITED: exit this thread alone when told to. */
	if (wait_byte(s->die[0]) == 'x')
		syscall(SYS_exit, 0);
	sleep_forever();
	return NULL;
}

static int situ_init(void *arg)
{
	struct situ *s = arg;
	pid_t pid;

	if (populate(s->extra, 1, s->notes[1], 0))
		return SETUP;
	if (s->kind == TK_CHILD) {
		pid = fork();
		if (pid < 0) {
			note_err(s->notes[1], "fork");
			return SETUP;
		}
		if (pid == 0) {
			note_send(s->notes[1], N_TARGET, 0);
			sleep_forever();
		}
	} else if (s->kind == TK_THREAD || s->kind == TK_THREAD_EXITED) {
		errno = start_thread(situ_thread, s);
		if (errno) {
			note_err(s->notes[1], "pthread_create");
			return SETUP;
		}
	}
	note_send(s->notes[1], N_INIT, 0);
	sleep_forever();
	return 0;
}

/* Build it: namespace, target, outside agent holding the target. */
static int situ_build(struct ctx *c, struct situ *s)
{
	struct note notes[64];
	int want = s->extra + 1 + (s->kind != TK_FOREIGN);
	const struct note *t;
	struct scan sc;
	struct pstat ps;
	int rc, st;

	if (mkpipe(c, s->notes) || mkpipe(c, s->die) || agent_start(c, &s->ag))
		return SETUP;
	s->init = fork_ns_init(situ_init, s, true);
	if (s->init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, s->notes[0], notes, want, s->init);
	if (rc)
		return rc;
	if (nsid_of_pid(s->init, &s->ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", s->init);

	switch (s->kind) {
	case TK_FOREIGN:
		rc = agent_call(&s->ag, A_SETNS_FORK, s->init, 0, NULL);
		if (rc < 0)
			return failf(c, SETUP, "setns+fork into the namespace: %s", strerror(-rc));
		s->tgid = s->tid = rc;
		if (read_stat(rc, 0, &ps) || ps.ppid != s->ag.pid)
			return failf(c, SETUP, "setns+fork child %d is not parented by %d", rc, s->ag.pid);
		break;
	default:
		t = note_find(notes, want, N_TARGET, -1);
		if (!t)
			return failf(c, SETUP, "the target task never reported");
		s->tgid = t->tgid;
		s->tid = t->tid;
		rc = agent_call(&s->ag, s->stop ? A_SEIZE_STOP : A_SEIZE, s->tid, 0, &st);
		if (rc < 0)
			return failf(c, SETUP, "ptrace %d from outside: %s", s->tid, strerror(-rc));
		if (s->stop && !wait_state(s->tgid, s->tid, "t", STATE_MS))
			return failf(c, SETUP, "tracee %d never showed a ptrace-stop", s->tid);
	}
	s->ntasks = 1 + 2 * s->extra + 1;
	if (s->kind == TK_THREAD_EXITED) {
		/* It exits traced: no autoreap, a zombie until P reaps it. */
		send_byte(s->die[1], 'x');
		if (!wait_state(s->tgid, s->tid, "Z", STATE_MS))
			return failf(c, SETUP, "traced thread %d did not become a zombie", s->tid);
	}
	return expect_tasks(c, &s->ns, s->ntasks, &sc);
}

/* After the kill: the target must be a zombie and init not reapable. */
static int situ_check_held(struct ctx *c, struct situ *s, int ms)
{
	char b[64];
	int st, r;

	if (!wait_state(s->tgid, s->tid, "Z", STATE_MS))
		return failf(c, FAIL, "held task %d did not become a zombie (state %c)",
			     s->tid, task_state(s->tgid, s->tid));
	r = stays_unreapable(s->init, ms, &st);
	if (r < 0)
		return failf(c, SETUP, "waitpid(init): %m");
	if (r == 0) {
		untrack(s->init);
		return failf(c, FAIL, "init reapable (%s) while zombie %d still waits for %d to reap it",
			     status_str(st, b, sizeof(b)), s->tid, s->ag.pid);
	}
	if (kill(s->ag.pid, 0))
		return failf(c, SETUP, "agent %d is gone", s->ag.pid);
	return PASS;
}

/*
 * Let the held zombie go: the agent reaps it, or (agent_exits) the agent
 * exits without reaping it; a setns+fork child is then reparented to us
 * (child subreaper) and we reap it.  *tstatus: the target's wait status.
 */
static int situ_release(struct ctx *c, struct situ *s, bool agent_exits, int *tstatus)
{
	int rc, st;

	*tstatus = -1;
	if (!agent_exits) {
		rc = agent_call(&s->ag, A_REAP, s->tid, STATE_MS, tstatus);
		if (rc < 0)
			return failf(c, FAIL, "agent could not reap %d: %s", s->tid, strerror(-rc));
		return PASS;
	}
	rc = agent_call(&s->ag, A_EXIT, 0, 0, NULL);
	if (wait_pid_for(s->ag.pid, &st, STATE_MS) != 1)
		return failf(c, FAIL, "agent %d did not exit", s->ag.pid);
	untrack(s->ag.pid);
	if (s->kind == TK_FOREIGN &&
	    wait_pid_for(s->tid, tstatus, STATE_MS) != 1)
		return failf(c, FAIL, "orphaned zombie %d was not reparented to us", s->tid);
	return rc < 0 ? failf(c, SETUP, "agent: %s", strerror(-rc)) : PASS;
}

/*
 * Wait until init sits in its teardown, parked: every other task of the
 * namespace gone but the held zombie, init exiting and asleep, and all of
 * it still so 100 ms later (init may be between the reap loop and the
 * final wait at first).
 */
static int situ_wait_parked(struct ctx *c, struct situ *s, char *where, size_t len)
{
	long long end = now_ms() + STATE_MS;
	struct pstat ps;
	struct scan sc;
	int stable = 0;

	for (;;) {
		if (!read_stat(s->init, 0, &ps) && (ps.flags & PF_EXITING_FLAG) &&
		    strchr("SDI", ps.state) && !scan_ns(&s->ns, &sc) &&
		    sc.total == 2 && task_state(s->tgid, s->tid) == 'Z')
			stable++;
		else
			stable = 0;
		if (stable >= 5)
			break;
		if (now_ms() > end) {
			if (!scan_ns(&s->ns, &sc))
				scan_report(&sc, "in namespace");
			return failf(c, FAIL, "init never parked in its teardown (state %c)",
				     task_state(s->init, 0));
		}
		sleep_us(20000);
	}
	kernel_stack_top(s->init, where, len);
	diag("init %d parked, state %c, kernel stack %s", s->init, ps.state, where);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: tree_wide                                                  */

struct simple_args {
	int notes[2], go[2];
	int nproc, nthreads;
	int reboot_cmd;
	struct nsid home;
};

/* Init that builds nproc children with nthreads threads, then waits. */
static int wide_init(void *arg)
{
	struct simple_args *a = arg;

	if (populate(a->nproc, a->nthreads, a->notes[1], 0))
		return SETUP;
	note_send(a->notes[1], N_INIT, 0);
	wait_byte(a->go[0]);
	return 0;	/* exit_group: the teardown runs in do_exit() */
}

static int tree_wide_round(struct ctx *c, int round, long long *max_ms, int *tasks)
{
	struct simple_args a = { .nproc = 50, .nthreads = 3 };
	struct note notes[64];
	bool by_kill = !(round & 1);
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(wide_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, a.nproc + 1, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 1 + a.nproc * (1 + a.nthreads), &s);
	if (rc)
		return rc;
	*tasks = s.total;

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

static int sc_tree_wide(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = tree_wide_round(c, g_round, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds (init exits / SIGKILLed alternately), %d tasks each (50 procs x 4 threads + init), teardown max %lld ms",
		 c->rounds, tasks, max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: tree_deep                                                  */

#define DEEP_LEN	60
#define DEEP_THREADS_EVERY 4

/* Each link forks the next; every 4th link also runs 2 threads. */
static int deep_init(void *arg)
{
	struct simple_args *a = arg;
	int level = 0;

	while (level < DEEP_LEN) {
		pid_t pid = fork();

		if (pid < 0) {
			note_err(a->notes[1], "fork");
			return SETUP;
		}
		if (pid > 0)
			break;
		level++;
	}
	if (level && level % DEEP_THREADS_EVERY == 0 && start_sleepers(2)) {
		note_err(a->notes[1], "pthread_create");
		return SETUP;
	}
	note_send(a->notes[1], level ? N_TASK : N_INIT, level);
	sleep_forever();
	return 0;
}

static int tree_deep_round(struct ctx *c, long long *max_ms, int *tasks)
{
	struct simple_args a = { 0 };
	struct note notes[DEEP_LEN + 1];
	int want = 1 + DEEP_LEN + 2 * (DEEP_LEN / DEEP_THREADS_EVERY);
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(deep_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, DEEP_LEN + 1, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, want, &s);
	if (rc)
		return rc;
	*tasks = s.total;

	t0 = now_ms();
	kill(init, SIGKILL);
	rc = finish_teardown(c, init, &ns, t0, SIGKILL, 0, &took);
	if (took > *max_ms)
		*max_ms = took;
	return rc;
}

static int sc_tree_deep(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = tree_deep_round(c, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, chain of %d processes below init, %d tasks, init SIGKILLed, teardown max %lld ms",
		 c->rounds, DEEP_LEN, tasks, max_ms);
	return PASS;
}

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

static int sc_stopped(struct ctx *c)
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

/* What the held scenarios measure: shortest hold, slowest release. */
struct held_times {
	long long min_held_ms;		/* init unreapable after the kill */
	long long max_release_ms;	/* release -> init reaped */
};

static void held_times_add(struct held_times *h, long long held, long long release)
{
	if (!h->min_held_ms || held < h->min_held_ms)
		h->min_held_ms = held;
	if (release > h->max_release_ms)
		h->max_release_ms = release;
}

/*
 * The held scenarios' common core: build @s, SIGKILL its init, check that
 * init stays unreapable for HOLD_CHECK_MS, then let the agent go (it reaps
 * its zombie, or exits when @agent_exits).  *@t1 is when the hold ended,
 * *@held how long it lasted; *@status is the held task's wait status.
 */
static int situ_hold_release(struct ctx *c, struct situ *s, bool agent_exits,
			     int *status, long long *t1, long long *held)
{
	long long t0;
	int rc;

	rc = situ_build(c, s);
	if (rc)
		return rc;
	t0 = now_ms();
	kill(s->init, SIGKILL);
	rc = situ_check_held(c, s, HOLD_CHECK_MS);
	if (rc)
		return rc;
	*t1 = now_ms();
	*held = *t1 - t0;
	return situ_release(c, s, agent_exits, status);
}

/* Run c->rounds rounds of a held scenario, collecting their times. */
static int run_held_rounds(struct ctx *c, struct held_times *ht,
			   int (*round_fn)(struct ctx *c, int round, struct held_times *ht))
{
	int rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = round_fn(c, g_round, ht);
		round_end();
		if (rc)
			return rc;
	}
	return PASS;
}

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

static int sc_traced_outside(struct ctx *c)
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

/* ------------------------------------------------------------------ */
/* Scenario: nonleader_init                                             */

enum { NL_THREAD_EXIT, NL_EXIT_GROUP, NL_KILLED, NL_WAYS };
static const char *const nl_way[] = { "thread exit", "exit_group", "SIGKILL" };
#define NL_LEADER_CODE	3
#define NL_THREAD_CODE	4
#define NL_GROUP_CODE	5

struct nl_args {
	int notes[2], go[2];
	int way;
};

static void *nl_worker(void *arg)
{
	struct nl_args *a = arg;

	note_send(a->notes[1], N_TARGET, 0);
	wait_byte(a->go[0]);
	if (a->way == NL_THREAD_EXIT)
		syscall(SYS_exit, NL_THREAD_CODE);
	else if (a->way == NL_EXIT_GROUP)
		syscall(SYS_exit_group, NL_GROUP_CODE);
	sleep_forever();
	return NULL;
}

/* Children first, then a thread; then the leader thread exits alone. */
static int nl_init(void *arg)
{
	struct nl_args *a = arg;

	if (populate(3, 1, a->notes[1], 0))
		return SETUP;
	errno = start_thread(nl_worker, a);
	if (errno) {
		note_err(a->notes[1], "pthread_create");
		return SETUP;
	}
	note_send(a->notes[1], N_INIT, 0);
	syscall(SYS_exit, NL_LEADER_CODE);
	return SETUP;
}

static int nonleader_round(struct ctx *c, int round, long long *max_ms, int *code)
{
	struct nl_args a = { .way = (round - 1) % NL_WAYS };
	struct note notes[8];
	const struct note *w;
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc, st;

	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(nl_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 5, init);
	if (rc)
		return rc;
	w = note_find(notes, 5, N_TARGET, -1);
	if (!w)
		return failf(c, SETUP, "init's thread never reported");
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	if (!wait_state(init, 0, "Z", STATE_MS))
		return failf(c, SETUP, "init's leader thread did not exit");
	if (!wait_state(init, w->tid, "SR", STATE_MS))
		return failf(c, SETUP, "init's thread %d not alive", w->tid);
	/* The leader is a zombie, the init is not done: not reapable yet. */
	if (waitpid(init, &st, WNOHANG) != 0) {
		untrack(init);
		return failf(c, FAIL, "init reapable while its thread %d lives", w->tid);
	}
	rc = expect_tasks(c, &ns, 1 + 1 + 3 * 2, &s);
	if (rc)
		return rc;

	t0 = now_ms();
	if (a.way == NL_KILLED)
		kill(init, SIGKILL);
	else
		send_byte(a.go[1], 'g');
	/*
	 * exit_group() sets the status.  After plain thread exits, some
	 * kernels report the leader's own exit code, others (with upstream's
	 * fix of delay_group_leader->exit_code, as 6.1.0-47 and 6.18 do) the
	 * last thread's: either is right here; the summary says which.
	 */
	if (a.way == NL_KILLED) {
		rc = finish_teardown(c, init, &ns, t0, SIGKILL, 0, &took);
	} else if (a.way == NL_EXIT_GROUP) {
		rc = finish_teardown(c, init, &ns, t0, 0, NL_GROUP_CODE, &took);
	} else {
		rc = finish_teardown(c, init, &ns, t0, -1, 0, &took);
		*code = last_status;
		if (!rc && !(WIFEXITED(last_status) &&
			     (WEXITSTATUS(last_status) == NL_LEADER_CODE ||
			      WEXITSTATUS(last_status) == NL_THREAD_CODE)))
			rc = failf(c, FAIL, "init exited with status 0x%x, expected exit %d (leader's) or %d (last thread's)",
				   last_status, NL_LEADER_CODE, NL_THREAD_CODE);
	}
	if (took > *max_ms)
		*max_ms = took;
	return rc;
}

static int sc_nonleader_init(struct ctx *c)
{
	long long max_ms = 0;
	int rc, code = -1;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = nonleader_round(c, g_round, &max_ms, &code);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, leader exited first (code %d), last init thread ended by %s%s%s; after a thread exit init reported exit %d (%s), teardown max %lld ms",
		 c->rounds, NL_LEADER_CODE, nl_way[0], c->rounds > 1 ? "/" : "",
		 c->rounds > 2 ? "exit_group/SIGKILL" : c->rounds > 1 ? "exit_group" : "",
		 WEXITSTATUS(code), WEXITSTATUS(code) == NL_LEADER_CODE ? "leader's" : "last thread's",
		 max_ms);
	return PASS;
}

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

static int sc_setns_fork_late(struct ctx *c)
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

static int ld(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void st(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void inc(int *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

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

static int sc_setns_fork_race(struct ctx *c)
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

/* ------------------------------------------------------------------ */
/* Scenario: nested                                                     */

#define NEST_DEPTH	4

struct nest_args {
	int notes[2];
	int level;	/* 1 = outermost */
};

/* Init of level k: a few tasks, then the init of level k + 1. */
static int nest_init(void *arg)
{
	struct nest_args *a = arg;

	if (populate(2, 1, a->notes[1], a->level))
		return SETUP;
	if (a->level < NEST_DEPTH) {
		a->level++;
		if (fork_ns_init(nest_init, a, false) < 0) {
			note_err(a->notes[1], "nested pid namespace");
			return SETUP;
		}
		a->level--;
	}
	note_send(a->notes[1], N_INIT, a->level);
	sleep_forever();
	return 0;
}

static int nested_round(struct ctx *c, int round, long long *max_ms, int *tasks)
{
	struct nest_args a = { .level = 1 };
	struct note notes[3 * NEST_DEPTH];
	const struct note *inner;
	bool traced = !(round & 1);
	struct agent ag;
	long long t0, t1, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc, st_;

	if (mkpipe(c, a.notes) || (traced && agent_start(c, &ag)))
		return SETUP;
	init = fork_ns_init(nest_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3 * NEST_DEPTH, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 5 * NEST_DEPTH, &s);
	if (rc)
		return rc;
	for (int d = 0; d < NEST_DEPTH; d++)
		if (s.by_depth[d] != 5)
			return failf(c, SETUP, "level %d holds %d tasks, expected 5", d + 1, s.by_depth[d]);
	*tasks = s.total;
	inner = note_find(notes, 3 * NEST_DEPTH, N_INIT, NEST_DEPTH);
	if (!inner)
		return failf(c, SETUP, "the innermost init never reported");
	if (traced) {
		rc = agent_call(&ag, A_SEIZE_STOP, inner->tid, 0, &st_);
		if (rc < 0)
			return failf(c, SETUP, "ptrace innermost init %d: %s", inner->tid, strerror(-rc));
	}

	t0 = t1 = now_ms();
	kill(init, SIGKILL);
	if (traced) {
		struct situ sv = { .init = init, .tgid = inner->tgid, .tid = inner->tid, .ag = ag };

		rc = situ_check_held(c, &sv, HOLD_CHECK_MS);
		if (rc)
			return rc;
		t1 = now_ms();
		rc = agent_call(&ag, A_REAP, inner->tid, STATE_MS, &st_);
		if (rc < 0)
			return failf(c, FAIL, "tracer could not reap the innermost init: %s", strerror(-rc));
	}
	rc = finish_teardown(c, init, &ns, t1, SIGKILL, 0, &took);
	if (took > *max_ms)
		*max_ms = took;
	if (traced)
		diag("innermost init traced from outside held the outermost %lld ms", t1 - t0);
	return rc;
}

static int sc_nested(struct ctx *c)
{
	long long max_ms = 0;
	int tasks = 0, rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = nested_round(c, g_round, &max_ms, &tasks);
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum),
		 "%d rounds, %d nested namespaces, %d tasks, outermost init SIGKILLed%s, teardown max %lld ms",
		 c->rounds, NEST_DEPTH, tasks,
		 c->rounds > 1 ? " (even rounds: innermost init traced from outside)" : "", max_ms);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: reboot                                                     */

static const struct {
	int cmd;
	int sig;
	const char *name;
} reboot_cmds[] = {
	{ LINUX_REBOOT_CMD_RESTART, SIGHUP, "RESTART" },
	{ LINUX_REBOOT_CMD_POWER_OFF, SIGINT, "POWER_OFF" },
	{ LINUX_REBOOT_CMD_HALT, SIGINT, "HALT" },
};

/* Never reboot the machine: only a child namespace's init may go on. */
static bool in_child_pid_ns(const struct nsid *home)
{
	struct nsid self;

	if (nsid_of_path("/proc/thread-self/ns/pid", &self))
		return false;
	return getpid() == 1 && !nsid_eq(&self, home);
}

static int reboot_init(void *arg)
{
	struct simple_args *a = arg;

	if (populate(a->nproc, a->nthreads, a->notes[1], 0))
		return SETUP;
	note_send(a->notes[1], N_INIT, 0);
	wait_byte(a->go[0]);
	if (!in_child_pid_ns(&a->home)) {
		diag("refusing reboot(2): not the init of a child pid namespace");
		return 99;
	}
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, a->reboot_cmd, NULL);
	diag("reboot(2) returned: %m");
	return 100;
}

static int reboot_round(struct ctx *c, int round, char *seen, size_t len)
{
	struct simple_args a = { .nproc = 2, .nthreads = 2 };
	int k = (round - 1) % 3;
	struct note notes[4];
	long long t0, took;
	struct nsid ns;
	struct scan s;
	pid_t init;
	int rc;

	a.reboot_cmd = reboot_cmds[k].cmd;
	if (nsid_of_path("/proc/thread-self/ns/pid", &a.home))
		return failf(c, SETUP, "stat /proc/thread-self/ns/pid: %m");
	if (mkpipe(c, a.notes) || mkpipe(c, a.go))
		return SETUP;
	init = fork_ns_init(reboot_init, &a, true);
	if (init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, a.notes[0], notes, 3, init);
	if (rc)
		return rc;
	if (nsid_of_pid(init, &ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", init);
	rc = expect_tasks(c, &ns, 1 + 2 * 3, &s);
	if (rc)
		return rc;

	t0 = now_ms();
	send_byte(a.go[1], 'g');
	rc = finish_teardown(c, init, &ns, t0, reboot_cmds[k].sig, 0, &took);
	if (!rc)
		snprintf(seen + strlen(seen), len - strlen(seen), "%s%s->SIG%s",
			 *seen ? " " : "", reboot_cmds[k].name, sigabbrev_np(reboot_cmds[k].sig));
	return rc;
}

static int sc_reboot(struct ctx *c)
{
	char seen[128] = "";
	int rc;

	for (g_round = 1; g_round <= c->rounds; g_round++) {
		rc = reboot_round(c, g_round, seen, sizeof(seen));
		round_end();
		if (rc)
			return rc;
	}
	snprintf(c->sum, sizeof(c->sum), "%d rounds, init reboot(2) seen by its parent as: %s",
		 c->rounds, seen);
	return PASS;
}

/* ------------------------------------------------------------------ */
/* Scenario: freezer                                                    */

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* 0 or the errno of the write (what the kernel's store returned). */
static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? errno : 0;
	close(fd);
	return err;
}

/* CPU time (utime + stime, clock ticks) of the whole process. */
static long long cpu_ticks(pid_t pid)
{
	struct pstat ps;

	return read_stat(pid, 0, &ps) ? -1 : (long long)(ps.utime + ps.stime);
}

/* Percent of one CPU that pid used over ms of wall time. */
static int cpu_percent(pid_t pid, int ms)
{
	long long c0 = cpu_ticks(pid), t0 = now_us(), c1, t1;

	sleep_us(ms * 1000L);
	c1 = cpu_ticks(pid);
	t1 = now_us();
	if (c0 < 0 || c1 < 0)
		return -1;
	return (int)((c1 - c0) * 100 * 1000000LL / sysconf(_SC_CLK_TCK) / (t1 - t0));
}

static int freezer_skip(struct ctx *c, char *why, size_t len)
{
	char buf[256];

	if (read_file("/sys/power/state", buf, sizeof(buf)) || !strstr(buf, "freeze")) {
		snprintf(why, len, "no \"freeze\" in /sys/power/state");
		return 1;
	}
	if (read_file("/sys/power/pm_test", buf, sizeof(buf)) || !strstr(buf, "freezer")) {
		snprintf(why, len, "no /sys/power/pm_test with \"freezer\" (CONFIG_PM_DEBUG)");
		return 1;
	}
	if (access("/sys/power/pm_freeze_timeout", W_OK)) {
		snprintf(why, len, "no writable /sys/power/pm_freeze_timeout");
		return 1;
	}
	(void)c;
	return 0;
}

static int sc_freezer(struct ctx *c)
{
	struct situ s = { .kind = TK_THREAD_EXITED, .extra = 2 };
	char why[128], where[256], timeout[32];
	int rc, rc2, err, before, after, tst;
	long long t0, freeze_ms;

	if (freezer_skip(c, why, sizeof(why))) {
		snprintf(c->why, sizeof(c->why), "%s", why);
		return SKIP;
	}
	rc = situ_build(c, &s);
	if (rc)
		return rc;
	kill(s.init, SIGKILL);
	rc = situ_wait_parked(c, &s, where, sizeof(where));
	if (rc)
		return rc;
	before = cpu_percent(s.init, 1000);

	if (read_file("/sys/power/pm_freeze_timeout", timeout, sizeof(timeout)))
		return failf(c, SETUP, "read pm_freeze_timeout: %m");
	err = write_file("/sys/power/pm_freeze_timeout", "2000");
	if (!err)
		err = write_file("/sys/power/pm_test", "freezer");
	if (err) {
		write_file("/sys/power/pm_freeze_timeout", timeout);
		return failf(c, SETUP, "cannot set up the freezer test: %s", strerror(err));
	}
	t0 = now_ms();
	err = write_file("/sys/power/state", "freeze");
	freeze_ms = now_ms() - t0;
	write_file("/sys/power/pm_test", "none");
	write_file("/sys/power/pm_freeze_timeout", timeout);
	after = cpu_percent(s.init, 2000);
	diag("freeze: %s after %lld ms; init cpu %d%% before, %d%% after; parked in %s",
	     err ? strerror(err) : "ok", freeze_ms, before, after, where);
	if (err)
		rc = failf(c, FAIL, "freeze failed (%s after %lld ms), init cpu %d%% after thaw (%d%% before), parked in %s",
			   strerror(err), freeze_ms, after, before, wait_stage(where));
	else if (after > 30)
		rc = failf(c, FAIL, "freeze ok (%lld ms) but init spins at %d%% cpu after thaw (%d%% before), parked in %s",
			   freeze_ms, after, before, wait_stage(where));

	/* Pass or fail: release, and the teardown must still end well. */
	rc2 = situ_release(c, &s, false, &tst);
	if (!rc2)
		rc2 = finish_teardown(c, s.init, &s.ns, now_ms(), SIGKILL, 0, NULL);
	if (rc)
		return rc;
	if (rc2)
		return rc2;
	snprintf(c->sum, sizeof(c->sum),
		 "freeze ok (%lld ms, pm_test freezer), init parked in its %s used %d%% cpu before, %d%% after thaw",
		 freeze_ms, wait_stage(where), before, after);
	return PASS;
}

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

static char g_exe[PATH_MAX];	/* our own binary: the exec loop's image, the core sink */
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
static int execloop_main(int fd)
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

static int sc_exec_race(struct ctx *c)
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
static void core_restore(void)
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
static int coresink_main(const char *dir)
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

static int sc_coredump_race(struct ctx *c)
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

static int do_hold(const char *kind, const char *fifo_path)
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

/* ------------------------------------------------------------------ */
/* Driver                                                               */

struct scenario {
	const char *name;
	int (*run)(struct ctx *c);
	int rounds;	/* default */
};

static const struct scenario scenarios[] = {
	{ "tree_wide", sc_tree_wide, 2 },
	{ "tree_deep", sc_tree_deep, 2 },
	{ "stopped", sc_stopped, 2 },
	{ "traced_outside", sc_traced_outside, 6 },
	{ "nonleader_init", sc_nonleader_init, 3 },
	{ "setns_fork_late", sc_setns_fork_late, 2 },
	{ "setns_fork_race", sc_setns_fork_race, 30 },
	{ "nested", sc_nested, 2 },
	{ "reboot", sc_reboot, 3 },
	{ "exec_race", sc_exec_race, 40 },
	{ "coredump_race", sc_coredump_race, 20 },
	{ "freezer", sc_freezer, 1 },
};

#define N_SCENARIOS ((int)(sizeof(scenarios) / sizeof(scenarios[0])))

static int run_one(const struct scenario *sc, int rounds)
{
	struct ctx c = { .name = sc->name, .rounds = rounds > 0 ? rounds : sc->rounds };
	long long t0 = now_ms();
	int rc;

	g_name = sc->name;
	g_round = 0;
	watchdog_arm(300 + 20 * c.rounds);
	rc = sc->run(&c);
	alarm(0);
	g_round = 0;
	if (round_end() && rc == PASS)
		rc = failf(&c, FAIL, "children left that could not be reaped");
	if (rc == PASS)
		printf("ok %s %s; %.1f s\n", sc->name, c.sum, (now_ms() - t0) / 1000.0);
	else if (rc == SKIP)
		printf("skip %s %s\n", sc->name, c.why);
	else
		printf("fail %s %s%s\n", sc->name, rc == SETUP ? "setup: " : "",
		       c.why[0] ? c.why : "unknown failure");
	fflush(stdout);
	return rc;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: pgtest list\n"
		"       pgtest run NAME|all [-n ROUNDS]\n"
		"       pgtest hold [--kind zombie|stopped|foreign] [--release-fifo PATH]\n"
		"       (internal: pgtest execloop FD, pgtest coresink DIR)\n");
	return SETUP;
}

static int cmd_run(int argc, char **argv)
{
	const char *name = NULL;
	int rounds = 0, worst = PASS;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			rounds = atoi(argv[++i]);
			if (rounds <= 0)
				return usage();
		} else if (!name) {
			name = argv[i];
		} else {
			return usage();
		}
	}
	if (!name)
		return usage();
	for (int i = 0; i < N_SCENARIOS; i++) {
		const struct scenario *sc = &scenarios[i];
		int rc;

		if (!strcmp(name, "all")) {
			if (!strcmp(sc->name, "freezer"))
				continue;
			rc = run_one(sc, rounds);
			if (rc != SKIP && rc > worst)
				worst = rc;
		} else if (!strcmp(name, sc->name)) {
			return run_one(sc, rounds);
		}
	}
	if (strcmp(name, "all")) {
		fprintf(stderr, "pgtest: unknown scenario %s (see pgtest list)\n", name);
		return SETUP;
	}
	return worst;
}

static int cmd_hold(int argc, char **argv)
{
	const char *kind = "zombie", *fifo = NULL;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind = argv[++i];
		else if (!strcmp(argv[i], "--release-fifo") && i + 1 < argc)
			fifo = argv[++i];
		else
			return usage();
	}
	return do_hold(kind, fifo);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	if (argc < 2)
		return usage();
	if (readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1) < 0)
		g_exe[0] = 0;
	/* Helpers run by ourselves (execloop) or by the kernel (coresink). */
	if (!strcmp(argv[1], "execloop") && argc == 3)
		return execloop_main(atoi(argv[2]));
	if (!strcmp(argv[1], "coresink") && argc == 3)
		return coresink_main(argv[2]);
	if (!strcmp(argv[1], "list")) {
		for (int i = 0; i < N_SCENARIOS; i++)
			printf("%s\n", scenarios[i].name);
		return PASS;
	}
	/* Orphans of our helpers come back to us, to be reaped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		fprintf(stderr, "pgtest: PR_SET_CHILD_SUBREAPER: %m\n");
		return SETUP;
	}
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGALRM, &sa, NULL);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 2, argv + 2);
	return usage();
}
