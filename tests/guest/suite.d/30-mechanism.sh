# shellcheck shell=sh
# Issue 3, R1-R5: loading, unloading and coexisting, on the real kernel.
# plan: mech/R1-load-while-stuck mech/R2-unload-while-held-zombie
# plan: mech/R2-unload-while-held-foreign mech/R2-unload-while-held-stopped
# plan: mech/R3-unrelated-livepatch mech/R3-second-hook-refused mech/R5-clear-refusal

# R1: load while a teardown is stuck in the stock function's final wait
# (held by a foreign-parented zombie: the case that spins on old kernels).
# Not the reap loop: there stock 6.1 holds the RCU-tasks exit SRCU, so any
# synchronize_rcu_tasks() (a livepatch's unpatching, our own unload) waits
# for that teardown to end, module or not.
pgt_r1_load_while_stuck() {
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	_t0=$(pgt_now_cs)
	pgt_load || { echo "insmod failed"; pgt_hold_release; return 1; }
	_dt=$(($(pgt_now_cs) - _t0))
	[ $_dt -lt 1000 ] || { echo "insmod took ${_dt}0 ms"; return 1; }
	# New teardowns run our code...
	_b=$(pgt_stat teardowns)
	/payload/pgtest run tree_wide -n 1 >/dev/null || { echo "new teardown failed"; return 1; }
	[ "$(pgt_stat teardowns)" -gt "$_b" ] || { echo "new teardown did not run pidns_guard"; return 1; }
	# ...and nothing is pending that would block another livepatch.
	insmod /payload/pg_klp_other.ko || { echo "livepatch refused"; return 1; }
	pgt_wait_for 30 pgt_klp_settled pg_klp_other || { echo "livepatch transition stuck"; return 1; }
	grep -q "pg_klp_other is live" /proc/cmdline || { echo "livepatch not effective"; return 1; }
	pgt_klp_remove pg_klp_other || { echo "livepatch removal failed"; return 1; }
	# The stuck teardown still finishes in the stock function, correctly.
	_b=$(pgt_stat teardowns_done)
	pgt_hold_release || { echo "held teardown broke"; return 1; }
	[ "$(pgt_stat teardowns_done)" = "$_b" ] || { echo "stock teardown counted as ours"; return 1; }
	pgt_unload_wait || { echo "rmmod refused after the stuck teardown ended"; return 1; }
	pgt_no_traces || return 1
	echo "insmod took ${_dt}0 ms with a teardown stuck in the stock function"
}
pgt_run_check mech/R1-load-while-stuck pgt_r1_load_while_stuck

# R2: unload while a teardown sleeps in our code, for every kind of holder
# (pgt_r2_unload_while_held is in lib.sh: 70-reliability repeats it).
for _k in zombie foreign stopped; do
	pgt_run_check mech/R2-unload-while-held-$_k pgt_r2_unload_while_held $_k
	pgt_loaded && pgt_unload
done

# R3: an unrelated livepatch coexists; a second owner of the function is
# refused, in both orders, with a clear error.
pgt_r3_coexist() {
	pgt_load || { echo "insmod failed"; return 1; }
	insmod /payload/pg_klp_other.ko || { echo "unrelated livepatch refused"; return 1; }
	pgt_wait_for 30 pgt_klp_settled pg_klp_other || { echo "transition stuck"; return 1; }
	_b=$(pgt_stat teardowns_done)
	/payload/pgtest run tree_deep -n 1 >/dev/null || { echo "teardown failed under livepatch"; return 1; }
	[ "$(pgt_stat teardowns_done)" -gt "$_b" ] || { echo "teardown bypassed pidns_guard"; return 1; }
	pgt_klp_remove pg_klp_other || { echo "livepatch removal failed"; return 1; }
	pgt_unload || { echo "rmmod failed"; return 1; }
	pgt_no_traces || return 1
	echo "unrelated livepatch loaded, transitioned and unloaded under pidns_guard"
}
pgt_run_check mech/R3-unrelated-livepatch pgt_r3_coexist

pgt_r3_second_owner() {
	pgt_load || { echo "insmod failed"; return 1; }
	if insmod /payload/pg_klp_zap.ko 2>/dev/null; then
		echo "a livepatch of zap_pid_ns_processes loaded on top of pidns_guard"
		return 1
	fi
	[ ! -e /sys/kernel/livepatch/pg_klp_zap ] || { echo "refused livepatch left behind"; return 1; }
	_b=$(pgt_stat teardowns_done)
	/payload/pgtest run tree_wide -n 1 >/dev/null || { echo "teardown failed"; return 1; }
	[ "$(pgt_stat teardowns_done)" -gt "$_b" ] || { echo "pidns_guard lost the hook"; return 1; }
	pgt_unload || return 1

	insmod /payload/pg_klp_zap.ko || { echo "livepatch of zap refused on stock"; return 1; }
	pgt_wait_for 30 pgt_klp_settled pg_klp_zap || { echo "transition stuck"; return 1; }
	if pgt_load 2>/dev/null; then
		echo "pidns_guard loaded on top of a livepatch of the same function"
		return 1
	fi
	dmesg | grep -q "pidns_guard: cannot redirect zap_pid_ns_processes" ||
		{ echo "no clear refusal message"; return 1; }
	pgt_no_traces || return 1
	pgt_klp_remove pg_klp_zap || { echo "livepatch removal failed"; return 1; }
	echo "each refused the other on zap_pid_ns_processes, clearly, nothing left behind"
}
pgt_run_check mech/R3-second-hook-refused pgt_r3_second_owner

# R5: a kernel that lacks what we need (here: ftrace switched off) gets
# one clear message and nothing left behind.  From 7.x the sysctl can no
# longer switch ftrace off (the kernel refuses the write and says the file
# is deprecated): nothing to refuse there, a SKIP that says so.
pgt_r5_refusal() {
	if ! echo 0 >/proc/sys/kernel/ftrace_enabled; then
		dmesg | grep -q "ftrace_enabled file is deprecated and no longer disables ftrace" ||
			{ echo "cannot switch ftrace off"; return 1; }
		echo "this kernel cannot switch ftrace off (kernel.ftrace_enabled is deprecated)"
		return 3
	fi
	if pgt_load 2>/dev/null; then
		echo 1 >/proc/sys/kernel/ftrace_enabled
		echo "loaded without ftrace"
		return 1
	fi
	echo 1 >/proc/sys/kernel/ftrace_enabled
	_msg=$(dmesg | grep "pidns_guard:" | tail -n 1)
	echo "$_msg" | grep -q "kernel.ftrace_enabled is 0" || { echo "unclear refusal: $_msg"; return 1; }
	pgt_no_traces || return 1
	pgt_load && pgt_unload && pgt_no_traces || { echo "cannot load after ftrace is back"; return 1; }
	echo "refused with: ${_msg#*pidns_guard: }"
}
pgt_run_check mech/R5-clear-refusal pgt_r5_refusal
