/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events: pidns_guard:* under tracefs, for perf, trace-cmd and
 * bpftrace.  Disabled, each is a static branch not taken.
 *
 * Every teardown that runs our code emits teardown_begin (once the kill is
 * sent), a phase event at each change, and teardown_end; the stuck warning
 * emits one holder event per holder it names.  Times are nanoseconds since
 * the teardown began; pids are global (the initial namespace's).  Task
 * names are stored escaped, as `active` prints them.  Only ints and
 * strings: libtraceevent (trace-cmd, perf) misreads a char field's %c.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pidns_guard

#if !defined(_PG_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PG_TRACE_H

#include <linux/tracepoint.h>

/* Kbuild's feature test: before 6.10 __assign_str() named its source. */
#ifdef PG_ASSIGN_STR_WITH_SOURCE
#define pg_assign_str(field, ...) __assign_str(field, __VA_ARGS__)
#else
#define pg_assign_str(field, ...) __assign_str(field)
#endif

TRACE_EVENT(pidns_guard_teardown_begin,
	    TP_PROTO(unsigned int ns, pid_t reaper, u64 killed),
	    TP_ARGS(ns, reaper, killed),
	    TP_STRUCT__entry(__field(unsigned int, ns)
			     __field(pid_t, reaper)
			     __field(u64, killed)),
	    TP_fast_assign(__entry->ns = ns;
			   __entry->reaper = reaper;
			   __entry->killed = killed;),
	    TP_printk("ns=%u reaper=%d killed=%llu",
		      __entry->ns, __entry->reaper, __entry->killed)
);

TRACE_EVENT(pidns_guard_phase,
	    TP_PROTO(unsigned int ns, pid_t reaper, const char *phase,
		     u64 elapsed_ns),
	    TP_ARGS(ns, reaper, phase, elapsed_ns),
	    TP_STRUCT__entry(__field(unsigned int, ns)
			     __field(pid_t, reaper)
			     __string(phase, phase)
			     __field(u64, elapsed_ns)),
	    TP_fast_assign(__entry->ns = ns;
			   __entry->reaper = reaper;
			   pg_assign_str(phase, phase);
			   __entry->elapsed_ns = elapsed_ns;),
	    TP_printk("ns=%u reaper=%d phase=%s elapsed_ns=%llu",
		      __entry->ns, __entry->reaper, __get_str(phase),
		      __entry->elapsed_ns)
);

TRACE_EVENT(pidns_guard_holder,
	    TP_PROTO(unsigned int ns, pid_t reaper, pid_t pid, pid_t nspid,
		     const char *comm, const char *state,
		     const char *why),
	    TP_ARGS(ns, reaper, pid, nspid, comm, state, why),
	    TP_STRUCT__entry(__field(unsigned int, ns)
			     __field(pid_t, reaper)
			     __field(pid_t, pid)
			     __field(pid_t, nspid)
			     __string(comm, comm)
			     __string(state, state)
			     __string(why, why)),
	    TP_fast_assign(__entry->ns = ns;
			   __entry->reaper = reaper;
			   __entry->pid = pid;
			   __entry->nspid = nspid;
			   pg_assign_str(comm, comm);
			   pg_assign_str(state, state);
			   pg_assign_str(why, why);),
	    TP_printk("ns=%u reaper=%d pid=%d nspid=%d comm=%s state=%s why=%s",
		      __entry->ns, __entry->reaper, __entry->pid, __entry->nspid,
		      __get_str(comm), __get_str(state), __get_str(why))
);

TRACE_EVENT(pidns_guard_teardown_end,
	    TP_PROTO(unsigned int ns, pid_t reaper, u64 duration_ns, u64 killed,
		     u64 reaped, u64 unhash_wait_ns),
	    TP_ARGS(ns, reaper, duration_ns, killed, reaped, unhash_wait_ns),
	    TP_STRUCT__entry(__field(unsigned int, ns)
			     __field(pid_t, reaper)
			     __field(u64, duration_ns)
			     __field(u64, killed)
			     __field(u64, reaped)
			     __field(u64, unhash_wait_ns)),
	    TP_fast_assign(__entry->ns = ns;
			   __entry->reaper = reaper;
			   __entry->duration_ns = duration_ns;
			   __entry->killed = killed;
			   __entry->reaped = reaped;
			   __entry->unhash_wait_ns = unhash_wait_ns;),
	    TP_printk("ns=%u reaper=%d duration_ns=%llu killed=%llu reaped=%llu unhash_wait_ns=%llu",
		      __entry->ns, __entry->reaper, __entry->duration_ns,
		      __entry->killed, __entry->reaped, __entry->unhash_wait_ns)
);

#endif /* _PG_TRACE_H */

/* Out of tree: the header is found through -I$(src)/src (Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pg_trace
#include <trace/define_trace.h>
