// SPDX-License-Identifier: GPL-2.0
/*
 * pgholder - hold a namespace teardown open from outside, for the shell
 * tests of what `active` reports.
 *
 *   pgholder foreign INIT N [NAME]
 *       setns() into the pid namespace of INIT (a pid in our namespace)
 *       and start N children there, each named NAME (prctl PR_SET_NAME:
 *       any bytes, e.g. a newline) and paused.  Their parent, pgholder,
 *       stays outside and never reaps them: once the namespace is torn
 *       down, each is a zombie only pgholder may reap, N holders of one
 *       teardown.  Prints "ready FIRST LAST" (their pids in our
 *       namespace) and pauses; SIGTERM ends it, and then the zombies are
 *       reparented to the tearing-down init, which lets them go.
 *   pgholder zinit SECONDS
 *       unshare a pid namespace and fork its init, which exits at once;
 *       pgholder does not reap it for SECONDS: a zombie init whose
 *       teardown has ended.  Prints "ready INIT" then.
 *
 * Exit: 0 done, 1 failure (with a message on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static int die(const char *what)
{
	fprintf(stderr, "pgholder: %s: %s\n", what, strerror(errno));
	return 1;
}

static int enter_pidns_of(pid_t pid)
{
	char path[64];
	int fd, rc;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = setns(fd, CLONE_NEWPID);
	close(fd);
	return rc;
}

/* A holder: named, then paused until the teardown's SIGKILL. */
static int holder(void *name)
{
	if (name)
		prctl(PR_SET_NAME, name);
	for (;;)
		pause();
	return 0;
}

#define HOLDER_STACK 16384

/*
 * The holders share our memory (CLONE_VM, each on a stack of its own) but
 * are processes of their own (no CLONE_THREAD), so that tens of thousands
 * of them fit in a small guest: no page tables each.
 */
static int foreign(pid_t init, long n, char *name)
{
	pid_t first = 0, last = 0, c;
	char *stacks;

	stacks = mmap(NULL, n * HOLDER_STACK, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stacks == MAP_FAILED)
		return die("mmap");
	if (enter_pidns_of(init))
		return die("setns");
	for (long i = 0; i < n; i++) {
		c = clone(holder, stacks + (i + 1) * HOLDER_STACK,
			  CLONE_VM | SIGCHLD, name);
		if (c < 0)
			return die("clone");
		if (!first)
			first = c;
		last = c;
	}
	printf("ready %d %d\n", first, last);
	fflush(stdout);
	for (;;)
		pause();
}

static int zombie_init(int seconds)
{
	pid_t init;

	if (unshare(CLONE_NEWPID))
		return die("unshare");
	init = fork();
	if (init < 0)
		return die("fork");
	if (init == 0)
		_exit(0);
	/* Its teardown is over once it is a zombie: wait for that. */
	if (waitid(P_PID, init, NULL, WEXITED | WNOWAIT))
		return die("waitid");
	printf("ready %d\n", init);
	fflush(stdout);
	sleep(seconds);
	return waitpid(init, NULL, 0) == init ? 0 : die("waitpid");
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "foreign"))
		return foreign(atoi(argv[2]), atol(argv[3]), argc > 4 ? argv[4] : NULL);
	if (argc == 3 && !strcmp(argv[1], "zinit"))
		return zombie_init(atoi(argv[2]));
	fprintf(stderr, "usage: pgholder foreign INIT N [NAME] | pgholder zinit SECONDS\n");
	return 2;
}
