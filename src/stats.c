// SPDX-License-Identifier: GPL-2.0
/*
 * Counters: exact, monotonic since load, lock-free to update.
 *
 * Sums and the histogram are per-cpu: proc_flushes is bumped on the exit
 * path of every task, so an update is one this_cpu_add().  A reader sums
 * the cpus; as every per-cpu value only grows, each sum it reports is
 * never below one reported earlier, and it is exact once the system is
 * quiet.  Maxima are a single atomic64 each, raised with cmpxchg.
 */
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/log2.h>
#include <linux/percpu.h>

#include "pidns_guard.h"

struct pg_pcpu_stats {
	u64 counter[PG_NR_COUNTERS];
	u64 hist[PG_HIST_BUCKETS];
};

static struct pg_pcpu_stats __percpu *pg_pcpu;
static atomic64_t pg_maxima[PG_NR_MAXIMA];

static const char * const pg_counter_names[PG_NR_COUNTERS] = {
	[PG_TEARDOWNS]			= "teardowns",
	[PG_TEARDOWNS_DONE]		= "teardowns_done",
	[PG_TASKS_KILLED]		= "tasks_killed",
	[PG_CHILDREN_REAPED]		= "children_reaped",
	[PG_UNHASH_WAITS]		= "unhash_waits",
	[PG_TEARDOWN_NS_TOTAL]		= "teardown_ns_total",
	[PG_UNHASH_WAIT_NS_TOTAL]	= "unhash_wait_ns_total",
	[PG_PROC_FLUSHES]		= "proc_flushes",
};

static const char * const pg_maximum_names[PG_NR_MAXIMA] = {
	[PG_TEARDOWN_NS_MAX]		= "teardown_ns_max",
	[PG_UNHASH_WAIT_NS_MAX]		= "unhash_wait_ns_max",
};

const char *pg_counter_name(enum pg_counter c)
{
	return pg_counter_names[c];
}

const char *pg_maximum_name(enum pg_maximum m)
{
	return pg_maximum_names[m];
}

int pg_stats_init(void)
{
	pg_pcpu = alloc_percpu(struct pg_pcpu_stats);
	return pg_pcpu ? 0 : -ENOMEM;
}

void pg_stats_exit(void)
{
	free_percpu(pg_pcpu);
}

/* notrace: the proc_flush_pid() ftrace handler calls it. */
void notrace pg_count(enum pg_counter c, u64 delta)
{
	this_cpu_add(pg_pcpu->counter[c], delta);
}

void pg_note_max(enum pg_maximum m, u64 value)
{
	s64 old = atomic64_read(&pg_maxima[m]);

	while ((u64)old < value &&
	       !atomic64_try_cmpxchg(&pg_maxima[m], &old, value))
		;
}

/* Bucket b holds durations in [2^(b-1), 2^b) ns; the last one is open. */
static unsigned int pg_hist_bucket(u64 ns)
{
	unsigned int b = ns ? ilog2(ns) + 1 : 0;

	return min_t(unsigned int, b, PG_HIST_BUCKETS - 1);
}

void pg_note_teardown_ns(u64 ns)
{
	this_cpu_inc(pg_pcpu->hist[pg_hist_bucket(ns)]);
	pg_count(PG_TEARDOWN_NS_TOTAL, ns);
	pg_note_max(PG_TEARDOWN_NS_MAX, ns);
}

void pg_stats_snapshot(struct pg_stats_snapshot *snap)
{
	struct pg_pcpu_stats *p;
	int cpu, i;

	memset(snap, 0, sizeof(*snap));
	for_each_possible_cpu(cpu) {
		p = per_cpu_ptr(pg_pcpu, cpu);
		/* done before started, so that started - done is never < 0 */
		snap->counter[PG_TEARDOWNS_DONE] +=
			READ_ONCE(p->counter[PG_TEARDOWNS_DONE]);
	}
	smp_rmb();	/* pairs with the ordering of start before done */
	for_each_possible_cpu(cpu) {
		p = per_cpu_ptr(pg_pcpu, cpu);
		for (i = 0; i < PG_NR_COUNTERS; i++)
			if (i != PG_TEARDOWNS_DONE)
				snap->counter[i] += READ_ONCE(p->counter[i]);
		for (i = 0; i < PG_HIST_BUCKETS; i++)
			snap->hist[i] += READ_ONCE(p->hist[i]);
	}
	for (i = 0; i < PG_NR_MAXIMA; i++)
		snap->maximum[i] = atomic64_read(&pg_maxima[i]);
	snap->active = snap->counter[PG_TEARDOWNS] -
		       snap->counter[PG_TEARDOWNS_DONE];
}
