# shellcheck shell=sh
# The compatibility matrix's one boot per kernel (tests/matrix): the module
# loads and says its generation, a held teardown is named in `active`,
# the counters of one known shape are exact, it unloads leaving nothing.
# The host checks the kernel log.  Nothing here suspends or freezes (cloud
# kernels have no /sys/power/pm_test: freeze would be a real suspend).
# plan: smoke/load smoke/trace-events smoke/exact-counters smoke/held-active
# plan: smoke/unload
. /payload/lib.sh

echo "pgt: smoke on $(uname -r), generation $PG_GENERATION, version $PG_VERSION"

smoke_load() {
	pgt_load || { echo "insmod failed"; return 1; }
	dmesg | grep -q "pidns_guard: version $PG_VERSION active: .*($PG_GENERATION generation kernel)" ||
		{ dmesg | grep pidns_guard | tail -n 3; echo "no '$PG_GENERATION generation' announcement"; return 1; }
	echo "loaded: $(dmesg | grep "pidns_guard: version" | tail -n 1 | sed 's/^\[[^]]*\] //')"
}

# A namespace held in its final wait by a zombie whose parent lives
# outside: `active` names the teardown and the holder, and drops both when
# the holder is reaped.
smoke_held() {
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	# $2 = init, $3 = ns inode, $4 = outside parent, $5 = the zombie
	pgt_wait_for 30 pgt_stat_is active 1 || { echo "teardown not in pidns_guard"; return 1; }
	_act=$(cat "$PG_DBG/active")
	echo "$_act"
	echo "$_act" | grep -q "^teardown ns=$3 reaper=$2 code=pidns_guard phase=unhash-wait " ||
		{ echo "teardown of ns $3 by $2 not listed"; return 1; }
	echo "$_act" | grep "holder pid=$5 " | grep -q "ppid=$4 parent_outside=yes .*why=zombie-foreign-parent" ||
		{ echo "holder $5 not named with its outside parent $4"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	grep -q "^# 0 teardown(s) in progress" "$PG_DBG/active" || { echo "still listed after"; return 1; }
	echo "active named holder $5 (zombie-foreign-parent, unhash-wait) and dropped it after"
}

# Whatever failed, the holder goes: nothing may stay held after this step.
smoke_held_step() {
	smoke_held
	_rc=$?
	[ -n "$PGT_HOLD_PID" ] && pgt_hold_release >/dev/null
	return $_rc
}

# The shape of 40-visibility.sh's exact counters: an init with 3 zombie
# children it never waited for.  Run first after the load, as there: the
# held teardown's helpers may still be reaped after it ends.
smoke_counters() {
	pgt_stats_read a
	unshare -p -f sh -c 'sleep 0.3 & sleep 0.3 & sleep 0.3 & exec sleep 2'
	pgt_stats_read b
	_got="teardowns=$(pgt_delta teardowns) done=$(pgt_delta teardowns_done) killed=$(pgt_delta tasks_killed) reaped=$(pgt_delta children_reaped) unhash_waits=$(pgt_delta unhash_waits) flushes=$(pgt_delta proc_flushes) active=$PGS_b_active"
	_want="teardowns=1 done=1 killed=3 reaped=3 unhash_waits=0 flushes=5 active=0"
	[ "$_got" = "$_want" ] || { echo "got $_got, want $_want"; return 1; }
	echo "exact deltas: $_got"
}

# The trace events register (the tracepoint core skips modules with some
# taints; ours, out of tree and maybe unsigned, are not among them).
smoke_trace_events() {
	_n=$(ls /sys/kernel/tracing/events/pidns_guard 2>/dev/null | grep -c '^pidns_guard_')
	[ "$_n" = 4 ] || { echo "$_n of 4 trace events under tracefs"; return 1; }
	echo "4 trace events pidns_guard:* registered (taints $(cat /proc/sys/kernel/tainted))"
}

smoke_unload() {
	pgt_unload || { echo "rmmod failed"; return 1; }
	pgt_no_traces || return 1
	dmesg | grep -q "pidns_guard: unloaded" || { echo "no unload message"; return 1; }
	echo "unloaded, nothing left behind"
}

# Each step's output on the console, its last line the result's detail.
smoke_step() {
	_n=$1
	shift
	_out=$("$@" 2>&1)
	_rc=$?
	echo "$_out" | sed "s|^|pgt: $_n: |"
	if [ $_rc -eq 0 ]; then
		pgt_result "$_n" PASS "$(echo "$_out" | tail -n 1)"
	else
		pgt_result "$_n" FAIL "$(echo "$_out" | tail -n 1)"
	fi
	return $_rc
}

if smoke_step smoke/load smoke_load; then
	smoke_step smoke/trace-events smoke_trace_events
	smoke_step smoke/exact-counters smoke_counters
	smoke_step smoke/held-active smoke_held_step
	smoke_step smoke/unload smoke_unload
else
	for _n in smoke/trace-events smoke/exact-counters smoke/held-active smoke/unload; do
		pgt_result "$_n" FAIL "the module did not load"
	done
fi
