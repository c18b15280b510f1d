# shellcheck shell=sh
# Issue 14: the trace events pidns_guard:* (tracefs), checked field by
# field against a held teardown: its namespace and init from pgtest, the
# holder it names, and the counters' deltas for the same teardown.
# plan: trace/registered trace/held-teardown

PGT_TR=/sys/kernel/tracing

pgt_trace_registered() {
	pgt_load || { echo "insmod failed"; return 1; }
	_ev=$(ls $PGT_TR/events/pidns_guard 2>/dev/null | grep -c '^pidns_guard_')
	[ "$_ev" = 4 ] || { ls $PGT_TR/events/pidns_guard; echo "$_ev of 4 events under tracefs"; return 1; }
	pgt_unload || return 1
	[ ! -e $PGT_TR/events/pidns_guard ] || { echo "events left after unload"; return 1; }
	echo "4 events pidns_guard:* registered (module taints: $(cat /proc/sys/kernel/tainted)), gone after unload"
}
pgt_run_check trace/registered pgt_trace_registered

# The field NAME=value of the first trace line of EVENT.
pgt_trace_field() {	# event field
	sed -n "s/.* $1:.* $2=\([^ ]*\).*/\1/p" /tmp/trace.out | head -n 1
}

pgt_trace_held() {
	pgt_load warn_after_secs=1 || { echo "insmod failed"; return 1; }
	echo >$PGT_TR/trace
	echo 1 >$PGT_TR/events/pidns_guard/enable || { echo "cannot enable"; return 1; }
	pgt_stats_read a
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	_init=$2 _ino=$3 _held=$5
	pgt_wait_for 30 grep -q pidns_guard_holder $PGT_TR/trace || { echo "no holder event"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 grep -q pidns_guard_teardown_end $PGT_TR/trace || { echo "no end event"; return 1; }
	echo 0 >$PGT_TR/events/pidns_guard/enable
	pgt_stats_read b
	grep pidns_guard_ $PGT_TR/trace >/tmp/trace.out
	cat /tmp/trace.out
	_bad=
	pgt_trace_want() {	# event field want
		_v=$(pgt_trace_field "$1" "$2")
		[ "$_v" = "$3" ] || _bad="$_bad $1.$2=$_v(want $3)"
	}
	for _e in teardown_begin phase holder teardown_end; do
		pgt_trace_want pidns_guard_$_e ns "$_ino"
		pgt_trace_want pidns_guard_$_e reaper "$_init"
	done
	pgt_trace_want pidns_guard_teardown_begin killed "$(pgt_delta tasks_killed)"
	pgt_trace_want pidns_guard_holder pid "$_held"
	pgt_trace_want pidns_guard_holder comm pgtest
	pgt_trace_want pidns_guard_holder state Z
	pgt_trace_want pidns_guard_holder why zombie-foreign-parent:
	pgt_trace_want pidns_guard_teardown_end killed "$(pgt_delta tasks_killed)"
	pgt_trace_want pidns_guard_teardown_end reaped "$(pgt_delta children_reaped)"
	pgt_trace_want pidns_guard_teardown_end duration_ns "$(pgt_delta teardown_ns_total)"
	pgt_trace_want pidns_guard_teardown_end unhash_wait_ns "$(pgt_delta unhash_wait_ns_total)"
	_phases=$(sed -n 's/.* pidns_guard_phase: .* phase=\([^ ]*\) .*/\1/p' /tmp/trace.out | tr '\n' ' ')
	[ "$_phases" = "reap unhash-wait finish " ] || _bad="$_bad phases=$_phases"
	# elapsed grows from phase to phase, and stays within the teardown
	_prev=0
	for _t in $(sed -n 's/.* pidns_guard_phase: .* elapsed_ns=\([0-9]*\).*/\1/p' /tmp/trace.out); do
		[ "$_t" -ge "$_prev" ] || _bad="$_bad elapsed-not-growing"
		_prev=$_t
	done
	[ "$_prev" -le "$(pgt_delta teardown_ns_total)" ] || _bad="$_bad phase-after-end"
	[ -z "$_bad" ] || { echo "wrong fields:$_bad"; return 1; }
	echo "begin, 3 phases, holder $_held, end: every field as the teardown of ns $_ino by $_init did"
}
pgt_run_check trace/held-teardown pgt_trace_held

