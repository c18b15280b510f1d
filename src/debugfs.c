// SPDX-License-Identifier: GPL-2.0
/*
 * Reporting: /sys/kernel/debug/pidns_guard/.
 *
 * Every file is 0444: under Secure Boot lockdown debugfs only opens files
 * that cannot be written.  Nothing printed here is a kernel address.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "pidns_guard.h"

#define PG_HIST_BAR 40

static struct dentry *pg_dir;

static int stats_show(struct seq_file *m, void *v)
{
	struct pg_stats_snapshot *snap;
	int i;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	pg_stats_snapshot(snap);
	for (i = 0; i < PG_NR_COUNTERS; i++)
		seq_printf(m, "%s %llu\n", pg_counter_name(i), snap->counter[i]);
	for (i = 0; i < PG_NR_MAXIMA; i++)
		seq_printf(m, "%s %llu\n", pg_maximum_name(i), snap->maximum[i]);
	seq_printf(m, "active %llu\n", snap->active);
	kfree(snap);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* Print 2^shift ns in the largest unit that keeps it whole. */
static void pg_print_pow2_ns(struct seq_file *m, unsigned int shift)
{
	static const char * const unit[] = { "ns", "us", "ms", "s" };
	u64 v = 1ULL << shift;
	int u = 0;

	while (u < ARRAY_SIZE(unit) - 1 && v >= 1000) {
		v /= 1000;
		u++;
	}
	seq_printf(m, "%5llu%-2s", v, unit[u]);
}

static int histogram_show(struct seq_file *m, void *v)
{
	struct pg_stats_snapshot *snap;
	u64 peak = 0;
	int i, first = -1, last = -1;

	snap = kmalloc(sizeof(*snap), GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	pg_stats_snapshot(snap);
	for (i = 0; i < PG_HIST_BUCKETS; i++) {
		if (!snap->hist[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		peak = max(peak, snap->hist[i]);
	}
	seq_puts(m, "# teardown latency (completed teardowns), log2 buckets: [from, to) count\n");
	for (i = first; first >= 0 && i <= last; i++) {
		seq_puts(m, i ? "" : "    0ns ");
		if (i)
			pg_print_pow2_ns(m, i - 1);
		seq_puts(m, " .. ");
		pg_print_pow2_ns(m, i);
		seq_printf(m, " %10llu |%.*s\n", snap->hist[i],
			   (int)div64_u64(snap->hist[i] * PG_HIST_BAR, peak),
			   "########################################");
	}
	kfree(snap);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(histogram);

/* One record per teardown, however many there are: see active.c. */
static const struct file_operations active_fops = {
	.owner = THIS_MODULE,
	.open = pg_active_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

void pg_debugfs_init(void)
{
	pg_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, pg_dir, NULL, &stats_fops);
	debugfs_create_file("histogram", 0444, pg_dir, NULL, &histogram_fops);
	debugfs_create_file("active", 0444, pg_dir, NULL, &active_fops);
}

void pg_debugfs_exit(void)
{
	debugfs_remove(pg_dir);
}
