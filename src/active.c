// SPDX-License-Identifier: GPL-2.0
/*
 * Teardowns in progress, and who holds them open.
 *
 * The question an operator has when `docker stop` hangs on an init stuck
 * in its teardown is: which task keeps the namespace alive, and why?
 * Every pid still allocated in a namespace whose init is tearing it down
 * belongs to such a task.  We list them straight from the namespace's pid
 * table, for our own teardowns (registered here, with their phase and
 * start time) and for any found in the stock function (begun before the
 * module was loaded): an exiting thread that is its namespace's child
 * reaper, with the namespace closed to new pids, is a teardown.
 *
 * Readers only take rcu_read_lock(): tasks, pids and pid namespaces are
 * all freed after an RCU grace period, and a namespace stays alive as long
 * as its tearing-down init does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/idr.h>
#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/ratelimit.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "pidns_guard.h"
#include "pg_trace.h"

#define PG_LINE_MAX 256
#define PG_WARN_MAX_SECS (7 * 24 * 3600)

static LIST_HEAD(pg_active_list);
static DEFINE_SPINLOCK(pg_active_lock);

static unsigned int pg_warn_after_secs = 30;

static int pg_warn_after_set(const char *val, const struct kernel_param *kp)
{
	unsigned int secs;
	int err = kstrtouint(val, 0, &secs);

	if (err || secs > PG_WARN_MAX_SECS) {
		pr_err("warn_after_secs must be 0 (off) to %u seconds, not '%s'\n",
		       PG_WARN_MAX_SECS, val);
		return -EINVAL;
	}
	WRITE_ONCE(pg_warn_after_secs, secs);
	return 0;
}

static const struct kernel_param_ops pg_warn_after_ops = {
	.set = pg_warn_after_set,
	.get = param_get_uint,
};
module_param_cb(warn_after_secs, &pg_warn_after_ops, &pg_warn_after_secs, 0644);
MODULE_PARM_DESC(warn_after_secs,
		 "log one warning naming the holders of a teardown still waiting after this many seconds (0 = never; default 30)");

static const char * const pg_phase_names[] = {
	[PG_PHASE_KILL]		= "kill",
	[PG_PHASE_REAP]		= "reap",
	[PG_PHASE_UNHASH]	= "unhash-wait",
	[PG_PHASE_FINISH]	= "finish",
};

const char *pg_phase_name(enum pg_phase phase)
{
	return pg_phase_names[phase];
}

/* At most this many holder lines per teardown; one more line counts the rest. */
#define PG_HOLDERS_MAX 64

/* Where a line goes: a debugfs reader, or the kernel log (warnings). */
struct pg_sink {
	struct seq_file *m;
	char line[PG_LINE_MAX];
};

static __printf(2, 3) void pg_emit(struct pg_sink *s, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (s->m) {
		seq_vprintf(s->m, fmt, args);
		seq_putc(s->m, '\n');
	} else {
		vscnprintf(s->line, sizeof(s->line), fmt, args);
		pr_warn("%s\n", s->line);
	}
	va_end(args);
}

/*
 * The pid namespace @t is tearing down as its init, or NULL.  Under rcu.
 * A teardown runs in exit_notify(), before the task becomes a zombie: an
 * init that is one already has ended its teardown, and only waits for
 * its parent.  Before the teardown, the namespace is still open.
 */
static struct pid_namespace *pg_torn_down_by(struct task_struct *t)
{
	struct pid_namespace *ns;

	if (!(READ_ONCE(t->flags) & PF_EXITING) || READ_ONCE(t->exit_state))
		return NULL;
	ns = task_active_pid_ns(t);
	if (!ns || ns == &init_pid_ns || READ_ONCE(ns->child_reaper) != t)
		return NULL;
	if (READ_ONCE(ns->pid_allocated) & PIDNS_ADDING)
		return NULL;
	return ns;
}

static pid_t pg_reader_nr(struct pid *pid)
{
	return pid_nr_ns(pid, task_active_pid_ns(current));
}

/*
 * A task name is whatever its owner chose: print it so that it can never
 * end a line or forge a field.  Printable ASCII other than space,
 * backslash and '=' stays; every other byte becomes a \ooo octal escape,
 * as /proc/mounts writes a space in a path (\040).
 */
static void pg_escape_comm(char *dst, size_t len, const char *comm)
{
	size_t o = 0;

	for (; *comm && o + 5 <= len; comm++) {
		unsigned char c = *comm;

		if (c > ' ' && c < 0x7f && c != '\\' && c != '=')
			dst[o++] = c;
		else
			o += scnprintf(dst + o, len - o, "\\%03o", c);
	}
	dst[o] = '\0';
}

/*
 * Frozen by a freezer: the system's or cgroup v1's (TASK_FROZEN), or
 * cgroup v2's.  Its flag, task->frozen, is set by every ptrace and job
 * control stop as well (cgroup_enter_frozen() in ptrace_stop() and
 * do_signal_stop(), so that stopped tasks never keep a cgroup from
 * freezing): it means frozen only while the task's cgroup is freezing.
 */
static bool pg_frozen(struct task_struct *t, unsigned int state)
{
	return state & TASK_FROZEN ||
	       (t->frozen && test_bit(CGRP_FREEZE, &task_dfl_cgroup(t)->flags));
}

static const char *pg_why(struct task_struct *t, struct task_struct *tracer,
			  bool parent_outside)
{
	unsigned int state = READ_ONCE(t->__state);

	if (t->exit_state == EXIT_ZOMBIE) {
		if (tracer)
			return "zombie-traced: only its tracer can reap it";
		if (parent_outside)
			return "zombie-foreign-parent: its parent outside has not reaped it";
		return "zombie: waiting for its parent to reap it";
	}
	if (t->exit_state)
		return "being-released";
	if (pg_torn_down_by(t))
		return "nested-teardown: init of a nested namespace, waiting for its own holders";
	if (pg_frozen(t, state))
		return "frozen: thaw its cgroup (docker unpause) so that SIGKILL can act";
	/*
	 * Stopped by its tracer, e.g. in its exit event (strace -f's
	 * PTRACE_O_TRACEEXIT) after the teardown's SIGKILL: that SIGKILL was
	 * consumed by the exit, and once its group exits prepare_signal()
	 * drops any other.  Only the tracer can let it go.
	 */
	if (tracer && task_is_traced(t))
		return "traced-stopped: stopped by its tracer, which must resume or detach it";
	/*
	 * A task in do_exit() (PF_EXITING, set by exit_signals()) asleep
	 * there, e.g. in a file's flush at close: no signal ends that sleep,
	 * killable or not.  wants_signal() refuses a PF_EXITING task, so
	 * complete_signal() wakes no single-threaded one; and once its group
	 * has SIGNAL_GROUP_EXIT (do_group_exit(), synchronize_group_exit()),
	 * prepare_signal() drops every signal: the teardown's SIGKILL is not
	 * even queued.  It goes when that wait ends.
	 */
	if (READ_ONCE(t->flags) & PF_EXITING)
		return "exiting: in its exit path, where no signal reaches it";
	if ((state & TASK_KILLABLE) == TASK_KILLABLE)
		return "killable: SIGKILL ends this sleep, it is on its way out";
	if (state & TASK_UNINTERRUPTIBLE)
		return "uninterruptible: cannot act on SIGKILL until this sleep ends";
	if (__fatal_signal_pending(t))
		return "dying: SIGKILL pending, not yet exited";
	return "alive";
}

/* Where @t sleeps, as a symbol name: never an address, "?" without one. */
static void pg_wchan(char *where, size_t len, struct task_struct *t)
{
	unsigned long wchan = t->exit_state ? 0 : pg_get_wchan(t);

	if (!wchan) {
		strscpy(where, "-", len);
		return;
	}
	/* %ps falls back to the address when no symbol covers it */
	snprintf(where, len, "%ps", (void *)wchan);
	if (!strncmp(where, "0x", 2))
		strscpy(where, "?", len);
}

static void pg_report_holder(struct pg_sink *s, struct task_struct *reaper,
			     struct pid_namespace *ns, struct pid *pid,
			     struct task_struct *t)
{
	struct task_struct *parent = rcu_dereference(t->real_parent);
	struct task_struct *tracer = ptrace_parent(t);
	bool outside = !pid_nr_ns(task_tgid(parent), ns);
	char comm[TASK_COMM_LEN], name[4 * TASK_COMM_LEN];
	const char *why = pg_why(t, tracer, outside);
	char state[2] = { task_state_to_char(t) };
	char where[KSYM_NAME_LEN];

	get_task_comm(comm, t);
	pg_escape_comm(name, sizeof(name), comm);
	pg_wchan(where, sizeof(where), t);
	pg_emit(s,
		"  holder pid=%d nspid=%d comm=%s state=%s wchan=%s ppid=%d parent_outside=%s tracer=%d why=%s",
		pg_reader_nr(pid), pid_nr_ns(pid, ns), name, state, where,
		pg_reader_nr(task_tgid(parent)), outside ? "yes" : "no",
		tracer ? pg_reader_nr(task_tgid(tracer)) : 0, why);
	/* the warning's holders, for tracers */
	if (!s->m)
		trace_pidns_guard_holder(ns->ns.inum, task_pid_nr(reaper),
					 pid_nr(pid), pid_nr_ns(pid, ns), name,
					 state, why);
}

/* Our record of @reaper's teardown, if it runs our code; under rcu. */
static bool pg_lookup(struct task_struct *reaper, int *phase, u64 *start)
{
	struct pg_teardown *td;
	bool found = false;

	spin_lock(&pg_active_lock);
	list_for_each_entry(td, &pg_active_list, node) {
		if (td->reaper == reaper) {
			*phase = READ_ONCE(td->phase);
			*start = td->start_ns;
			found = true;
			break;
		}
	}
	spin_unlock(&pg_active_lock);
	return found;
}

static bool pg_ours(struct task_struct *reaper)
{
	int phase;
	u64 start;

	return pg_lookup(reaper, &phase, &start);
}

/*
 * Every pid but 1 (init's leader) and the reaper's own is a holder,
 * threads of init included: a traced thread that exited stays a zombie
 * until its tracer reaps it.  At most PG_HOLDERS_MAX are listed; the rest
 * are counted from the namespace's own pid count, not walked.
 */
static void pg_report_holders(struct pg_sink *s, struct task_struct *reaper,
			      struct pid_namespace *ns, unsigned int left)
{
	unsigned int own = thread_group_leader(reaper) ? 1 : 2;
	unsigned int shown = 0;
	struct task_struct *t;
	struct pid *pid;
	int nr = 2;

	idr_for_each_entry_continue(&ns->idr, pid, nr) {
		t = pid_task(pid, PIDTYPE_PID);
		if (!t || t == reaper)
			continue;
		if (shown == PG_HOLDERS_MAX)
			break;
		pg_report_holder(s, reaper, ns, pid, t);
		shown++;
	}
	if (left > own + shown && shown == PG_HOLDERS_MAX)
		pg_emit(s, "  ... %u more pid(s) held, not listed (at most %u per teardown)",
			left - own - shown, PG_HOLDERS_MAX);
}

/* Under rcu_read_lock(). */
static void pg_report_teardown(struct pg_sink *s, struct task_struct *reaper,
			       struct pid_namespace *ns)
{
	unsigned int left = READ_ONCE(ns->pid_allocated) & ~PIDNS_ADDING;
	char elapsed[24];
	bool ours;
	int phase;
	u64 start;

	ours = pg_lookup(reaper, &phase, &start);
	if (ours) {
		snprintf(elapsed, sizeof(elapsed), "%llu",
			 div_u64(ktime_get_ns() - start, NSEC_PER_MSEC));
	} else {
		/* began in the stock function, before we were loaded */
		strscpy(elapsed, "unknown", sizeof(elapsed));
		phase = list_empty(&reaper->children) ? PG_PHASE_UNHASH :
							PG_PHASE_REAP;
	}
	/*
	 * Tell why a livepatch transition or an unload waits: our reap loop
	 * drops the RCU-tasks exit read side, the stock one holds it.
	 */
	pg_emit(s, "teardown ns=%u reaper=%d code=%s phase=%s elapsed_ms=%s pids_left=%u%s",
		ns->ns.inum, pg_reader_nr(task_pid(reaper)),
		ours ? "pidns_guard" : "stock", pg_phase_names[phase],
		elapsed, left,
		!ours && phase == PG_PHASE_REAP && pg_exit_holds_rcu_tasks() ?
		" rcu_tasks=blocked" : "");
	pg_report_holders(s, reaper, ns, left);
}

/* What pg_find_teardown() looks for. */
enum pg_find {
	PG_FIND_ANY,		/* a teardown in progress */
	PG_FIND_STOCK_REAP,	/* one in the stock function's reap loop */
	PG_FIND_ARRIVING,	/* an exiting init not (yet) in our code */
};

/* Under rcu_read_lock(). */
static bool pg_matches(struct task_struct *t, enum pg_find what)
{
	struct pid_namespace *ns;

	if (what == PG_FIND_ARRIVING) {
		/* before or just after closing its namespace */
		if (!(READ_ONCE(t->flags) & PF_EXITING) || READ_ONCE(t->exit_state))
			return false;
		ns = task_active_pid_ns(t);
		return ns && ns != &init_pid_ns &&
		       READ_ONCE(ns->child_reaper) == t &&
		       !pg_ours(t);
	}
	if (!pg_torn_down_by(t))
		return false;
	return what == PG_FIND_ANY ||
	       (!pg_ours(t) && !list_empty(&t->children));
}

/*
 * Teardowns are found by walking the initial namespace's pids (every task
 * has one there), one pid per RCU read side and with a reschedule now and
 * then, so that a machine of 100,000 tasks is never walked in one go.
 * Sets *nr to the pid number of the next match at or after *nr.
 */
static bool pg_find_teardown(pid_t *nr, enum pg_find what)
{
	struct task_struct *t;
	unsigned int walked = 0;
	struct pid *pid;
	bool found;

	for (;; (*nr)++) {
		rcu_read_lock();
		pid = find_ge_pid(*nr, &init_pid_ns);
		found = false;
		if (pid) {
			*nr = pid_nr(pid);
			t = pid_task(pid, PIDTYPE_PID);
			found = t && pg_matches(t, what);
		}
		rcu_read_unlock();
		if (!pid || found)
			return found;
		if (!(++walked % 128))
			cond_resched();
	}
}

/**
 * pg_stock_blocks_rcu_tasks - does a stock teardown hold RCU-tasks?
 * @arriving: also count exiting inits that may still enter the stock
 *            function (right after the redirect is armed)
 *
 * Only meaningful where exiting tasks hold the RCU-tasks exit read side
 * (see pg_exit_holds_rcu_tasks()); the stock reap loop never drops it.
 */
bool pg_stock_blocks_rcu_tasks(bool arriving)
{
	pid_t nr = 1;

	return pg_find_teardown(&nr, arriving ? PG_FIND_ARRIVING :
						PG_FIND_STOCK_REAP);
}

/*
 * The "active" file, one seq_file record per teardown (its line and at
 * most PG_HOLDERS_MAX holders), then a closing count.  A record's position
 * is its reaper's pid number in the initial namespace; the count's comes
 * after every pid.  A record is shown again after its buffer grew, and
 * counted once: by the highest position counted so far.
 */
#define PG_POS_COUNT ((loff_t)PID_MAX_LIMIT + 1)

struct pg_active_iter {
	struct pg_sink sink;
	pid_t nr;		/* reaper of this record; 0: the count */
	pid_t counted;		/* highest reaper counted */
	unsigned int count;
};

static void *pg_active_seek(struct pg_active_iter *it, loff_t *pos)
{
	pid_t nr = max_t(loff_t, *pos, 1);

	if (*pos <= PID_MAX_LIMIT && pg_find_teardown(&nr, PG_FIND_ANY)) {
		it->nr = nr;
		*pos = nr;
		return it;
	}
	if (*pos > PG_POS_COUNT)
		return NULL;
	it->nr = 0;
	*pos = PG_POS_COUNT;
	return it;
}

static void *pg_active_start(struct seq_file *m, loff_t *pos)
{
	struct pg_active_iter *it = m->private;

	if (!*pos) {
		it->count = 0;
		it->counted = 0;
	}
	return pg_active_seek(it, pos);
}

static void *pg_active_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return pg_active_seek(v, pos);
}

static void pg_active_stop(struct seq_file *m, void *v)
{
}

static int pg_active_show_one(struct seq_file *m, void *v)
{
	struct pg_active_iter *it = v;
	struct pid_namespace *ns;
	struct task_struct *t;

	if (!it->nr) {
		seq_printf(m, "# %u teardown(s) in progress\n", it->count);
		return 0;
	}
	rcu_read_lock();
	t = pid_task(find_pid_ns(it->nr, &init_pid_ns), PIDTYPE_PID);
	ns = t ? pg_torn_down_by(t) : NULL;
	if (ns) {
		it->sink.m = m;
		pg_report_teardown(&it->sink, t, ns);
		if (it->nr > it->counted) {
			it->counted = it->nr;
			it->count++;
		}
	}
	rcu_read_unlock();
	return 0;
}

static const struct seq_operations pg_active_seq_ops = {
	.start = pg_active_start,
	.next = pg_active_next,
	.stop = pg_active_stop,
	.show = pg_active_show_one,
};

/* open() of the "active" file: -ENOMEM when the iterator cannot be had. */
int pg_active_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &pg_active_seq_ops,
				sizeof(struct pg_active_iter));
}

/*
 * The stuck warning.  One delayed work for all teardowns, not a timer each:
 * arming and deleting a timer per teardown was most of what a quick
 * teardown with a holder cost over stock.  A teardown that wants a warning
 * gets a deadline; the work, armed for the earliest one, warns about every
 * teardown past its deadline and re-arms itself for the next.  A warning
 * is logged once per teardown, at most PG_WARN_BURST of them per
 * PG_WARN_RL_SECS; one the rate limit or a failed allocation kept out is
 * retried PG_WARN_RETRY_SECS later, a second past the end of the rate
 * limit's window (which began, at the latest, in the scan that kept it
 * out): a retry just inside the window would be kept out again, for
 * another minute.  A teardown that ends just leaves the list.  Each
 * warning is bounded like a record of "active": a header, at most
 * PG_HOLDERS_MAX holders and a count.
 */
#define PG_WARN_BATCH 8
#define PG_WARN_RL_SECS 60
#define PG_WARN_BURST 5
#define PG_WARN_RETRY_SECS (PG_WARN_RL_SECS + 1)

static void pg_warn_scan(struct work_struct *work);
static DECLARE_DELAYED_WORK(pg_warn_work, pg_warn_scan);

/*
 * A teardown found past its deadline.  The reaper is held by its struct
 * pid, not the task: put_task_struct() inlines an irqs_disabled() test on
 * PREEMPT_RT, a paravirt call through a pointer.
 */
struct pg_due {
	struct pid *reaper;
	struct pid_namespace *ns;
	unsigned int after;
};

/*
 * Under pg_active_lock: take references to what is due and postpone it to
 * a retry (pg_warn_logged() cancels that once the warning is out); arm
 * the work for the earliest deadline left.
 */
static int pg_warn_collect(struct pg_due *due, u64 now)
{
	struct pg_teardown *td;
	u64 next = U64_MAX;
	int n = 0;

	list_for_each_entry(td, &pg_active_list, node) {
		if (!td->warn_at_ns || td->warned)
			continue;
		if (td->warn_at_ns <= now && n < PG_WARN_BATCH) {
			td->warn_at_ns = now + PG_WARN_RETRY_SECS * NSEC_PER_SEC;
			/* Each of its pids pins the namespace: the reaper's does. */
			due[n].ns = get_pid_ns(td->ns);
			due[n].reaper = get_pid(task_pid(td->reaper));
			due[n].after = td->warn_after;
			n++;
		}
		next = min(next, max(td->warn_at_ns, now));
	}
	if (next != U64_MAX)
		schedule_delayed_work(&pg_warn_work,
				      nsecs_to_jiffies(next - now) + 1);
	return n;
}

/* The warning about @reaper's teardown is out: no retry. */
static void pg_warn_logged(struct task_struct *reaper)
{
	struct pg_teardown *td;

	spin_lock(&pg_active_lock);
	list_for_each_entry(td, &pg_active_list, node)
		if (td->reaper == reaper)
			td->warned = true;
	spin_unlock(&pg_active_lock);
}

/*
 * Under rcu_read_lock().  A warning not logged here is retried:
 * pg_warn_collect() postponed its deadline.
 */
static void pg_warn_one(struct pg_sink *s, const struct pg_due *due)
{
	static DEFINE_RATELIMIT_STATE(rs, PG_WARN_RL_SECS * HZ, PG_WARN_BURST);
	struct task_struct *reaper = pid_task(due->reaper, PIDTYPE_PID);

	/* Ended since it was collected: nothing to warn about. */
	if (!reaper || !pg_ours(reaper))
		return;
	if (!s || !__ratelimit(&rs))
		return;
	s->m = NULL;
	pr_warn("namespace teardown still waiting after %u s; its init cannot be reaped until these holders go:\n",
		due->after);
	pg_report_teardown(s, reaper, due->ns);
	pg_warn_logged(reaper);
}

static void pg_warn_scan(struct work_struct *work)
{
	struct pg_due due[PG_WARN_BATCH];
	struct pg_sink *s;
	int i, n;

	spin_lock(&pg_active_lock);
	n = pg_warn_collect(due, ktime_get_ns());
	spin_unlock(&pg_active_lock);

	s = n ? kmalloc(sizeof(*s), GFP_KERNEL) : NULL;
	for (i = 0; i < n; i++) {
		rcu_read_lock();
		pg_warn_one(s, &due[i]);
		rcu_read_unlock();
		put_pid_ns(due[i].ns);
		put_pid(due[i].reaper);
	}
	kfree(s);
}

void pg_active_begin(struct pg_teardown *td, struct pid_namespace *ns)
{
	td->reaper = current;
	td->ns = ns;
	td->phase = PG_PHASE_KILL;
	td->start_ns = ktime_get_ns();
	td->warn_after = READ_ONCE(pg_warn_after_secs);
	td->warn_at_ns = 0;
	td->warned = false;

	spin_lock(&pg_active_lock);
	list_add_tail(&td->node, &pg_active_list);
	spin_unlock(&pg_active_lock);
}

/*
 * Give the teardown a warning deadline.  Called once the kill is sent, and
 * only when anything but init is left: a namespace with nothing else to
 * wait for cannot get stuck.  If the work is already pending (for an
 * earlier deadline, unless warn_after_secs was lowered since), its scan
 * re-arms for this one.
 */
void pg_active_arm_warning(struct pg_teardown *td)
{
	if (!td->warn_after)
		return;
	spin_lock(&pg_active_lock);
	td->warn_at_ns = td->start_ns + (u64)td->warn_after * NSEC_PER_SEC;
	spin_unlock(&pg_active_lock);
	schedule_delayed_work(&pg_warn_work, (unsigned long)td->warn_after * HZ);
}

void pg_active_end(struct pg_teardown *td)
{
	spin_lock(&pg_active_lock);
	list_del(&td->node);
	spin_unlock(&pg_active_lock);
}

/* Module exit: no teardown runs our code any more, so none can re-arm it. */
void pg_active_exit(void)
{
	cancel_delayed_work_sync(&pg_warn_work);
}
