# shellcheck shell=sh
# Issue 4: /proc flushing at task reap keeps working with our ftrace_ops
# on proc_flush_pid(), and proc_flushes counts it.  Run on stock, then with
# the module.
#
# What flushing does, and how its absence shows: reaping a task calls
# proc_flush_pid(), which drops the dentries under /proc/PID (and
# /proc/PID/task/TID), and so frees their inodes.  Without it they stay in
# the dcache, unused, until memory pressure: nothing else looks a dead
# task's directory up again (readdir of /proc lists live tasks only).  So
# each round: a namespace of $_tasks sleeping tasks; `find /proc` while
# they live instantiates their entries (proc_inode_cache rises by R, about
# 170 per task on 6.12.117); the namespace is torn down (its init killed);
# a flushing kernel gives R back, one that does not keeps all of R.  Pass:
# each round leaves less than R/4 (a healthy kernel leaves about nothing),
# and R is at least 20 per task (else find did not see them: nothing was
# measured).
# plan: stock/proc-flush guard/proc-flush

# In use only: inodes freed after an RCU grace period get one, and objects
# on per-cpu slabs (and in KASAN's quarantine, on the debug kernel) are
# flushed back first.
pgt_proc_inodes() {
	sleep 0.5
	echo 1 >/sys/kernel/slab/proc_inode_cache/shrink 2>/dev/null
	while read -r _name _active _rest; do
		[ "$_name" = proc_inode_cache ] && { echo "$_active"; return; }
	done </proc/slabinfo
}

pgt_flush_gave_back() {	# base limit: sets _after
	_after=$(pgt_proc_inodes)
	[ $((_after - $1)) -lt "$2" ]
}

# One round; appends "R/left" to _samples.
pgt_flush_round() {
	rm -f /tmp/flush.ready
	find /proc >/dev/null 2>&1
	_base=$(pgt_proc_inodes)
	unshare -p -f sh -c "i=0; while [ \$i -lt $_tasks ]; do sleep 1000 & i=\$((i + 1)); done
		touch /tmp/flush.ready; wait" &
	_u=$!
	pgt_wait_for 60 test -e /tmp/flush.ready || { echo "namespace not ready"; return 1; }
	_init=$(cat /proc/$_u/task/$_u/children)
	_init=${_init% }
	find /proc >/dev/null 2>&1
	_rise=$(($(pgt_proc_inodes) - _base))
	kill -9 "$_init"
	wait $_u
	pgt_wait_for 10 pgt_flush_gave_back "$_base" $((_rise / 4))
	_samples="$_samples $_rise/$((_after - _base))"
	[ "$_rise" -ge $((_tasks * 20)) ] ||
		{ echo "find instantiated only $_rise proc inodes for $_tasks tasks: nothing measured"; return 1; }
	[ $((_after - _base)) -lt $((_rise / 4)) ] ||
		{ echo "dead tasks' /proc inodes not flushed: rose by $_rise while they lived, $((_after - _base)) left after they were reaped"; return 1; }
}

pgt_flush_churn() {	# mode
	_mode=$1 _rounds=3 _tasks=100 _samples=
	if [ "$_mode" = guard ]; then
		pgt_load || return 1
		_f0=$(pgt_stat proc_flushes)
	fi
	_i=0
	while [ $_i -lt $_rounds ]; do
		pgt_flush_round || return 1
		_i=$((_i + 1))
	done
	if [ "$_mode" = guard ]; then
		_df=$(($(pgt_stat proc_flushes) - _f0))
		[ $_df -ge $((_rounds * (_tasks + 1))) ] ||
			{ echo "proc_flushes grew by $_df for at least $((_rounds * (_tasks + 1))) reaped tasks"; return 1; }
		_extra="; proc_flushes +$_df"
	fi
	echo "proc_inode_cache rise while $_tasks tasks lived / left after their teardown:$_samples${_extra:-}"
}
pgt_run_check stock/proc-flush pgt_flush_churn stock
pgt_run_check guard/proc-flush pgt_flush_churn guard
