/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of pgtest share (main.c has the overview).
 */
#ifndef PGTEST_H
#define PGTEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

/* harness.c */
extern const char *g_name;
extern int g_round;

void diag(const char *fmt, ...);
long long now_us(void);
long long now_ms(void);
void sleep_us(long us);

/* A scenario's verdict: the first failure reason wins. */
struct ctx {
	const char *name;
	int rounds;
	char why[512];
	char sum[512];
};

int failf(struct ctx *c, int rc, const char *fmt, ...);
const char *status_str(int st, char *buf, size_t len);
void track(pid_t pid);
void untrack(pid_t pid);
void kill_tracked(void);
void on_alarm(int sig);
void watchdog_arm(int seconds);

typedef int (*task_fn)(void *arg);

pid_t spawn(task_fn fn, void *arg);
pid_t fork_ns_init(task_fn fn, void *arg, bool tracked);
void sleep_forever(void);
int start_thread(void *(*fn)(void *), void *arg);
int start_sleepers(int n);

enum note_tag { N_ERR = 1, N_INIT, N_TASK, N_TARGET, N_TRACER };

struct note {
	int16_t tag;
	int16_t level;		/* nesting level of the sender's namespace */
	int32_t inner;		/* tid in the sender's own namespace, or errno */
	int32_t tgid;		/* ids as pgtest sees them (/proc/thread-self) */
	int32_t tid;
};

void note_send(int fd, int tag, int level);
void note_err(int fd, const char *what);
int read_full(int fd, void *buf, size_t len, int ms, pid_t watch);
int notes_collect(struct ctx *c, int fd, struct note *out, int want, pid_t init);
const struct note *note_find(const struct note *n, int count, int tag, int level);
int populate(int n, int threads, int note_fd, int level);
char wait_byte(int fd);
void send_byte(int fd, char b);

extern int g_fds[64];
extern int g_nfds;
int mkpipe(struct ctx *c, int fds[2]);
int round_end(void);

/* proc.c */
struct pstat {
	char state;
	int ppid;
	unsigned int flags;
	unsigned long long utime, stime;
	char comm[32];
};

int read_stat(pid_t tgid, pid_t tid, struct pstat *ps);
char task_state(pid_t tgid, pid_t tid);
char wait_state(pid_t tgid, pid_t tid, const char *states, int ms);
void kernel_stack_top(pid_t pid, char *out, size_t len);
const char *wait_stage(const char *stack);

struct nsid {
	dev_t dev;
	ino_t ino;
};

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

bool nsid_eq(const struct nsid *a, const struct nsid *b);
int nsid_of_path(const char *path, struct nsid *id);
int nsid_of_pid(pid_t pid, struct nsid *id);
bool is_number(const char *s);
int scan_ns(const struct nsid *target, struct scan *s);
void scan_report(const struct scan *s, const char *what);
int check_invariant(struct ctx *c, const struct nsid *ns);
int expect_tasks(struct ctx *c, const struct nsid *ns, int want, struct scan *s);
int read_file(const char *path, char *buf, size_t len);
int write_file(const char *path, const char *val);

/* harness.c */
extern int last_status;	/* init's wait status, from finish_teardown() */
int wait_pid_for(pid_t pid, int *st, int ms);
int stays_unreapable(pid_t pid, int ms, int *st);
int finish_teardown(struct ctx *c, pid_t init, const struct nsid *ns,
		    long long t0, int want_sig, int want_exit, long long *took_ms);

struct simple_args {
	int notes[2], go[2];
	int nproc, nthreads;
	int reboot_cmd;
	struct nsid home;
};

int wide_init(void *arg);

/* held.c */
enum agent_op { A_SEIZE = 1, A_SEIZE_STOP, A_REAP, A_SETNS_FORK, A_EXIT };

struct agent {
	pid_t pid;
	int cmd[2], rep[2];
};

int traced_wait(pid_t pid, int ms, bool want_exit, int *status);
int seize_stop(pid_t pid, int *status);
int agent_start(struct ctx *c, struct agent *a);
int agent_call(struct agent *a, int op, pid_t pid, int arg, int *status);

enum target_kind {
	TK_CHILD,		/* child process of init, traced from outside */
	TK_THREAD,		/* thread of init, traced (and stopped) from outside */
	TK_THREAD_EXITED,	/* thread of init, traced, already a zombie */
	TK_FOREIGN,		/* setns+fork child of an outside process */
};

extern const char *const tk_name[];

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

int situ_build(struct ctx *c, struct situ *s);
int situ_check_held(struct ctx *c, struct situ *s, int ms);
int situ_release(struct ctx *c, struct situ *s, bool agent_exits, int *tstatus);
int situ_wait_parked(struct ctx *c, struct situ *s, char *where, size_t len);

/* What the held scenarios measure: shortest hold, slowest release. */
struct held_times {
	long long min_held_ms;		/* init unreapable after the kill */
	long long max_release_ms;	/* release -> init reaped */
};

void held_times_add(struct held_times *h, long long held, long long release);
int situ_hold_release(struct ctx *c, struct situ *s, bool agent_exits,
		      int *status, long long *t1, long long *held);
int run_held_rounds(struct ctx *c, struct held_times *ht,
		    int (*round_fn)(struct ctx *c, int round, struct held_times *ht));

/* setns.c, races.c: atomics on shared memory */
static inline int ld(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void st(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline void inc(int *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

/* The scenarios */
struct scenario {
	const char *name;
	int (*run)(struct ctx *c);
	int rounds;	/* default */
};

int sc_tree_wide(struct ctx *c);
int sc_tree_deep(struct ctx *c);
int sc_stopped(struct ctx *c);
int sc_traced_outside(struct ctx *c);
int sc_nonleader_init(struct ctx *c);
int sc_setns_fork_late(struct ctx *c);
int sc_setns_fork_race(struct ctx *c);
int sc_nested(struct ctx *c);
int sc_reboot(struct ctx *c);
int sc_exec_race(struct ctx *c);
int sc_coredump_race(struct ctx *c);
int sc_freezer(struct ctx *c);

/* races.c, hold.c */
extern char g_exe[PATH_MAX];
void core_restore(void);
int execloop_main(int fd);
int coresink_main(const char *dir);
int do_hold(const char *kind, const char *fifo_path);

#endif
