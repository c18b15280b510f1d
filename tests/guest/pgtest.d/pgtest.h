/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgtest's harness: what every scenario family builds on.  main.c has the
 * overview (commands, output, THE INVARIANT, who is who, assumptions);
 * each family's file says what its scenarios prove.
 *
 *   harness.c  diagnostics, the verdict, our children and the watchdog,
 *              forking into a new PID namespace, notes, pipes, and the
 *              rounds: ns_start(), ns_teardown(), ns_finish(), run_rounds()
 *   proc.c     /proc readers, namespace ids, THE INVARIANT
 *   held.c     agents outside the namespace, and a namespace whose
 *              teardown one of them holds (struct situ)
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
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#define ARRAY_SIZE(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define __printf(a, b)	__attribute__((format(printf, a, b)))

/* Exit codes (also the result of every scenario and round function). */
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
/* harness.c: diagnostics, time, the verdict                           */

extern const char *g_name;	/* the scenario (or "hold"), for diagnostics */
extern int g_round;		/* the round being run; 0 outside rounds */
extern char g_exe[PATH_MAX];	/* our own binary: the exec loop's image, the core sink */

__printf(1, 2) void diag(const char *fmt, ...);
long long now_us(void);
long long now_ms(void);
void sleep_us(long us);

/* A scenario's verdict: the first failure reason wins. */
struct ctx {
	const char *name;
	int rounds;
	bool enough;		/* a round decided the verdict: run no more */
	long long max_ms;	/* slowest teardown of the rounds (ns_finish()) */
	char why[512];
	char sum[512];
};

__printf(3, 4) int failf(struct ctx *c, int rc, const char *fmt, ...);
__printf(2, 3) int passf(struct ctx *c, const char *fmt, ...);
__printf(2, 3) int skipf(struct ctx *c, const char *fmt, ...);
const char *status_str(int st, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* harness.c: our children, the watchdog                               */

void track(pid_t pid);
void untrack(pid_t pid);
void watchdog_init(void);
void watchdog_arm(int seconds);
void watchdog_undo(void (*undo)(void));

typedef int (*task_fn)(void *arg);

pid_t spawn(task_fn fn, void *arg);
pid_t fork_ns_init(task_fn fn, void *arg, bool tracked);
void sleep_forever(void);
int start_thread(void *(*fn)(void *), void *arg);
int start_sleepers(int n);

/* Atomics on memory shared with other threads or processes (MAP_SHARED). */
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

/* ------------------------------------------------------------------ */
/* harness.c: notes, fixed-size readiness records, atomic on a pipe    */

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
int populate(int n, int threads, int note_fd, int level);
char wait_byte(int fd);
void send_byte(int fd, char b);

/* Pipes and fds of the current round, closed by round_end(). */
int mkpipe(struct ctx *c, int fds[2]);
void round_fd(int fd);
int round_end(void);

/* ------------------------------------------------------------------ */
/* proc.c: /proc                                                       */

struct pstat {
	char state;
	int ppid;
	unsigned int flags;
	unsigned long long utime, stime;
	char comm[32];
};

ssize_t read_text(const char *path, char *buf, size_t len);
int read_file(const char *path, char *buf, size_t len);
int write_file(const char *path, const char *val);
bool is_number(const char *s);
int read_stat(pid_t tgid, pid_t tid, struct pstat *ps);
char task_state(pid_t tgid, pid_t tid);
char wait_state(pid_t tgid, pid_t tid, const char *states, int ms);
int count_threads(pid_t pid);
int status_num(pid_t tgid, pid_t tid, const char *key, int base, unsigned long long *val);
void kernel_stack_top(pid_t pid, char *out, size_t len);
const char *wait_stage(const char *stack);

/* ------------------------------------------------------------------ */
/* proc.c: namespaces and THE INVARIANT                                */

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
int scan_ns(const struct nsid *target, struct scan *s);
void scan_report(const struct scan *s, const char *what);
int check_invariant(struct ctx *c, const struct nsid *ns);
int expect_tasks(struct ctx *c, const struct nsid *ns, int want, struct scan *s);

/* ------------------------------------------------------------------ */
/* harness.c: waiting for init; the rounds                             */

extern int last_status;	/* init's wait status, from finish_teardown() */

int wait_pid_for(pid_t pid, int *st, int ms);
int stays_unreapable(pid_t pid, int ms, int *st);
int finish_teardown(struct ctx *c, pid_t init, const struct nsid *ns,
		    long long t0, int want_sig, int want_exit, long long *took_ms);

#define MAX_NOTES 64

/*
 * A round's namespace.  A scenario's init gets the scenario's own
 * argument, a struct with this one in it, so that the tasks it builds
 * find the pipes.  A round, as the scenarios write it:
 *
 *	rc = ns_start(c, &a.r, my_init, &a, notes);	built, notes heard
 *	...checks of what was built: expect_tasks(), ns_note()...
 *	ns_teardown(&a.r, by_kill);			SIGKILL, or init told to exit
 *	return ns_finish(c, &a.r, SIGKILL, 0);		reaped; THE INVARIANT
 *
 * and a scenario: run_rounds(c, my_round, &figures), then passf() with
 * the figures the rounds collected (c->max_ms: the slowest teardown).
 */
struct ns_round {
	int notes[2];		/* the namespace's tasks -> us: struct note */
	int go[2];		/* us -> the namespace: a byte starts what it waits for */
	pid_t init;		/* pgtest's view */
	struct nsid ns;
	struct note note[MAX_NOTES];	/* what its tasks reported */
	int nnotes;
	long long t0;		/* the teardown began (a held one: was released) */
	long long took_ms;	/* t0 -> init reaped (ns_finish()) */
};

int ns_start(struct ctx *c, struct ns_round *r, task_fn init_fn, void *arg, int want);
const struct note *ns_note(const struct ns_round *r, int tag, int level);
void ns_teardown(struct ns_round *r, bool by_kill);
int ns_finish(struct ctx *c, struct ns_round *r, int want_sig, int want_exit);

/* The plainest namespace: init with nproc children of nthreads threads. */
struct flat_ns {
	struct ns_round r;
	int nproc, nthreads;
};

int flat_ready(struct flat_ns *f);
int flat_init(void *arg);

/* One round of a scenario; round counts from 1 (also in g_round). */
typedef int (*round_fn)(struct ctx *c, int round, void *arg);

int run_rounds(struct ctx *c, round_fn fn, void *arg);

/* ------------------------------------------------------------------ */
/* held.c: agents, helper processes outside the namespace               */

enum agent_op { A_SEIZE = 1, A_SEIZE_STOP, A_REAP, A_SETNS_FORK, A_EXIT };

struct agent {
	pid_t pid;
	int cmd[2], rep[2];
};

int traced_wait(pid_t pid, int ms, bool want_exit, int *status);
int seize_stop(pid_t pid, int *status);
int agent_start(struct ctx *c, struct agent *a);
int agent_call(struct agent *a, int op, pid_t pid, int arg, int *status);

/* ------------------------------------------------------------------ */
/* held.c: a namespace with one task that only an outside process can reap */

enum target_kind {
	TK_CHILD,		/* child process of init, traced from outside */
	TK_THREAD,		/* thread of init, traced (and stopped) from outside */
	TK_THREAD_EXITED,	/* thread of init, traced, already a zombie */
	TK_FOREIGN,		/* setns+fork child of an outside process */
};

extern const char *const tk_name[];

struct situ {
	struct ns_round r;	/* r.go: 'x' makes a TK_THREAD_EXITED target exit */
	enum target_kind kind;
	bool stop;		/* ptrace-stop the target before the teardown */
	int extra;		/* other sleeping children of init (1 thread each) */
	struct agent ag;	/* tracer P, or the setns+fork parent O */
	pid_t tgid, tid;	/* the target, pgtest's view */
	int ntasks;		/* tasks of the namespace once built */
	long long held_ms;	/* situ_held_round(): kill -> release */
};

int situ_build(struct ctx *c, struct situ *s);
int situ_check_held(struct ctx *c, struct situ *s, int ms);
int situ_release(struct ctx *c, struct situ *s, bool agent_exits, int *tstatus);
int situ_wait_parked(struct ctx *c, struct situ *s, char *where, size_t len);
int situ_held_round(struct ctx *c, struct situ *s, bool agent_exits, const char *what,
		    long long *min_held);

/* ------------------------------------------------------------------ */
/* The scenarios: each family's file defines its own, main.c lists them */

struct scenario {
	const char *name;
	int (*run)(struct ctx *c);
	int rounds;	/* default */
};

/* trees.c */
extern const struct scenario scenario_tree_wide, scenario_tree_deep;
/* stops.c */
extern const struct scenario scenario_stopped, scenario_traced_outside;
/* inits.c */
extern const struct scenario scenario_nonleader_init, scenario_nested, scenario_reboot;
/* setns.c */
extern const struct scenario scenario_setns_fork_late, scenario_setns_fork_race;
/* races.c */
extern const struct scenario scenario_exec_race, scenario_coredump_race;
/* freezer.c */
extern const struct scenario scenario_freezer, scenario_freezer_reap;
/* parity.c */
extern const struct scenario scenario_parked_init;

/* Commands besides list and run. */
int hold_main(const char *kind, const char *fifo_path);	/* hold.c */
int execloop_main(int fd);			/* races.c */
int coresink_main(const char *dir);		/* races.c */

#endif
