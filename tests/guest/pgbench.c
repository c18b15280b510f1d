// SPDX-License-Identifier: GPL-2.0
/*
 * pgbench: the in-guest half of the benchmarks (tests/bench).
 *
 *   pgbench fork N          N x (fork, child _exit, waitpid): ns per cycle
 *   pgbench nscycle N       N x (clone(CLONE_NEWPID) init that exits at
 *                           once, waitpid): ns per namespace create+teardown
 *   pgbench teardown K [T]  a namespace whose init has K children (each
 *                           with T extra threads); ns from SIGKILL of init
 *                           to init reaped
 *
 * Prints one line: "<what> <ns>".  Times are CLOCK_MONOTONIC; under
 * emulation only ratios between runs in the same boot mean anything.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static pid_t fork_ns_init(void)
{
	pid_t pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		die("clone(CLONE_NEWPID)");
	return pid;
}

static long long bench_fork(int n)
{
	long long t0 = now_ns();

	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
	}
	return (now_ns() - t0) / n;
}

static long long bench_nscycle(int n)
{
	long long t0 = now_ns();

	for (int i = 0; i < n; i++) {
		pid_t pid = fork_ns_init();

		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			die("waitpid");
	}
	return (now_ns() - t0) / n;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* init: K children with T threads each; one byte on @ready when all run. */
static void teardown_init(int k, int t, int ready)
{
	int r[2];
	char c;

	if (pipe(r))
		_exit(2);
	for (int i = 0; i < k; i++) {
		pid_t pid = fork();

		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			pthread_t th;

			for (int j = 0; j < t; j++)
				if (pthread_create(&th, NULL, sleeper, NULL))
					_exit(2);
			if (write(r[1], "x", 1) != 1)
				_exit(2);
			for (;;)
				pause();
		}
	}
	for (int i = 0; i < k; i++)
		if (read(r[0], &c, 1) != 1)
			_exit(2);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

static long long bench_teardown(int k, int t)
{
	int ready[2];
	long long t0;
	pid_t init;
	char c;

	if (pipe(ready))
		die("pipe");
	init = fork_ns_init();
	if (init == 0)
		teardown_init(k, t, ready[1]);
	if (read(ready[0], &c, 1) != 1)
		die("namespace setup");
	t0 = now_ns();
	kill(init, SIGKILL);
	if (waitpid(init, NULL, 0) != init)
		die("waitpid");
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "fork"))
		printf("fork %lld\n", bench_fork(atoi(argv[2])));
	else if (argc >= 3 && !strcmp(argv[1], "nscycle"))
		printf("nscycle %lld\n", bench_nscycle(atoi(argv[2])));
	else if (argc >= 3 && !strcmp(argv[1], "teardown"))
		printf("teardown %lld\n",
		       bench_teardown(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0));
	else {
		fprintf(stderr, "usage: pgbench fork N | nscycle N | teardown K [T]\n");
		return 2;
	}
	return 0;
}
