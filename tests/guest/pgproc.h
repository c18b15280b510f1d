/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc readings shared by pgsoak and pgbench: a task's state, and whether
 * a namespace init sits in the final wait of its teardown.
 */
#ifndef PGPROC_H
#define PGPROC_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PGPROC_PF_EXITING	0x00000004	/* include/linux/sched.h */

/* Fields 3 (state) and 9 (flags) of /proc/TID/stat; state 0: no such task. */
static inline char pgproc_state(pid_t tid, unsigned int *flags)
{
	char path[64], buf[512], *p;
	unsigned int f = 0;
	char st = 0;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %u", &st, &f) != 2)
		return 0;
	if (flags)
		*flags = f;
	return st;
}

/*
 * Init is in its final wait: exiting, asleep, and with no child left, so
 * not in the reap loop.  Callers want it so a few times in a row (init
 * passes through other sleeps on its way out).
 */
static inline bool pgproc_parked(pid_t init)
{
	char path[64], buf[16];
	unsigned int flags = 0;
	char st = pgproc_state(init, &flags);
	int fd, n;

	if (!st || !strchr("SDI", st) || !(flags & PGPROC_PF_EXITING))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", init, init);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == 0;
}

/*
 * fork() a child into the PID namespace of @init (ours stays where it
 * was): like fork(), 0 in the child, -1 with errno on failure.  The child
 * keeps our parentage: a "foreign" task of that namespace.
 */
static inline pid_t pgproc_fork_into(pid_t init)
{
	int ns, home, err = 0;
	char path[64];
	pid_t pid = -1;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", init);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	home = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (ns >= 0 && home >= 0 && !setns(ns, CLONE_NEWPID)) {
		pid = fork();
		if (pid == 0)
			return 0;
		err = errno;
		if (setns(home, CLONE_NEWPID))
			_exit(2);	/* stuck in the wrong namespace */
	} else {
		err = errno;
	}
	if (ns >= 0)
		close(ns);
	if (home >= 0)
		close(home);
	errno = err;
	return pid;
}

/* pgproc_parked() reads the children file: CONFIG_PROC_CHILDREN. */
static inline bool pgproc_have_children_file(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
	return access(path, R_OK) == 0;
}

#endif
