// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest: PID namespace teardown scenarios, run inside the test guests.
 *
 *   pgtest list                      scenario names, one per line
 *   pgtest run NAME [-n ROUNDS]      exit 0 pass, 1 fail, 2 usage, 3 skip
 *   pgtest hold --kind KIND --release-fifo PATH
 *
 * Each scenario builds a namespace of a known shape, tears it down (init
 * exits or is SIGKILLed from outside), reaps init from outside, and then
 * checks THE INVARIANT: once init is reaped, no task (thread or process,
 * zombie included) of the namespace or of any namespace nested in it is
 * left.  Membership is decided from /proc/PID/task/TID/ns/pid, walking up
 * with NS_GET_PARENT.  On success one line "ok NAME summary" goes to
 * stdout, on failure "fail NAME reason"; diagnostics go to stderr.
 *
 * What holds a namespace open (hold --kind):
 *   zombie   a task traced from outside: SIGKILL makes it a zombie only its
 *            tracer may reap, and init waits for it in its reap loop;
 *   foreign  a task forked into the namespace by an outside process
 *            (setns+fork): its zombie belongs to that outside parent, and
 *            init waits for its pid in the final (unhash) wait;
 *   stopped  like zombie, but the tracee sat ptrace-stopped when the
 *            teardown began (SIGKILL still ends that stop).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KIDS 64

static const char *scen = "pgtest";
static pid_t cleanup_pids[MAX_KIDS];
static int n_cleanup;

static void diag(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pgtest: %s: ", scen);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void kill_all(void)
{
	for (int i = 0; i < n_cleanup; i++)
		if (cleanup_pids[i] > 0)
			kill(cleanup_pids[i], SIGKILL);
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	printf("fail %s ", scen);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	kill_all();
	exit(1);
}

static void on_alarm(int sig)
{
	(void)sig;
	fail("timed out");
}

static void remember(pid_t pid)
{
	if (n_cleanup < MAX_KIDS)
		cleanup_pids[n_cleanup++] = pid;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* --- pipes as one-shot events ------------------------------------------ */

static void xpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC))
		fail("pipe: %s", strerror(errno));
}

static void put_int(int fd, int v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		_exit(99);
}

/* Read one int; -1 on EOF (the writer died). */
static int get_int(int fd)
{
	int v;
	ssize_t n;

	do
		n = read(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(v) ? v : -1;
}

/* --- processes ---------------------------------------------------------- */

static pid_t xfork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	return pid;
}

/* fork() whose child is the init of a new pid namespace. */
static pid_t fork_ns_init(void)
{
	pid_t pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		fail("clone(CLONE_NEWPID): %s", strerror(errno));
	return pid;
}

/* Our pid as the root namespace sees it (/proc is the root's mount). */
static int outer_pid(void)
{
	char buf[32] = "";

	if (readlink("/proc/self", buf, sizeof(buf) - 1) < 0)
		return -1;
	return atoi(buf);
}

static void *sleeper_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void add_threads(int n)
{
	pthread_t t;

	for (int i = 0; i < n; i++)
		if (pthread_create(&t, NULL, sleeper_thread, NULL))
			_exit(98);
}

/* A child that sleeps forever (with @threads extra threads), after saying
 * so on @ready. */
static pid_t spawn_sleeper(int threads, int ready)
{
	pid_t pid = fork();

	if (pid == 0) {
		add_threads(threads);
		if (ready >= 0)
			put_int(ready, outer_pid());
		for (;;)
			pause();
	}
	return pid;
}

/* waitpid with a deadline; returns pid, 0 on timeout. */
static pid_t wait_deadline(pid_t pid, int *status, int flags, long ms)
{
	long end = now_ms() + ms;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, flags | WNOHANG);
		if (r != 0)
			return r;
		if (now_ms() > end)
			return 0;
		sleep_ms(5);
	}
}

/* For @ms, init must not be reapable: something of its namespace lives. */
static void expect_not_reapable(pid_t init, long ms)
{
	int status;
	pid_t r = wait_deadline(init, &status, 0, ms);

	if (r != 0) {
		diag("init (pid %d) reaped after %ld ms of hold", init, ms);
		fail("init was reaped while a task of its namespace was still held");
	}
}

static void reap_init(pid_t init, int *status)
{
	if (wait_deadline(init, status, 0, 60000) != init)
		fail("init not reapable within 60 s");
}

/* Process state letter from /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return 0;
	return p[2];
}

static int wait_state(pid_t pid, char want, long ms)
{
	long end = now_ms() + ms;

	while (proc_state(pid) != want) {
		if (now_ms() > end)
			return 0;
		sleep_ms(5);
	}
	return 1;
}

/* --- the invariant -------------------------------------------------------- */

static ino_t ns_inode(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &st))
		fail("stat %s: %s", path, strerror(errno));
	return st.st_ino;
}

/* Is the task behind @path (a ns/pid link) in @target or below it? */
static int in_ns_tree(const char *path, ino_t target)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), up;

	while (fd >= 0) {
		if (fstat(fd, &st) == 0 && st.st_ino == target) {
			close(fd);
			return 1;
		}
		up = ioctl(fd, NS_GET_PARENT);
		close(fd);
		fd = up;
	}
	return 0;
}

static int all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Count the tasks of @target's tree; describe the first in @why. */
static int ns_tree_tasks(ino_t target, char *why, size_t len)
{
	DIR *procs = opendir("/proc"), *tasks;
	struct dirent *p, *t;
	char path[600];
	int n = 0;

	if (!procs)
		fail("opendir /proc");
	while ((p = readdir(procs))) {
		if (!all_digits(p->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task", p->d_name);
		tasks = opendir(path);
		if (!tasks)
			continue;
		while ((t = readdir(tasks))) {
			if (!all_digits(t->d_name))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/task/%s/ns/pid",
				 p->d_name, t->d_name);
			if (!in_ns_tree(path, target))
				continue;
			if (!n++ && why)
				snprintf(why, len, "tid %s (process %s, state %c)",
					 t->d_name, p->d_name, proc_state(atoi(t->d_name)));
		}
		closedir(tasks);
	}
	closedir(procs);
	return n;
}

static void check_invariant(ino_t target)
{
	char why[128];
	int n = ns_tree_tasks(target, why, sizeof(why));

	if (n)
		fail("init reaped but %d task(s) of its namespace remain, e.g. %s", n, why);
}

/* --- an outside tracer --------------------------------------------------- */

/* Fork a tracer that attaches to @victim (optionally leaving it stopped)
 * and then obeys @cmd: 'r' reap it and exit, 'x' exit without reaping. */
static pid_t spawn_tracer(pid_t victim, int leave_stopped, int cmd)
{
	int ready[2], status;
	pid_t pid;

	xpipe(ready);
	pid = xfork();
	if (pid == 0) {
		if (ptrace(PTRACE_SEIZE, victim, 0, 0) ||
		    ptrace(PTRACE_INTERRUPT, victim, 0, 0) ||
		    waitpid(victim, &status, __WALL) != victim)
			_exit(97);
		if (!leave_stopped)
			ptrace(PTRACE_CONT, victim, 0, 0);
		put_int(ready[1], 1);
		if (get_int(cmd) == 'r') {
			while (waitpid(victim, &status, __WALL) == victim &&
			       !WIFEXITED(status) && !WIFSIGNALED(status))
				ptrace(PTRACE_CONT, victim, 0, 0);
		}
		_exit(0);
	}
	remember(pid);
	close(ready[1]);
	if (get_int(ready[0]) != 1)
		fail("tracer could not attach");
	close(ready[0]);
	return pid;
}

/* --- setns + fork from outside ----------------------------------------- */

/* Fork an outside process that forks a child into @init's namespace, tells
 * us the child's pid, and reaps it only when told ('r' on @cmd). */
static pid_t spawn_foreign_parent(pid_t init, int cmd, pid_t *child)
{
	int ready[2], fd;
	char path[64];
	pid_t pid, c;

	xpipe(ready);
	pid = xfork();
	if (pid == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWPID))
			_exit(96);
		c = fork();
		if (c == 0)
			for (;;)
				pause();
		put_int(ready[1], c);
		get_int(cmd);
		waitpid(c, NULL, __WALL);
		_exit(0);
	}
	remember(pid);
	close(ready[1]);
	*child = get_int(ready[0]);
	close(ready[0]);
	if (*child <= 0)
		fail("setns+fork into the namespace failed");
	remember(*child);
	return pid;
}

/* --- scenarios ---------------------------------------------------------- */

/* A namespace init that runs @build, reports ready, then waits to be killed
 * or (when @cmd gets 'e') exits by itself. */
static pid_t start_ns(void (*build)(int ready, int arg), int arg, int *cmd_w)
{
	int ready[2], cmd[2];
	pid_t init;

	xpipe(ready);
	xpipe(cmd);
	init = fork_ns_init();
	if (init == 0) {
		close(ready[0]);
		close(cmd[1]);
		build(ready[1], arg);
		put_int(ready[1], 0);
		if (get_int(cmd[0]) == 'e')
			_exit(0);
		for (;;)
			pause();
	}
	remember(init);
	close(ready[1]);
	close(cmd[0]);
	if (get_int(ready[0]) != 0)
		fail("namespace init failed to build its tree");
	close(ready[0]);
	*cmd_w = cmd[1];
	return init;
}

static void end_ns(pid_t init, int cmd, int by_exit)
{
	if (by_exit)
		put_int(cmd, 'e');
	else
		kill(init, SIGKILL);
	close(cmd);
}

/* Children with threads; each says it is ready. */
static void build_wide(int ready, int n)
{
	int r[2];

	if (pipe(r))
		_exit(95);
	for (int i = 0; i < n; i++)
		if (spawn_sleeper(3, r[1]) < 0)
			_exit(94);
	for (int i = 0; i < n; i++)
		if (get_int(r[0]) <= 0)
			_exit(93);
	close(r[0]);
	close(r[1]);
	(void)ready;
}

static int scen_tree_wide(int rounds)
{
	int cmd, tasks = 0;

	for (int i = 0; i < rounds; i++) {
		pid_t init = start_ns(build_wide, 50, &cmd);
		ino_t ino = ns_inode(init);
		int status;

		tasks = ns_tree_tasks(ino, NULL, 0);
		end_ns(init, cmd, i % 2);
		reap_init(init, &status);
		check_invariant(ino);
	}
	printf("ok %s %d rounds, %d tasks each (init exit and SIGKILL)\n", scen, rounds, tasks);
	return 0;
}

/* A chain: each process forks the next; every tenth has threads. */
static void build_deep(int ready, int depth)
{
	int r[2];
	pid_t pid;

	if (pipe(r))
		_exit(95);
	for (int level = 0; level < depth; level++) {
		pid = fork();
		if (pid < 0)
			_exit(94);
		if (pid > 0) {
			if (level == 0) {
				/* init: wait for the bottom of the chain */
				close(r[1]);
				if (get_int(r[0]) < 0)
					_exit(93);
				close(r[0]);
				return;
			}
			for (;;)
				pause();
		}
		if (level % 10 == 9)
			add_threads(2);
	}
	put_int(r[1], 1);
	for (;;)
		pause();
	(void)ready;
}

static int scen_tree_deep(int rounds)
{
	int cmd, tasks = 0;

	for (int i = 0; i < rounds; i++) {
		pid_t init = start_ns(build_deep, 60, &cmd);
		ino_t ino = ns_inode(init);
		int status;

		tasks = ns_tree_tasks(ino, NULL, 0);
		end_ns(init, cmd, i % 2);
		reap_init(init, &status);
		check_invariant(ino);
	}
	printf("ok %s %d rounds, chain of %d tasks\n", scen, rounds, tasks);
	return 0;
}

/* Stopped children, and children ptrace-stopped by a tracer inside. */
static void build_stopped(int ready, int n)
{
	pid_t kids[16];
	int r[2], status;

	if (pipe(r))
		_exit(95);
	for (int i = 0; i < n; i++)
		kids[i] = spawn_sleeper(i % 2, -1);
	for (int i = 0; i < n / 2; i++) {
		kill(kids[i], SIGSTOP);
		if (waitpid(kids[i], &status, WUNTRACED) != kids[i])
			_exit(89);
	}
	if (fork() == 0) {
		/* the tracer, itself inside the namespace */
		for (int i = n / 2; i < n; i++) {
			if (ptrace(PTRACE_SEIZE, kids[i], 0, 0) ||
			    ptrace(PTRACE_INTERRUPT, kids[i], 0, 0))
				_exit(92);
			waitpid(kids[i], &status, __WALL);
		}
		put_int(r[1], 1);
		for (;;)
			pause();
	}
	if (get_int(r[0]) != 1)
		_exit(91);
	close(r[0]);
	close(r[1]);
	(void)ready;
}

static int scen_stopped(int rounds)
{
	int cmd;

	for (int i = 0; i < rounds; i++) {
		int status;
		pid_t init;
		ino_t ino;

		init = start_ns(build_stopped, 8, &cmd);
		ino = ns_inode(init);
		end_ns(init, cmd, i % 2);
		reap_init(init, &status);
		check_invariant(ino);
	}
	printf("ok %s %d rounds: 4 SIGSTOPped, 4 ptrace-stopped by a tracer inside\n", scen, rounds);
	return 0;
}

/* One sleeper that reports its outer pid to the outside (through init). */
static void build_one(int ready, int threads)
{
	int r[2];

	if (pipe(r))
		_exit(95);
	spawn_sleeper(threads, r[1]);
	put_int(ready, get_int(r[0]));
}

static pid_t start_ns_with_victim(int *cmd, pid_t *victim)
{
	int ready[2], c[2];
	pid_t init;

	xpipe(ready);
	xpipe(c);
	init = fork_ns_init();
	if (init == 0) {
		build_one(ready[1], 1);
		put_int(ready[1], 0);
		if (get_int(c[0]) == 'e')
			_exit(0);
		for (;;)
			pause();
	}
	remember(init);
	close(ready[1]);
	close(c[0]);
	*victim = get_int(ready[0]);
	if (*victim <= 0 || get_int(ready[0]) != 0)
		fail("namespace init failed to start its victim");
	remember(*victim);
	close(ready[0]);
	*cmd = c[1];
	return init;
}

static int scen_traced_outside(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		int cmd, tcmd[2], status;
		pid_t init, victim, tracer;
		ino_t ino;

		init = start_ns_with_victim(&cmd, &victim);
		ino = ns_inode(init);
		xpipe(tcmd);
		tracer = spawn_tracer(victim, 0, tcmd[0]);
		end_ns(init, cmd, 0);
		if (!wait_state(victim, 'Z', 10000))
			fail("traced task did not die");
		expect_not_reapable(init, 1000);
		put_int(tcmd[1], i % 2 ? 'r' : 'x');
		waitpid(tracer, NULL, 0);
		reap_init(init, &status);
		check_invariant(ino);
		close(tcmd[0]);
		close(tcmd[1]);
	}
	printf("ok %s %d rounds: init held 1 s by a zombie traced from outside (tracer reaps / exits)\n",
	       scen, rounds);
	return 0;
}

/* init's leader thread exits alone; a non-leader thread is init's last. */
static void *last_thread(void *arg)
{
	int fd = *(int *)arg;

	get_int(fd);	/* until the outside says go */
	syscall(SYS_exit, 0);
	return NULL;
}

static int scen_nonleader_init(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		int go[2], fcmd[2], ready[2], status;
		pid_t init, child, fparent;
		ino_t ino;

		xpipe(go);
		xpipe(ready);
		xpipe(fcmd);
		init = fork_ns_init();
		if (init == 0) {
			static int gofd;
			pthread_t t;

			close(go[1]);
			gofd = go[0];
			spawn_sleeper(1, -1);
			spawn_sleeper(0, -1);
			if (pthread_create(&t, NULL, last_thread, &gofd))
				_exit(90);
			put_int(ready[1], 1);
			syscall(SYS_exit, 0);	/* the leader alone */
		}
		remember(init);
		close(go[0]);
		close(ready[1]);
		if (get_int(ready[0]) != 1)
			fail("init did not start");
		ino = ns_inode(init);
		/* the leader is gone: only the thread remains alive */
		sleep_ms(100);
		/* hold the final wait with a foreign zombie, so init_pids matters */
		fparent = spawn_foreign_parent(init, fcmd[0], &child);
		put_int(go[1], 1);	/* the last thread exits */
		close(go[1]);
		if (!wait_state(child, 'Z', 10000))
			fail("foreign child did not die");
		expect_not_reapable(init, 500);
		put_int(fcmd[1], 'r');
		waitpid(fparent, NULL, 0);
		reap_init(init, &status);
		check_invariant(ino);
		close(ready[0]);
		close(fcmd[0]);
		close(fcmd[1]);
	}
	printf("ok %s %d rounds: last thread of init not the leader, final wait held 0.5 s\n",
	       scen, rounds);
	return 0;
}

static int scen_setns_fork_late(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		int cmd, fcmd[2], status;
		pid_t init, child, fparent;
		ino_t ino;

		init = start_ns(build_wide, 2, &cmd);
		ino = ns_inode(init);
		xpipe(fcmd);
		fparent = spawn_foreign_parent(init, fcmd[0], &child);
		end_ns(init, cmd, i % 2);
		if (!wait_state(child, 'Z', 10000))
			fail("setns+fork child did not die");
		expect_not_reapable(init, 1000);
		put_int(fcmd[1], 'r');
		waitpid(fparent, NULL, 0);
		reap_init(init, &status);
		check_invariant(ino);
		close(fcmd[0]);
		close(fcmd[1]);
	}
	printf("ok %s %d rounds: init held 1 s by a foreign-parented zombie\n", scen, rounds);
	return 0;
}

/* Outside forkers hammer setns+fork while init is killed. */
static pid_t spawn_forker(pid_t init, int report)
{
	pid_t pid = xfork(), c;
	char path[64];
	int fd, ok = 0, enomem = 0, escaped = 0;

	if (pid)
		return pid;
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	fd = open(path, O_RDONLY);
	if (fd < 0 || setns(fd, CLONE_NEWPID))
		_exit(89);
	put_int(report, -1);	/* started */
	while (enomem < 20) {
		c = fork();
		if (c == 0)
			_exit(0);
		if (c > 0) {
			waitpid(c, NULL, 0);
			ok++;
			escaped += !!enomem;	/* into a namespace already closed */
		} else if (errno == ENOMEM) {
			enomem++;
		}
	}
	put_int(report, escaped ? -2 : ok);
	_exit(0);
}

static int scen_setns_fork_race(int rounds)
{
	long forks = 0;

	for (int i = 0; i < rounds; i++) {
		int cmd, rep[2], status, n;
		pid_t init, f[2];
		ino_t ino;

		init = start_ns(build_wide, 2, &cmd);
		ino = ns_inode(init);
		xpipe(rep);
		for (int k = 0; k < 2; k++) {
			f[k] = spawn_forker(init, rep[1]);
			remember(f[k]);
		}
		for (int k = 0; k < 2; k++)
			if (get_int(rep[0]) != -1)
				fail("forker could not enter the namespace");
		sleep_ms(5 + (i * 7) % 40);
		end_ns(init, cmd, i % 2);
		reap_init(init, &status);
		check_invariant(ino);
		for (int k = 0; k < 2; k++) {
			n = get_int(rep[0]);
			if (n == -2)
				fail("a fork succeeded after the namespace was closed");
			if (n < 0)
				fail("forker died");
			forks += n;
			waitpid(f[k], NULL, 0);
		}
		/* the namespace is dead: a fork into it must fail now */
		close(rep[0]);
		close(rep[1]);
	}
	printf("ok %s %d rounds, %ld forks into dying namespaces, none escaped\n",
	       scen, rounds, forks);
	return 0;
}

/* Nested namespaces: each level's init starts the next level. */
static void build_nested(int ready, int depth)
{
	int r[2], status;
	pid_t sub;

	spawn_sleeper(1, -1);
	spawn_sleeper(0, -1);
	if (depth <= 1) {
		put_int(ready, outer_pid());	/* innermost init */
		return;
	}
	if (pipe(r))
		_exit(95);
	sub = fork_ns_init();
	if (sub == 0) {
		close(r[0]);
		build_nested(r[1], depth - 1);
		for (;;)
			pause();
	}
	close(r[1]);
	put_int(ready, get_int(r[0]));
	(void)status;
}

static pid_t start_nested(int depth, int *cmd, pid_t *innermost)
{
	int ready[2], c[2];
	pid_t init;

	xpipe(ready);
	xpipe(c);
	init = fork_ns_init();
	if (init == 0) {
		build_nested(ready[1], depth);
		put_int(ready[1], 0);
		get_int(c[0]);
		for (;;)
			pause();
	}
	remember(init);
	close(ready[1]);
	close(c[0]);
	*innermost = get_int(ready[0]);
	if (*innermost <= 0 || get_int(ready[0]) != 0)
		fail("nested namespaces not built");
	close(ready[0]);
	*cmd = c[1];
	return init;
}

static int scen_nested(int rounds)
{
	int depth = 5, tasks = 0;

	for (int i = 0; i < rounds; i++) {
		int cmd, tcmd[2], status;
		pid_t init, inner, tracer = 0;
		ino_t ino;

		init = start_nested(depth, &cmd, &inner);
		ino = ns_inode(init);
		tasks = ns_tree_tasks(ino, NULL, 0);
		xpipe(tcmd);
		if (i % 2)
			tracer = spawn_tracer(inner, 0, tcmd[0]);
		end_ns(init, cmd, 0);
		if (tracer) {
			if (!wait_state(inner, 'Z', 10000))
				fail("traced innermost init did not die");
			expect_not_reapable(init, 500);
			put_int(tcmd[1], 'r');
			waitpid(tracer, NULL, 0);
		}
		reap_init(init, &status);
		check_invariant(ino);
		close(tcmd[0]);
		close(tcmd[1]);
	}
	printf("ok %s %d rounds, %d levels, %d tasks (odd rounds: innermost init traced from outside)\n",
	       scen, rounds, depth, tasks);
	return 0;
}

static int scen_reboot(int rounds)
{
	static const struct { int cmd, sig; const char *name; } c[] = {
		{ LINUX_REBOOT_CMD_RESTART, SIGHUP, "RESTART" },
		{ LINUX_REBOOT_CMD_POWER_OFF, SIGINT, "POWER_OFF" },
		{ LINUX_REBOOT_CMD_HALT, SIGINT, "HALT" },
	};

	for (int i = 0; i < rounds; i++) {
		for (unsigned int k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
			int ready[2], status;
			pid_t init;
			ino_t ino;

			xpipe(ready);
			init = fork_ns_init();
			if (init == 0) {
				spawn_sleeper(1, -1);
				spawn_sleeper(0, -1);
				put_int(ready[1], 1);
				syscall(SYS_reboot, LINUX_REBOOT_MAGIC1,
					LINUX_REBOOT_MAGIC2, c[k].cmd, NULL);
				_exit(88);	/* reboot() returned */
			}
			remember(init);
			close(ready[1]);
			ino = ns_inode(init);
			get_int(ready[0]);
			close(ready[0]);
			reap_init(init, &status);
			if (!WIFSIGNALED(status) || WTERMSIG(status) != c[k].sig)
				fail("reboot(%s): init ended with status 0x%x, want signal %d",
				     c[k].name, status, c[k].sig);
			check_invariant(ino);
		}
	}
	printf("ok %s %d rounds: RESTART->SIGHUP, POWER_OFF->SIGINT, HALT->SIGINT\n", scen, rounds);
	return 0;
}

/* --- holding a teardown open -------------------------------------------- */

struct held {
	pid_t init, holder, keeper;	/* keeper: tracer or foreign parent */
	ino_t ino;
	int cmd;			/* write 'r' to let the holder go */
};

static void hold_start(const char *kind, struct held *h)
{
	int c[2], nscmd;

	xpipe(c);
	h->cmd = c[1];
	if (!strcmp(kind, "foreign")) {
		h->init = start_ns(build_wide, 2, &nscmd);
		h->keeper = spawn_foreign_parent(h->init, c[0], &h->holder);
	} else if (!strcmp(kind, "zombie") || !strcmp(kind, "stopped")) {
		h->init = start_ns_with_victim(&nscmd, &h->holder);
		h->keeper = spawn_tracer(h->holder, !strcmp(kind, "stopped"), c[0]);
	} else {
		fail("unknown hold kind %s", kind);
	}
	close(c[0]);
	h->ino = ns_inode(h->init);
	end_ns(h->init, nscmd, 0);
	if (!wait_state(h->holder, 'Z', 10000))
		fail("holder did not die");
	/* let init settle into its wait */
	sleep_ms(200);
}

static void hold_release(struct held *h)
{
	int status;

	put_int(h->cmd, 'r');
	close(h->cmd);
	waitpid(h->keeper, NULL, 0);
	reap_init(h->init, &status);
	check_invariant(h->ino);
}

static int cmd_hold(const char *kind, const char *fifo)
{
	struct held h;
	char buf[16];
	int fd;

	scen = "hold";
	hold_start(kind, &h);
	printf("held %d %lu %d %d\n", h.init, (unsigned long)h.ino, h.keeper, h.holder);
	fflush(stdout);
	alarm(0);	/* the caller decides how long */
	fd = open(fifo, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
		fail("cannot read %s", fifo);
	alarm(120);
	hold_release(&h);
	printf("ok hold %s: init reaped after release, nothing of its namespace left\n", kind);
	return 0;
}

/* --- freezer ------------------------------------------------------------- */

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	/* after ") ": state(3) ... utime is field 14, stime 15 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return ut + st;
}

static int scen_freezer(int rounds)
{
	long t0, t1, hz = sysconf(_SC_CLK_TCK);
	struct held h;
	int err, pct;

	(void)rounds;
	if (access("/sys/power/pm_test", W_OK) || access("/sys/power/state", W_OK)) {
		printf("skip freezer no /sys/power/pm_test or state\n");
		return 3;
	}
	hold_start("foreign", &h);
	write_file("/sys/power/pm_freeze_timeout", "2000");
	write_file("/sys/power/pm_test", "freezer");
	err = write_file("/sys/power/state", "freeze");
	write_file("/sys/power/pm_test", "none");
	write_file("/sys/power/pm_freeze_timeout", "20000");
	t0 = cpu_ticks(h.init);
	sleep_ms(2000);
	t1 = cpu_ticks(h.init);
	pct = (int)((t1 - t0) * 100 / (2 * hz));
	hold_release(&h);
	if (err || pct > 30)
		fail("freeze %s; reaper in its final wait used %d%% CPU afterwards",
		     err ? strerror(-err) : "succeeded", pct);
	printf("ok %s freeze succeeded; reaper in its final wait used %d%% CPU afterwards\n",
	       scen, pct);
	return 0;
}

/* --- main ---------------------------------------------------------------- */

static const struct scenario {
	const char *name;
	int (*run)(int rounds);
	int rounds;
} scenarios[] = {
	{ "tree_wide", scen_tree_wide, 2 },
	{ "tree_deep", scen_tree_deep, 2 },
	{ "stopped", scen_stopped, 2 },
	{ "traced_outside", scen_traced_outside, 2 },
	{ "nonleader_init", scen_nonleader_init, 2 },
	{ "setns_fork_late", scen_setns_fork_late, 2 },
	{ "setns_fork_race", scen_setns_fork_race, 30 },
	{ "nested", scen_nested, 2 },
	{ "reboot", scen_reboot, 1 },
	{ "freezer", scen_freezer, 1 },
};

static int usage(void)
{
	fprintf(stderr, "usage: pgtest list | run NAME [-n ROUNDS] | hold --kind zombie|foreign|stopped --release-fifo PATH\n");
	return 2;
}

int main(int argc, char **argv)
{
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "hold") && !strcmp(argv[2], "--kind") &&
	    !strcmp(argv[4], "--release-fifo")) {
		alarm(120);
		return cmd_hold(argv[3], argv[5]);
	}
	if (argc < 3 || strcmp(argv[1], "run"))
		return usage();
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		int rounds = scenarios[i].rounds;

		if (strcmp(argv[2], scenarios[i].name))
			continue;
		if (argc == 5 && !strcmp(argv[3], "-n"))
			rounds = atoi(argv[4]);
		scen = scenarios[i].name;
		alarm(300);
		return scenarios[i].run(rounds);
	}
	return usage();
}
