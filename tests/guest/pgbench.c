// SPDX-License-Identifier: GPL-2.0
/*
 * pgbench: the in-guest half of the benchmarks (tests/bench).
 *
 *   pgbench fork N          N x (fork, child _exit, waitpid): the median
 *                           ns of one cycle
 *   pgbench nscycle N       N x (clone(CLONE_NEWPID) init that exits at
 *                           once, waitpid): the median ns of one namespace
 *                           create+teardown
 *   pgbench teardown K [T [R]]
 *                           a namespace whose init has K children (each
 *                           with T extra threads); ns from SIGKILL of init
 *                           to init reaped; the median of R such teardowns
 *   pgbench release R       a namespace held by a zombie we forked into it
 *                           (setns): init parked in its final wait, ns from
 *                           our reaping that zombie to init reaped; median
 *                           of R
 *
 * Prints one line: "<what> <ns>".  Times are CLOCK_MONOTONIC; under
 * emulation only ratios between runs in the same boot mean anything.
 * Medians, not means: a timer tick or a kworker landing in one cycle
 * must not move the result.
 */
#define _GNU_SOURCE
#include <fcntl.h>
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

#include "pgproc.h"

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

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* The median of @n samples (reordered). */
static long long median_ll(long long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_ll);
	return n > 0 ? v[n / 2] : 0;
}

static long long *samples(int n)
{
	long long *v = calloc(n > 0 ? n : 1, sizeof(*v));

	if (!v)
		die("calloc");
	return v;
}

/* One child, made by @spawn, that exits at once: ns until it is reaped. */
static long long one_cycle(pid_t (*spawn)(void))
{
	long long t0 = now_ns();
	pid_t pid = spawn();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid");
	return now_ns() - t0;
}

static long long cycles(int n, pid_t (*spawn)(void))
{
	long long *v = samples(n), m;

	for (int i = 0; i < n; i++)
		v[i] = one_cycle(spawn);
	m = median_ll(v, n);
	free(v);
	return m;
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
	t0 = now_ns() - t0;
	close(ready[0]);
	close(ready[1]);
	return t0;
}

/* A child of ours, forked into the namespace of @init. */
static pid_t fork_into(pid_t init)
{
	pid_t pid = pgproc_fork_into(init);

	if (pid == 0)
		for (;;)
			pause();
	if (pid < 0)
		die("fork into the namespace");
	return pid;
}

static long long bench_release(void)
{
	struct timespec tick = { 0, 2000000 };
	pid_t init, held;
	int stable = 0;
	long long t0;

	init = fork_ns_init();
	if (init == 0)
		for (;;)
			pause();
	held = fork_into(init);
	kill(init, SIGKILL);
	/* Killed by init's teardown, the zombie is ours to reap: wait parked. */
	while (stable < 3) {
		stable = pgproc_parked(init) ? stable + 1 : 0;
		nanosleep(&tick, NULL);
	}
	t0 = now_ns();
	if (waitpid(held, NULL, 0) != held || waitpid(init, NULL, 0) != init)
		die("waitpid");
	return now_ns() - t0;
}

/* The median of @r runs of @fn(@k, @t). */
static long long median_of(int r, long long (*fn)(int, int), int k, int t)
{
	long long *v = samples(r), m;

	for (int i = 0; i < r; i++)
		v[i] = fn(k, t);
	m = median_ll(v, r);
	free(v);
	return m;
}

static long long release_run(int k, int t)
{
	(void)k;
	(void)t;
	return bench_release();
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "fork"))
		printf("fork %lld\n", cycles(atoi(argv[2]), fork));
	else if (argc >= 3 && !strcmp(argv[1], "nscycle"))
		printf("nscycle %lld\n", cycles(atoi(argv[2]), fork_ns_init));
	else if (argc >= 3 && !strcmp(argv[1], "teardown"))
		printf("teardown %lld\n",
		       median_of(argc > 4 ? atoi(argv[4]) : 1, bench_teardown,
				 atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0));
	else if (argc >= 3 && !strcmp(argv[1], "release") && !pgproc_have_children_file())
		die("release needs /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)");
	else if (argc >= 3 && !strcmp(argv[1], "release"))
		printf("release %lld\n", median_of(atoi(argv[2]), release_run, 0, 0));
	else {
		fprintf(stderr, "usage: pgbench fork N | nscycle N | teardown K [T [R]] | release R\n");
		return 2;
	}
	return 0;
}
