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

/* Where a line goes: a debugfs reader, or the kernel log (warnings). */
struct pg_sink {
	struct seq_file *m;
	char line[PG_LINE_MAX];
};

static __printf(2, 3) void pg_emit(struct pg_sink *s, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vscnprintf(s->line, sizeof(s->line), fmt, args);
	va_end(args);
	if (s->m)
		seq_printf(s->m, "%s\n", s->line);
	else
		pr_warn("%s\n", s->line);
}

/* The pid namespace @t is tearing down as its init, or NULL. */
static struct pid_namespace *pg_torn_down_by(struct task_struct *t)
{
	struct pid_namespace *ns;

	if (!(READ_ONCE(t->flags) & PF_EXITING))
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

static const char *pg_why(struct task_struct *t, struct task_struct *tracer,
			  bool parent_outside)
{
	if (t->exit_state == EXIT_ZOMBIE) {
		if (tracer)
			return "zombie-traced: only its tracer can reap it";
		if (parent_outside)
			return "zombie-foreign-parent: its parent outside has not reaped it";
		return "zombie: waiting for its parent to reap it";
	}
	if (t->exit_state)
		return "being-released";
	if (READ_ONCE(t->__state) & TASK_UNINTERRUPTIBLE)
		return "uninterruptible: cannot act on SIGKILL until this sleep ends";
	if (__fatal_signal_pending(t))
		return "dying: SIGKILL pending, not yet exited";
	return "alive";
}

static void pg_report_holder(struct pg_sink *s, struct pid_namespace *ns,
			     struct pid *pid, struct task_struct *t)
{
	struct task_struct *parent = rcu_dereference(t->real_parent);
	struct task_struct *tracer = ptrace_parent(t);
	bool outside = !pid_nr_ns(task_tgid(parent), ns);
	unsigned long wchan = t->exit_state ? 0 : pg_get_wchan(t);
	char comm[TASK_COMM_LEN], where[KSYM_NAME_LEN];

	__get_task_comm(comm, sizeof(comm), t);
	/* a symbol name, never an address */
	if (wchan)
		snprintf(where, sizeof(where), "%ps", (void *)wchan);
	else
		strscpy(where, "-", sizeof(where));
	pg_emit(s,
		"  holder pid=%d nspid=%d comm=%s state=%c wchan=%s ppid=%d parent_outside=%s tracer=%d why=%s",
		pg_reader_nr(pid), pid_nr_ns(pid, ns), comm,
		task_state_to_char(t), where,
		pg_reader_nr(task_tgid(parent)), outside ? "yes" : "no",
		tracer ? pg_reader_nr(task_tgid(tracer)) : 0,
		pg_why(t, tracer, outside));
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

/* Under rcu_read_lock(). */
static void pg_report_teardown(struct pg_sink *s, struct task_struct *reaper,
			       struct pid_namespace *ns)
{
	unsigned int left = READ_ONCE(ns->pid_allocated) & ~PIDNS_ADDING;
	bool ours;
	struct task_struct *t;
	struct pid *pid;
	int phase, nr = 2;
	char elapsed[24];
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

	/*
	 * Every pid but 1 (init's leader) and the reaper's own is a holder,
	 * threads of init included: a traced thread that exited stays a
	 * zombie until its tracer reaps it.
	 */
	idr_for_each_entry_continue(&ns->idr, pid, nr) {
		t = pid_task(pid, PIDTYPE_PID);
		if (t && t != reaper)
			pg_report_holder(s, ns, pid, t);
	}
}

/* The debugfs "active" file: every teardown in progress. */
void pg_active_show(struct seq_file *m)
{
	struct pg_sink *s = kmalloc(sizeof(*s), GFP_KERNEL);
	struct task_struct *g, *t;
	struct pid_namespace *ns;
	unsigned int n = 0;

	if (!s)
		return;
	s->m = m;
	rcu_read_lock();
	for_each_process_thread(g, t) {
		ns = pg_torn_down_by(t);
		if (!ns)
			continue;
		pg_report_teardown(s, t, ns);
		n++;
	}
	rcu_read_unlock();
	seq_printf(m, "# %u teardown(s) in progress\n", n);
	kfree(s);
}

/*
 * The stuck warning.  One delayed work for all teardowns, not a timer each:
 * arming and deleting a timer per teardown was most of what a quick
 * teardown with a holder cost over stock.  A teardown that wants a warning
 * gets a deadline; the work, armed for the earliest one, warns about every
 * teardown past its deadline (once each) and re-arms itself for the next.
 * A teardown that ends just leaves the list.
 */
#define PG_WARN_BATCH 8

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

/* Under pg_active_lock: take references to what is due, arm for the rest. */
static int pg_warn_collect(struct pg_due *due, u64 now)
{
	struct pg_teardown *td;
	u64 next = U64_MAX;
	int n = 0;

	list_for_each_entry(td, &pg_active_list, node) {
		if (!td->warn_at_ns || td->warned)
			continue;
		if (td->warn_at_ns > now || n == PG_WARN_BATCH) {
			next = min(next, max(td->warn_at_ns, now));
			continue;
		}
		td->warned = true;
		/* Each of its pids pins the namespace: the reaper's does. */
		due[n].ns = get_pid_ns(td->ns);
		due[n].reaper = get_pid(task_pid(td->reaper));
		due[n].after = td->warn_after;
		n++;
	}
	if (next != U64_MAX)
		schedule_delayed_work(&pg_warn_work,
				      nsecs_to_jiffies(next - now) + 1);
	return n;
}

static void pg_warn_scan(struct work_struct *work)
{
	static DEFINE_RATELIMIT_STATE(rs, 60 * HZ, 5);
	struct pg_due due[PG_WARN_BATCH];
	struct pg_sink *s;
	int i, n;

	spin_lock(&pg_active_lock);
	n = pg_warn_collect(due, ktime_get_ns());
	spin_unlock(&pg_active_lock);

	s = n ? kmalloc(sizeof(*s), GFP_KERNEL) : NULL;
	for (i = 0; i < n; i++) {
		struct task_struct *reaper;
		int phase;
		u64 start;

		rcu_read_lock();
		reaper = pid_task(due[i].reaper, PIDTYPE_PID);
		/* Ended since it was collected: nothing to warn about. */
		if (s && reaper && pg_lookup(reaper, &phase, &start) &&
		    __ratelimit(&rs)) {
			s->m = NULL;
			pr_warn("namespace teardown still waiting after %u s; its init cannot be reaped until these holders go:\n",
				due[i].after);
			pg_report_teardown(s, reaper, due[i].ns);
		}
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
