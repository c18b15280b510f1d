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
 *   pgholder exitflush INIT DIR
 *       a holder asleep in its exit path: mount a FUSE filesystem on DIR
 *       served by pgholder itself, outside, and start a child in the pid
 *       namespace of INIT that opens DIR/f and calls _exit(0).  Its exit
 *       closes the file: fuse_flush() sends FLUSH and waits for the
 *       answer in an interruptible sleep, PF_EXITING set, which no signal
 *       ends.  pgholder does not answer: prints "ready CHILD" (the
 *       child's pid in our namespace) and pauses.  SIGTERM answers the
 *       FLUSH, reaps the child (bounded: 30 s) and unmounts.  Exit 3 when
 *       the kernel has no FUSE (saying so).
 *   pgholder linger INIT
 *       does a lingering TCP close sleep in the exit path?  A listener
 *       outside (small receive buffer, never read) and, in the pid
 *       namespace of INIT, two children that connect over loopback (lo
 *       brought up first), set a small send buffer and fill the
 *       connection with non-blocking writes until EAGAIN.  One sets
 *       SO_LINGER {1, 2} and calls close(): the linger wait, measured.
 *       The other sets SO_LINGER {1, 60} and calls _exit(0).  Prints
 *       "close_ms N exit_ms M": how long close() took, and how long the
 *       second child took from its last write to being a zombie (bounded
 *       at 70 s).
 *   pgholder exitstop INIT
 *       a holder stopped by its tracer in its exit: start a child in the
 *       pid namespace of INIT and PTRACE_SEIZE it with
 *       PTRACE_O_TRACEEXIT, as strace -f does.  Prints "ready CHILD";
 *       once the child, killed, stops in its exit event, prints
 *       "stopped CHILD" and lets it wait there (a tracer that went to
 *       sleep: strace suspended, gdb at its prompt).  SIGTERM detaches,
 *       and reaps the child (bounded: 30 s).
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
#include <time.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* ---- exitflush: a FUSE filesystem whose FLUSH is not answered ---- */

#define FUSE_NODE_FILE 2

static volatile sig_atomic_t release;

static void on_term(int sig)
{
	(void)sig;
	release = 1;
}

static int fuse_reply(int fd, uint64_t unique, int error, const void *out,
		      size_t len)
{
	struct fuse_out_header h = {
		.len = sizeof(h) + (error ? 0 : len),
		.error = error,
		.unique = unique,
	};
	char buf[sizeof(h) + 256];

	memcpy(buf, &h, sizeof(h));
	if (!error && len)
		memcpy(buf + sizeof(h), out, len);
	return write(fd, buf, h.len) == (ssize_t)h.len ? 0 : -1;
}

static void fuse_fill_attr(struct fuse_attr *a, uint64_t node)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->mode = node == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
	a->nlink = node == FUSE_ROOT_ID ? 2 : 1;
	a->blksize = 4096;
}

/*
 * Answer one request; a FLUSH is left unanswered and its unique returned
 * in *flush (its sender's pid, as the kernel gives it for our namespace,
 * in *who).  Returns -1 when the device fails.
 */
static int fuse_serve_one(int fd, uint64_t *flush, pid_t *who)
{
	static char buf[FUSE_MIN_READ_BUFFER + 65536];
	struct fuse_in_header *in = (void *)buf;
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n < (ssize_t)sizeof(*in))
		return -1;
	switch (in->opcode) {
	case FUSE_INIT: {
		struct fuse_init_out o = {
			.major = FUSE_KERNEL_VERSION,
			.minor = 31,	/* older than both kernels' */
			.max_write = 65536,
			.time_gran = 1,
		};

		return fuse_reply(fd, in->unique, 0, &o, sizeof(o));
	}
	case FUSE_LOOKUP: {
		struct fuse_entry_out o = {
			.nodeid = FUSE_NODE_FILE,
			.entry_valid = 3600,
			.attr_valid = 3600,
		};

		if (in->nodeid != FUSE_ROOT_ID || strcmp(buf + sizeof(*in), "f"))
			return fuse_reply(fd, in->unique, -ENOENT, NULL, 0);
		fuse_fill_attr(&o.attr, FUSE_NODE_FILE);
		return fuse_reply(fd, in->unique, 0, &o, sizeof(o));
	}
	case FUSE_GETATTR: {
		struct fuse_attr_out o = { .attr_valid = 3600 };

		fuse_fill_attr(&o.attr, in->nodeid);
		return fuse_reply(fd, in->unique, 0, &o, sizeof(o));
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR: {
		struct fuse_open_out o = { .fh = 1 };

		return fuse_reply(fd, in->unique, 0, &o, sizeof(o));
	}
	case FUSE_FLUSH:
		*flush = in->unique;
		*who = in->pid;
		return 0;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
		return fuse_reply(fd, in->unique, 0, NULL, 0);
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return 0;	/* no answer expected */
	default:
		return fuse_reply(fd, in->unique, -ENOSYS, NULL, 0);
	}
}

static int fuse_available(void)
{
	char line[128];
	FILE *f = fopen("/proc/filesystems", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "nodev\tfuse\n");
	fclose(f);
	return found;
}

/* Reap @child, waiting at most @secs seconds; 0 when reaped. */
static int reap_within(pid_t child, int secs)
{
	for (int i = 0; i < secs * 100; i++) {
		pid_t r = waitpid(child, NULL, WNOHANG);

		if (r == child)
			return 0;
		if (r < 0)
			return -1;
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static int exit_flush(pid_t init, const char *dir)
{
	struct sigaction sa = { .sa_handler = on_term };
	char opts[128], path[256];
	uint64_t flush = 0;
	pid_t child, who = 0;
	sigset_t term, old;
	int fd;

	if (!fuse_available()) {
		printf("no FUSE in this kernel (not in /proc/filesystems: a module the guest does not have)\n");
		return 3;
	}
	if (access("/dev/fuse", F_OK) && mknod("/dev/fuse", S_IFCHR | 0666, makedev(10, 229)))
		return die("mknod /dev/fuse");
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die("open /dev/fuse");
	mkdir(dir, 0755);
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("pgholder", dir, "fuse", MS_NOSUID | MS_NODEV, opts))
		return die("mount fuse");
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: read() ends */
	if (enter_pidns_of(init))
		return die("setns");
	snprintf(path, sizeof(path), "%s/f", dir);
	child = fork();
	if (child < 0)
		return die("fork");
	if (child == 0) {
		close(fd);
		if (open(path, O_RDONLY) < 0)
			_exit(die("open on fuse"));
		prctl(PR_SET_NAME, "pgexitflush");
		_exit(0);	/* the close at exit waits for FLUSH's answer */
	}
	while (!flush && !release) {
		if (fuse_serve_one(fd, &flush, &who))
			return die("/dev/fuse");
		if (waitpid(child, NULL, WNOHANG) == child) {
			fprintf(stderr, "pgholder: the child exited before its FLUSH\n");
			return 1;
		}
	}
	if (flush) {
		printf("ready %d flush_from %d\n", child, who);
		fflush(stdout);
	}
	sigprocmask(SIG_BLOCK, &term, &old);
	while (!release)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (flush && fuse_reply(fd, flush, 0, NULL, 0))
		return die("answer FLUSH");
	/* anything else it asks is aborted: the device's last close */
	close(fd);
	if (reap_within(child, 30))
		return die("reap the child");
	if (umount2(dir, MNT_DETACH))
		return die("umount");
	return 0;
}

/* ---- linger: does a lingering TCP close sleep in the exit path? ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (s < 0)
		return -1;
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return rc;
}

/* Connect to @addr, fill the connection until EAGAIN, set SO_LINGER. */
static int filled_conn(const struct sockaddr_in *addr, int linger_s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = linger_s };
	int s = socket(AF_INET, SOCK_STREAM, 0), small = 4096;
	static char chunk[4096];

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	if (connect(s, (const struct sockaddr *)addr, sizeof(*addr)))
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return -1;
	fcntl(s, F_SETFL, O_NONBLOCK);
	for (int idle = 0; idle < 20;) {
		if (write(s, chunk, sizeof(chunk)) > 0) {
			idle = 0;
			continue;
		}
		if (errno != EAGAIN)
			return -1;
		idle++;		/* the peer's window may still open a bit */
		usleep(50000);
	}
	fcntl(s, F_SETFL, 0);
	return s;
}

static int linger_exit(pid_t init)
{
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(addr);
	int l, small = 4096, p[2], a1, a2;
	long long close_ms = -1, t;
	pid_t c1, c2;

	if (lo_up())
		return die("bring lo up");
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, 4) ||
	    getsockname(l, (struct sockaddr *)&addr, &alen))
		return die("listener");
	if (pipe(p) || enter_pidns_of(init))
		return die("pipe, setns");
	c1 = fork();
	if (c1 == 0) {
		int s = filled_conn(&addr, 2);

		if (s < 0)
			_exit(die("connect and fill"));
		t = now_ms();
		close(s);
		t = now_ms() - t;
		write(p[1], &t, sizeof(t));
		_exit(0);
	}
	a1 = accept(l, NULL, NULL);
	if (c1 < 0 || a1 < 0 || read(p[0], &close_ms, sizeof(close_ms)) != sizeof(close_ms) ||
	    waitpid(c1, NULL, 0) != c1)
		return die("the close() child");
	c2 = fork();
	if (c2 == 0) {
		int s = filled_conn(&addr, 60);

		if (s < 0)
			_exit(die("connect and fill"));
		t = now_ms();
		write(p[1], &t, sizeof(t));
		_exit(0);
	}
	a2 = accept(l, NULL, NULL);
	if (c2 < 0 || a2 < 0 || read(p[0], &t, sizeof(t)) != sizeof(t))
		return die("the _exit() child");
	if (reap_within(c2, 70))
		return die("reap the _exit() child");
	printf("close_ms %lld exit_ms %lld\n", close_ms, now_ms() - t);
	return 0;
}

/* ---- exitstop: a tracee held in its exit event by its tracer ---- */

static int exit_stop(pid_t init)
{
	struct sigaction sa = { .sa_handler = on_term };	/* no SA_RESTART */
	int st = 0;
	pid_t c;

	sigaction(SIGTERM, &sa, NULL);
	if (enter_pidns_of(init))
		return die("setns");
	c = fork();
	if (c < 0)
		return die("fork");
	if (c == 0)
		return holder(NULL);
	if (ptrace(PTRACE_SEIZE, c, 0, PTRACE_O_TRACEEXIT))
		return die("PTRACE_SEIZE");
	printf("ready %d\n", c);
	fflush(stdout);
	/* Every stop but the exit event is let go: the teardown's SIGKILL. */
	while (!release) {
		if (waitpid(c, &st, __WALL) != c) {
			if (errno == EINTR)
				continue;
			return die("waitpid");
		}
		if (!WIFSTOPPED(st))
			return die("the child ended without an exit event");
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8)))
			break;
		ptrace(PTRACE_CONT, c, 0, 0);
	}
	printf("stopped %d\n", c);
	fflush(stdout);
	while (!release)	/* polled: a SIGTERM just before pause() is not lost */
		usleep(100000);
	if (ptrace(PTRACE_DETACH, c, 0, 0))
		return die("PTRACE_DETACH");
	return reap_within(c, 30) ? die("reap the child") : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "foreign"))
		return foreign(atoi(argv[2]), atol(argv[3]), argc > 4 ? argv[4] : NULL);
	if (argc == 3 && !strcmp(argv[1], "zinit"))
		return zombie_init(atoi(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "exitflush"))
		return exit_flush(atoi(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "linger"))
		return linger_exit(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "exitstop"))
		return exit_stop(atoi(argv[2]));
	fprintf(stderr, "usage: pgholder foreign INIT N [NAME] | pgholder zinit SECONDS | pgholder exitflush INIT DIR | pgholder linger INIT | pgholder exitstop INIT\n");
	return 2;
}
