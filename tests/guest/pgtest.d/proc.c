// SPDX-License-Identifier: GPL-2.0
/*
 * What pgtest reads in /proc (and writes in /proc/sys and /sys), and THE
 * INVARIANT: once a namespace's init is reaped, no task of the namespace
 * or of any namespace nested in it exists any more, zombie or not.
 */
#include "pgtest.h"
#include <linux/nsfs.h>
#include <sys/ioctl.h>

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* One read of a small file, NUL-terminated: its length, or -1. */
ssize_t read_text(const char *path, char *buf, size_t len)
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
	return n;
}

/* The first line of a file. */
int read_file(const char *path, char *buf, size_t len)
{
	if (read_text(path, buf, len) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * 0 or the errno of the write (what the kernel's store returned).
 * Async-signal-safe: the watchdog restores settings with it.
 */
int write_file(const char *path, const char *val)
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

bool is_number(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* Tasks                                                               */

/* Parse /proc/TGID[/task/TID]/stat; tid 0 means the process. */
int read_stat(pid_t tgid, pid_t tid, struct pstat *ps)
{
	char path[64], buf[1024], *open_paren, *close_paren;
	size_t len;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", tgid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", tgid);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
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

char task_state(pid_t tgid, pid_t tid)
{
	struct pstat ps;

	return read_stat(tgid, tid, &ps) ? 0 : ps.state;
}

/* Poll until the task is in one of states; returns the state, 0 on timeout. */
char wait_state(pid_t tgid, pid_t tid, const char *states, int ms)
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

/* Threads of a process (0 once it is gone). */
int count_threads(pid_t pid)
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

/* One "Key:" line of /proc/TGID/task/TID/status, parsed as a number. */
int status_num(pid_t tgid, pid_t tid, const char *key, int base, unsigned long long *val)
{
	char path[96], buf[4096], *p;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", tgid, tid);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
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

/* Top of a task's kernel stack, for diagnostics only (needs root). */
void kernel_stack_top(pid_t pid, char *out, size_t len)
{
	char path[64], buf[2048], *p, *line, *save;
	size_t used = 0;
	int k = 0;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return;
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
const char *wait_stage(const char *stack)
{
	if (!strcmp(stack, "?"))
		return "teardown (kernel stack unreadable)";
	/* pidns_guard's reap loop on old kernels sleeps in wait_woken() */
	if (strstr(stack, "do_wait") || strstr(stack, "wait4") || strstr(stack, "wait_woken"))
		return "reap loop";
	return "final wait";
}

/* ------------------------------------------------------------------ */
/* Namespaces and THE INVARIANT                                        */

bool nsid_eq(const struct nsid *a, const struct nsid *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

int nsid_of_path(const char *path, struct nsid *id)
{
	struct stat st;

	if (stat(path, &st))
		return -1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return 0;
}

int nsid_of_pid(pid_t pid, struct nsid *id)
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
	if (cache->n < ARRAY_SIZE(cache->e)) {
		cache->e[cache->n].id = first;
		cache->e[cache->n].depth = result;
		cache->n++;
	}
	return result;
}

/* How many pid namespace levels /proc shows for a task (NSpid: fields). */
static int nspid_levels(pid_t tgid, pid_t tid)
{
	char path[96], buf[4096], *p;
	int n = 0;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", tgid, tid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
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

/* Add a task to the scan's list (the first MAX_LISTED only). */
static void scan_list(struct scan *s, pid_t tgid, pid_t tid, int depth, char state,
		      const char *comm)
{
	struct task_id *t;

	if (s->listed >= MAX_LISTED)
		return;
	t = &s->task[s->listed++];
	t->tgid = tgid;
	t->tid = tid;
	t->depth = depth;
	t->state = state;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
}

/* Note one task (tgid/tid) into the scan if it belongs to target. */
static void scan_task(pid_t tgid, pid_t tid, const struct nsid *target,
		      struct ns_cache *cache, struct scan *s)
{
	char why[32];
	struct pstat ps;
	int fd, depth;

	fd = open_ns_link(tgid, tid);
	if (fd < 0) {
		if (errno) {
			s->unknown++;
			s->unknown_errno = errno;
			snprintf(why, sizeof(why), "(unreadable ns: %s)", strerror(s->unknown_errno));
			scan_list(s, tgid, tid, -1, task_state(tgid, tid), why);
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
	scan_list(s, tgid, tid, depth, ps.state ? ps.state : '?', ps.comm);
}

/* Every task (thread, zombie included) of target and of its descendants. */
int scan_ns(const struct nsid *target, struct scan *s)
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

void scan_report(const struct scan *s, const char *what)
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
int check_invariant(struct ctx *c, const struct nsid *ns)
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
int expect_tasks(struct ctx *c, const struct nsid *ns, int want, struct scan *s)
{
	if (scan_ns(ns, s))
		return failf(c, SETUP, "cannot scan /proc: %m");
	if (s->total != want) {
		scan_report(s, "in namespace");
		return failf(c, SETUP, "namespace holds %d tasks, expected %d", s->total, want);
	}
	return PASS;
}
