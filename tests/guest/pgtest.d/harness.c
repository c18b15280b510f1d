// SPDX-License-Identifier: GPL-2.0
/*
 * pgtest's round harness.  A scenario is a number of rounds; a round
 * builds a namespace (ns_start(): pipes, init forked into a new PID
 * namespace, the notes of the tasks it builds), starts its teardown
 * (ns_teardown()), reaps init and checks THE INVARIANT (ns_finish()).
 * run_rounds() runs the rounds, and between them kills and reaps whatever
 * a round left (round_end()), also when it failed; the first failure ends
 * the scenario, its reason (failf()) becomes the "fail" line, and
 * passf() the summary of the "ok" line.
 */
#include "pgtest.h"

const char *g_name = "pgtest";
int g_round;
char g_exe[PATH_MAX];

/* ------------------------------------------------------------------ */
/* Diagnostics and time                                                */

void diag(const char *fmt, ...)
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

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

long long now_ms(void)
{
	return now_us() / 1000;
}

void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The first failure is the scenario's "fail" reason; every one is logged. */
int failf(struct ctx *c, int rc, const char *fmt, ...)
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

/* The summary of the "ok" line. */
int passf(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->sum, sizeof(c->sum), fmt, ap);
	va_end(ap);
	return PASS;
}

/* Why the scenario cannot run here: the "skip" line. */
int skipf(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return SKIP;
}

const char *status_str(int st, char *buf, size_t len)
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
/* volatile: also read by the watchdog's signal handler. */
static volatile pid_t g_tracked[MAX_TRACKED];
static char g_alarm_line[160];
static void (*volatile g_undo)(void);

void track(pid_t pid)
{
	for (int i = 0; i < MAX_TRACKED; i++) {
		if (!g_tracked[i]) {
			g_tracked[i] = pid;
			return;
		}
	}
	diag("too many children to track (pid %d untracked)", pid);
}

void untrack(pid_t pid)
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
static void on_alarm(int sig)
{
	(void)sig;
	kill_tracked();
	if (g_undo)
		g_undo();
	if (write(STDOUT_FILENO, g_alarm_line, strlen(g_alarm_line)) < 0)
		_exit(FAIL);
	_exit(FAIL);
}

void watchdog_init(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);
}

void watchdog_arm(int seconds)
{
	snprintf(g_alarm_line, sizeof(g_alarm_line),
		 "fail %s watchdog: no result after %d s\n", g_name, seconds);
	alarm(seconds);
}

/*
 * What a scenario changed outside pgtest, to be put back also when the
 * watchdog ends it (undo must be async-signal-safe).
 */
void watchdog_undo(void (*undo)(void))
{
	g_undo = undo;
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

/* fork() a tracked child of pgtest running fn, in pgtest's namespace. */
pid_t spawn(task_fn fn, void *arg)
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
pid_t fork_ns_init(task_fn fn, void *arg, bool tracked)
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

void sleep_forever(void)
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

int start_thread(void *(*fn)(void *), void *arg)
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

int start_sleepers(int n)
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

void note_send(int fd, int tag, int level)
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
void note_err(int fd, const char *what)
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
int read_full(int fd, void *buf, size_t len, int ms, pid_t watch)
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

/* Fork n sleeping children, each with threads extra threads; one note each. */
int populate(int n, int threads, int note_fd, int level)
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
char wait_byte(int fd)
{
	char b = 0;

	while (read(fd, &b, 1) < 0 && errno == EINTR)
		;
	return b;
}

void send_byte(int fd, char b)
{
	if (write(fd, &b, 1) != 1)
		diag("cannot write to a pipe: %m");
}

/* ------------------------------------------------------------------ */
/* A round's fds                                                       */

static int g_fds[64];
static int g_nfds;

int mkpipe(struct ctx *c, int fds[2])
{
	if (pipe(fds) || g_nfds + 2 > ARRAY_SIZE(g_fds))
		return failf(c, SETUP, "pipe: %m");
	g_fds[g_nfds++] = fds[0];
	g_fds[g_nfds++] = fds[1];
	return PASS;
}

/* Another fd for round_end() to close. */
void round_fd(int fd)
{
	if (g_nfds < ARRAY_SIZE(g_fds))
		g_fds[g_nfds++] = fd;
	else
		diag("too many fds in one round (fd %d left open)", fd);
}

int round_end(void)
{
	int left = cleanup_children();

	while (g_nfds > 0)
		close(g_fds[--g_nfds]);
	return left;
}

/* ------------------------------------------------------------------ */
/* Waiting for children, with deadlines                                */

/* waitpid(pid) within ms: 1 reaped (*st set), 0 timeout, -1 error. */
int wait_pid_for(pid_t pid, int *st, int ms)
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
int stays_unreapable(pid_t pid, int ms, int *st)
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

int last_status;

/*
 * The teardown was started at t0: wait for init, check how it ended and
 * check THE INVARIANT.  want_sig > 0: init must have been killed by it;
 * 0: it must have exited with want_exit; < 0: the caller looks at
 * last_status.
 */
int finish_teardown(struct ctx *c, pid_t init, const struct nsid *ns,
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
/* Rounds                                                              */

/*
 * Build a round's namespace: pipes, init running init_fn(arg) as the
 * first task of a new PID namespace, and want notes from the tasks it
 * builds (their ids, for the checks).  Pipes and init are the round's:
 * round_end() closes and kills them, also after a failure here.
 */
int ns_start(struct ctx *c, struct ns_round *r, task_fn init_fn, void *arg, int want)
{
	int rc;

	if (want > MAX_NOTES)
		return failf(c, SETUP, "%d tasks to hear from, room for %d", want, MAX_NOTES);
	if (mkpipe(c, r->notes) || mkpipe(c, r->go))
		return SETUP;
	r->init = fork_ns_init(init_fn, arg, true);
	if (r->init < 0)
		return failf(c, SETUP, "cannot create a pid namespace: %m");
	rc = notes_collect(c, r->notes[0], r->note, want, r->init);
	if (rc)
		return rc;
	r->nnotes = want;
	if (nsid_of_pid(r->init, &r->ns))
		return failf(c, SETUP, "stat /proc/%d/ns/pid: %m", r->init);
	return PASS;
}

/* The first note with tag (and level, unless < 0), or NULL. */
const struct note *ns_note(const struct ns_round *r, int tag, int level)
{
	for (int i = 0; i < r->nnotes; i++)
		if (r->note[i].tag == tag && (level < 0 || r->note[i].level == level))
			return &r->note[i];
	return NULL;
}

/* Start the teardown: SIGKILL init, or tell it to exit (a byte on go). */
void ns_teardown(struct ns_round *r, bool by_kill)
{
	r->t0 = now_ms();
	if (by_kill)
		kill(r->init, SIGKILL);
	else
		send_byte(r->go[1], 'g');
}

/*
 * finish_teardown() of the round's namespace, timed from r->t0: the time
 * goes to r->took_ms, and the slowest of the scenario to c->max_ms.
 */
int ns_finish(struct ctx *c, struct ns_round *r, int want_sig, int want_exit)
{
	int rc;

	r->took_ms = 0;
	rc = finish_teardown(c, r->init, &r->ns, r->t0, want_sig, want_exit, &r->took_ms);
	if (r->took_ms > c->max_ms)
		c->max_ms = r->took_ms;
	return rc;
}

/*
 * In init of a flat_ns: build the children, report, wait for the go
 * byte.  0, or SETUP when a child could not be made.
 */
int flat_ready(struct flat_ns *f)
{
	if (populate(f->nproc, f->nthreads, f->r.notes[1], 0))
		return SETUP;
	note_send(f->r.notes[1], N_INIT, 0);
	wait_byte(f->r.go[0]);
	return 0;
}

/* Init of a flat_ns: exits when told (exit_group: the teardown runs in do_exit()). */
int flat_init(void *arg)
{
	return flat_ready(arg);
}

/*
 * Run c->rounds rounds of fn (fewer once a round sets c->enough).  After
 * each, also a failed one, round_end() kills and reaps what it left and
 * closes its fds; the first failure ends the scenario.
 */
int run_rounds(struct ctx *c, round_fn fn, void *arg)
{
	int rc = PASS;

	for (g_round = 1; g_round <= c->rounds && !c->enough; g_round++) {
		rc = fn(c, g_round, arg);
		round_end();
		if (rc)
			break;
	}
	g_round = 0;
	return rc;
}
