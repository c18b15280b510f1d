# shellcheck shell=sh
# Issue 4: /proc flushing at task reap keeps working with our ftrace_ops
# on proc_flush_pid(), and proc_flushes counts it.  The seed's measurement:
# `find /proc` in a loop while tasks come and go; after a warm-up,
# proc_inode_cache must not grow steadily.  Run on stock, then with the
# module.

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

pgt_flush_churn() {	# mode
	_mode=$1 _rounds=8 _per=201	# tree_wide: 50 processes x 4 threads + init
	if [ "$_mode" = guard ]; then
		pgt_load || return 1
		_f0=$(pgt_stat proc_flushes)
	fi
	rm -f /tmp/churn.done
	echo 0 >/tmp/churn.passes
	( _n=0
	  while [ ! -e /tmp/churn.done ]; do
		find /proc >/dev/null 2>&1
		_n=$((_n + 1))
		echo $_n >/tmp/churn.passes
	  done ) &
	_fpid=$!
	# Warm up: the first passes fill the cache with /proc's long-lived
	# entries (sys, net, ...), which is not what we measure.  At least 3
	# rounds and 2 whole passes of find (slow kernels need more rounds).
	_i=0
	while [ $_i -lt 3 ] || { [ "$(cat /tmp/churn.passes)" -lt 2 ] && [ $_i -lt 30 ]; }; do
		/payload/pgtest run tree_wide -n 1 >/dev/null
		_i=$((_i + 1))
	done
	_samples=
	_i=0
	while [ $_i -lt $_rounds ]; do
		/payload/pgtest run tree_wide -n 1 >/dev/null || { touch /tmp/churn.done; wait; echo "teardown failed"; return 1; }
		_samples="$_samples $(pgt_proc_inodes)"
		_i=$((_i + 1))
	done
	touch /tmp/churn.done
	wait $_fpid
	echo "proc_inode_cache after each of $_rounds rounds of $_per tasks:$_samples"
	# shellcheck disable=SC2086
	set -- $_samples
	_first=$1 _rising=0 _prev=$1
	shift
	for _s in "$@"; do
		[ "$_s" -gt "$_prev" ] && _rising=$((_rising + 1))
		_prev=$_s
	done
	# Unflushed, every round would leave thousands of inodes of dead tasks
	# behind: growth in every round, and by far more than one round's worth.
	if [ $_rising -eq $((_rounds - 1)) ] && [ "$_prev" -gt $((_first + _per * 4)) ]; then
		echo "grows steadily: $_first -> $_prev"
		return 1
	fi
	if [ "$_mode" = guard ]; then
		_df=$(($(pgt_stat proc_flushes) - _f0))
		[ $_df -ge $((_rounds * _per)) ] ||
			{ echo "proc_flushes grew by $_df for at least $((_rounds * _per)) reaped tasks"; return 1; }
		_extra="; proc_flushes +$_df"
	fi
	echo "flat: $_first -> $_prev (rose in $_rising of $((_rounds - 1)) rounds)${_extra:-}"
}
pgt_run_check stock/proc-flush pgt_flush_churn stock
pgt_run_check guard/proc-flush pgt_flush_churn guard
