// SPDX-License-Identifier: GPL-2.0
/*
 * Reaching the kernel's unexported code by direct calls only.
 *
 * The teardown needs functions the kernel does not export
 * (disable_pid_allocation(), group_send_sig_info(), kernel_wait4(), ...)
 * and one lock (tasklist_lock).  Debian's 6.12 kernels are built with IBT
 * and overwrite the ENDBR instruction of every function whose address is
 * never taken, which includes all of these and kallsyms_lookup_name()
 * itself: an indirect call into one of them is a "Missing ENDBR" BUG on
 * IBT hardware.  So no function pointer is ever called here.  Each target
 * gets a static_call of our own; static_call_update() rewrites its
 * trampoline and every call site into a direct CALL/JMP rel32, which IBT
 * does not police.
 *
 * kallsyms_lookup_name() is unexported too.  Its address comes from a
 * kprobe registered by name (the kprobe core resolves the name for us);
 * it is then reached through a static_call like the rest.  On 6.12 the
 * kprobe reports sym+4, just past the (sealed) ENDBR: a direct jump
 * there runs the same function.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/acct.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/static_call.h>

#include "pidns_guard.h"

DEFINE_STATIC_CALL_NULL(pg_sc_kallsyms_lookup_name, kallsyms_lookup_name);
DEFINE_STATIC_CALL_NULL(pg_sc_disable_pid_allocation, disable_pid_allocation);
DEFINE_STATIC_CALL_NULL(pg_sc_group_send_sig_info, group_send_sig_info);
DEFINE_STATIC_CALL_NULL(pg_sc_kernel_wait4, kernel_wait4);
DEFINE_STATIC_CALL_NULL(pg_sc_get_wchan, get_wchan);
#ifdef CONFIG_BSD_PROCESS_ACCT
DEFINE_STATIC_CALL_NULL(pg_sc_acct_exit_ns, acct_exit_ns);
#endif
#if PG_EXIT_RCU_DANCE
DEFINE_STATIC_CALL_NULL(pg_sc_exit_tasks_rcu_stop, exit_tasks_rcu_stop);
DEFINE_STATIC_CALL_NULL(pg_sc_exit_tasks_rcu_start, exit_tasks_rcu_start);
#endif

/* Data, not code: read through a pointer, never called. */
rwlock_t *pg_tasklist_lock;

struct pg_ksym {
	const char *name;
	struct static_call_key *key;
	void *tramp;
};

#define PG_KSYM(fn) {							\
	.name = #fn,							\
	.key = &STATIC_CALL_KEY(pg_sc_##fn),				\
	.tramp = STATIC_CALL_TRAMP_ADDR(pg_sc_##fn),			\
}

static const struct pg_ksym pg_ksyms[] = {
	PG_KSYM(disable_pid_allocation),
	PG_KSYM(group_send_sig_info),
	PG_KSYM(kernel_wait4),
	PG_KSYM(get_wchan),
#ifdef CONFIG_BSD_PROCESS_ACCT
	PG_KSYM(acct_exit_ns),
#endif
#if PG_EXIT_RCU_DANCE
	PG_KSYM(exit_tasks_rcu_stop),
	PG_KSYM(exit_tasks_rcu_start),
#endif
};

static unsigned long pg_kprobe_address(const char *name)
{
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return addr;
}

static unsigned long pg_lookup(const char *name)
{
	return static_call(pg_sc_kallsyms_lookup_name)(name);
}

/**
 * pg_ksyms_resolve - point every static_call at its kernel function
 *
 * Return: 0, or -ENOENT (after one pr_err naming the symbol) when the
 * running kernel lacks one of them.  Nothing needs undoing on failure:
 * the static calls stay unused and vanish with the module.
 */
int pg_ksyms_resolve(void)
{
	unsigned long addr;
	size_t i;

	addr = pg_kprobe_address("kallsyms_lookup_name");
	if (!addr) {
		pr_err("cannot locate kallsyms_lookup_name through kprobes; refusing to load\n");
		return -ENOENT;
	}
	__static_call_update(&STATIC_CALL_KEY(pg_sc_kallsyms_lookup_name),
			     STATIC_CALL_TRAMP_ADDR(pg_sc_kallsyms_lookup_name),
			     (void *)addr);

	for (i = 0; i < ARRAY_SIZE(pg_ksyms); i++) {
		addr = pg_lookup(pg_ksyms[i].name);
		if (!addr) {
			pr_err("this kernel has no %s(); refusing to load\n",
			       pg_ksyms[i].name);
			return -ENOENT;
		}
		__static_call_update(pg_ksyms[i].key, pg_ksyms[i].tramp,
				     (void *)addr);
	}

	/* Data, not code: reading through this pointer is not a call. */
	pg_tasklist_lock = (rwlock_t *)pg_lookup("tasklist_lock");
	if (!pg_tasklist_lock) {
		pr_err("this kernel has no tasklist_lock; refusing to load\n");
		return -ENOENT;
	}
	return 0;
}

void pg_disable_pid_allocation(struct pid_namespace *ns)
{
	static_call(pg_sc_disable_pid_allocation)(ns);
}

int pg_group_send_sig_info(int sig, struct kernel_siginfo *info,
			   struct task_struct *p, enum pid_type type)
{
	return static_call(pg_sc_group_send_sig_info)(sig, info, p, type);
}

long pg_kernel_wait4(pid_t upid, int __user *stat_addr, int options,
		     struct rusage *ru)
{
	return static_call(pg_sc_kernel_wait4)(upid, stat_addr, options, ru);
}

unsigned long pg_get_wchan(struct task_struct *p)
{
	return static_call(pg_sc_get_wchan)(p);
}

void pg_acct_exit_ns(struct pid_namespace *ns)
{
#ifdef CONFIG_BSD_PROCESS_ACCT
	static_call(pg_sc_acct_exit_ns)(ns);
#endif
}

#if PG_EXIT_RCU_DANCE
void pg_exit_tasks_rcu_stop(void)
{
	static_call(pg_sc_exit_tasks_rcu_stop)();
}

void pg_exit_tasks_rcu_start(void)
{
	static_call(pg_sc_exit_tasks_rcu_start)();
}
#endif
