/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pidns_guard: a faithful, generation-aware replacement for the kernel's
 * zap_pid_ns_processes(), with counters and live diagnosis in debugfs.
 *
 * The module is split by job:
 *   ksyms.c       reaching the kernel's unexported code by direct calls
 *   zap_hook.c    mechanism: installing/removing the redirection
 *   teardown.c    policy: what a namespace teardown does
 *   generation.h  policy details that differ between kernel generations
 *   stats.c       counters and the latency histogram
 *   active.c      teardowns in progress and their holders
 *   unload_guard.c refusing unload while a stock teardown blocks it
 *   flush_hook.c  observing /proc flushing at task reap
 *   debugfs.c     reporting
 *   trace.c       trace events (pg_trace.h: pidns_guard:*)
 */
#ifndef _PIDNS_GUARD_H
#define _PIDNS_GUARD_H

#include <linux/list.h>
#include <linux/pid.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct pid_namespace;
struct kernel_siginfo;
struct rusage;
struct task_struct;

/* ksyms.c */
int pg_ksyms_resolve(void);
void pg_disable_pid_allocation(struct pid_namespace *ns);
int pg_group_send_sig_info(int sig, struct kernel_siginfo *info,
			   struct task_struct *p, enum pid_type type);
long pg_kernel_wait4(pid_t upid, int __user *stat_addr, int options,
		     struct rusage *ru);
void pg_acct_exit_ns(struct pid_namespace *ns);

/*
 * 6.1 keeps an exiting task in an RCU-tasks (SRCU) read side from before
 * exit_notify() on, and drops it only around the stock final sleep; 6.10
 * removed exit_tasks_rcu_stop() with the SRCU behind it.  Kbuild defines
 * PG_HAVE_EXIT_TASKS_RCU_STOP when the headers declare it.  Where it
 * exists, a teardown sitting in the stock reap loop (which never drops it)
 * stalls every synchronize_rcu_tasks() until it ends; ours drops it
 * around every sleep.
 */
#if defined(PG_HAVE_EXIT_TASKS_RCU_STOP) && IS_ENABLED(CONFIG_TASKS_RCU)
#define PG_EXIT_RCU_DANCE 1
void pg_exit_tasks_rcu_stop(void);
void pg_exit_tasks_rcu_start(void);
#else
#define PG_EXIT_RCU_DANCE 0
static inline void pg_exit_tasks_rcu_stop(void) { }
static inline void pg_exit_tasks_rcu_start(void) { }
#endif

static inline bool pg_exit_holds_rcu_tasks(void)
{
	return PG_EXIT_RCU_DANCE;
}

unsigned long pg_get_wchan(struct task_struct *p);
/*
 * The kernel's tasklist_lock.  Taken and dropped in the same function by
 * its users, so that sparse sees the pair whatever the lock type (RT's
 * rwlock functions are unannotated on 6.1).
 */
extern rwlock_t *pg_tasklist_lock;

/* active.c: teardowns in progress, and who holds them open */
enum pg_phase {
	PG_PHASE_KILL,
	PG_PHASE_REAP,
	PG_PHASE_UNHASH,
	PG_PHASE_FINISH,
};

/* One per teardown in pg_zap_pid_ns_processes(), on the reaper's stack. */
struct pg_teardown {
	struct list_head node;
	struct task_struct *reaper;
	struct pid_namespace *ns;
	u64 start_ns;
	int phase;			/* enum pg_phase */
	unsigned int warn_after;	/* seconds, 0 = never */
	u64 warn_at_ns;			/* when to warn; 0 = never */
	bool warned;
};

struct seq_file;
const char *pg_phase_name(enum pg_phase phase);
void pg_active_begin(struct pg_teardown *td, struct pid_namespace *ns);
void pg_active_arm_warning(struct pg_teardown *td);
void pg_active_end(struct pg_teardown *td);
struct inode;
struct file;
int pg_active_open(struct inode *inode, struct file *file);
bool pg_stock_blocks_rcu_tasks(bool arriving);
void pg_active_exit(void);

/* unload_guard.c */
void pg_unload_guard_start(void);
void pg_unload_guard_exit(void);

/* Readers of "active" take the phase with READ_ONCE(), under the list lock. */
static inline void pg_active_phase(struct pg_teardown *td, enum pg_phase phase)
{
	WRITE_ONCE(td->phase, phase);
}

/* teardown.c */
void pg_zap_pid_ns_processes(struct pid_namespace *ns);

/* zap_hook.c */
int pg_zap_hook_install(void);
void pg_zap_hook_arm(void);
void pg_zap_hook_remove(void);

/* stats.c */
enum pg_counter {
	PG_TEARDOWNS,
	PG_TEARDOWNS_DONE,
	PG_TASKS_KILLED,
	PG_CHILDREN_REAPED,
	PG_UNHASH_WAITS,
	PG_TEARDOWN_NS_TOTAL,
	PG_UNHASH_WAIT_NS_TOTAL,
	PG_PROC_FLUSHES,
	PG_NR_COUNTERS
};

enum pg_maximum {
	PG_TEARDOWN_NS_MAX,
	PG_UNHASH_WAIT_NS_MAX,
	PG_NR_MAXIMA
};

#define PG_HIST_BUCKETS 40	/* log2 buckets of nanoseconds: up to ~18 min */

struct pg_stats_snapshot {
	u64 counter[PG_NR_COUNTERS];
	u64 maximum[PG_NR_MAXIMA];
	u64 hist[PG_HIST_BUCKETS];
	u64 active;	/* teardowns - teardowns_done */
};

int pg_stats_init(void);
void pg_stats_exit(void);
void pg_count(enum pg_counter c, u64 delta);
void pg_note_max(enum pg_maximum m, u64 value);
void pg_note_teardown_ns(u64 ns);
void pg_stats_snapshot(struct pg_stats_snapshot *snap);
const char *pg_counter_name(enum pg_counter c);
const char *pg_maximum_name(enum pg_maximum m);

/* flush_hook.c */
int pg_flush_hook_install(void);
void pg_flush_hook_remove(void);

/* debugfs.c */
void pg_debugfs_init(void);
void pg_debugfs_exit(void);

#endif /* _PIDNS_GUARD_H */
