# shellcheck shell=sh
# Issue 4: what debugfs tells the operator.
# plan: vis/exact-counters vis/active-traced-zombie vis/active-stopped-tracee
# plan: vis/active-foreign-zombie vis/active-stock-teardown vis/stuck-warning
# plan: vis/concurrent-readers

# Exact counters: namespaces of known shape, each torn down while the
# module is loaded, the deltas of one teardown at a time.  6 tasks are
# reaped system-wide each time: the subshell that runs unshare, unshare,
# init and its 3 children.
#  - zombies: init (sh, exec'ing sleep) has 3 children that exit before
#    the teardown and are never waited for: 3 zombies.  The kill loop
#    signals them (3 SIGKILLs sent: a zombie has none pending), the reap
#    loop reaps them (3), nothing is left for the final wait (0 unhash
#    waits).
#  - live: init has 3 children still running when it exits.  The kill
#    loop signals them (3); init ignores SIGCHLD from then on, so they
#    release themselves and the reap loop collects none (0 reaped); they
#    may or may not still be on their way out when the final wait looks
#    (0 or 1 unhash wait).
# Each teardown must end within 30 s: a reap loop that stops early leaves
# init waiting in its final wait for zombie children that nobody else may
# reap, and that shows here as a failure, not a hang.  The wait forks
# nothing (read -t on a fifo): every task reaped meanwhile is counted.
pgt_exact_shape() {	# name script want...: the deltas, one of want
	rm -f /tmp/exact.fifo && mkfifo /tmp/exact.fifo
	pgt_stats_read a
	# not on pgt_run_check's pipe: a teardown that never ends would keep
	# it open
	( unshare -p -f sh -c "$2"; echo "rc $?" ) </dev/null >/tmp/exact.fifo 2>/dev/console &
	if ! read -r -t 30 _l _rc </tmp/exact.fifo || [ "$_l" != rc ]; then
		echo "$1: the teardown did not end in 30 s: $(grep '^teardown ' "$PG_DBG/active")"
		return 1
	fi
	wait
	pgt_stats_read b
	_got="teardowns=$(pgt_delta teardowns) done=$(pgt_delta teardowns_done) killed=$(pgt_delta tasks_killed) reaped=$(pgt_delta children_reaped) unhash_waits=$(pgt_delta unhash_waits) flushes=$(pgt_delta proc_flushes) active=$PGS_b_active"
	_n=$1
	shift 2
	for _w in "$@"; do
		[ "$_got" = "$_w" ] && return 0
	done
	echo "$_n: got $_got, want $1"
	return 1
}

pgt_exact_counters() {
	pgt_load || return 1
	pgt_exact_shape zombies 'sleep 0.3 & sleep 0.3 & sleep 0.3 & exec sleep 2' \
		"teardowns=1 done=1 killed=3 reaped=3 unhash_waits=0 flushes=6 active=0" || return 1
	_zombies=$_got
	[ "$(pgt_delta teardown_ns_total)" -gt 0 ] && [ "$PGS_b_teardown_ns_max" -gt 0 ] ||
		{ echo "no teardown time recorded"; return 1; }
	pgt_exact_shape live 'sleep 1000 & sleep 1000 & sleep 1000 & exec sleep 1' \
		"teardowns=1 done=1 killed=3 reaped=0 unhash_waits=0 flushes=6 active=0" \
		"teardowns=1 done=1 killed=3 reaped=0 unhash_waits=1 flushes=6 active=0" || return 1
	# The histogram holds every completed teardown since load, once.
	_h=0
	while read -r _lo _dots _hi _n _bar; do
		case $_lo in '#'*) continue ;; esac
		_h=$((_h + _n))
	done <"$PG_DBG/histogram"
	[ "$_h" = "$PGS_b_teardowns_done" ] ||
		{ echo "histogram holds $_h teardowns, stats say $PGS_b_teardowns_done"; return 1; }
	echo "exact deltas: 3 zombies: $_zombies; 3 live children: $_got; histogram total $_h"
}
pgt_run_check vis/exact-counters pgt_exact_counters

# active names the holder and the reason, for each kind of holder.
pgt_active_names() {	# kind why phase
	pgt_load || return 1
	pgt_hold_start "$1" || { echo "no held namespace"; return 1; }
	# shellcheck disable=SC2046
	set -- "$@" $(grep '^held ' "$PGT_HOLD_OUT")
	# $4 = held, $5 = init, $6 = ns inode, $7 = keeper, $8 = holder
	_act=$(cat "$PG_DBG/active")
	echo "$_act"
	echo "$_act" | grep -q "^teardown ns=$6 reaper=$5 code=pidns_guard phase=$3 " ||
		{ echo "no $3 teardown of ns $6 by $5 listed"; return 1; }
	echo "$_act" | grep "holder pid=$8 " | grep -q "why=$2" ||
		{ echo "holder $8 not named with why=$2"; return 1; }
	if [ "$2" = zombie-traced ]; then
		echo "$_act" | grep "holder pid=$8 " | grep -q "tracer=$7 " ||
			{ echo "tracer $7 not named"; return 1; }
	else
		echo "$_act" | grep "holder pid=$8 " | grep -q "ppid=$7 parent_outside=yes" ||
			{ echo "outside parent $7 not named"; return 1; }
	fi
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	grep -q "^# 0 teardown(s) in progress" "$PG_DBG/active" || { echo "still listed after"; return 1; }
	echo "active named holder $8 ($2, in $3) and dropped it after"
}
pgt_run_check vis/active-traced-zombie pgt_active_names zombie zombie-traced unhash-wait
pgt_run_check vis/active-stopped-tracee pgt_active_names stopped zombie-traced reap
pgt_run_check vis/active-foreign-zombie pgt_active_names foreign zombie-foreign-parent unhash-wait

# A teardown that began in the stock function, before the load, is listed.
pgt_active_stock() {
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	pgt_load || return 1
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	grep -q "^teardown ns=$3 reaper=$2 code=stock phase=unhash-wait" "$PG_DBG/active" ||
		{ cat "$PG_DBG/active"; echo "stock teardown not listed"; return 1; }
	grep -q "holder pid=$5 .*why=zombie-foreign-parent" "$PG_DBG/active" ||
		{ echo "its holder not named"; return 1; }
	pgt_hold_release >/dev/null
	echo "a teardown begun before the load is listed as code=stock with its holder"
}
pgt_run_check vis/active-stock-teardown pgt_active_stock

# The stuck-teardown warning, and the parameter's range check.
pgt_warning() {
	if pgt_load warn_after_secs=999999999 2>/dev/null; then
		echo "out-of-range warn_after_secs accepted"
		return 1
	fi
	dmesg | grep -q "pidns_guard: warn_after_secs must be 0 (off) to" ||
		{ echo "no refusal message"; return 1; }
	pgt_no_traces || return 1
	pgt_load warn_after_secs=2 || return 1
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	pgt_wait_for 20 sh -c "dmesg | grep -q 'holder pid=$5 .*why=zombie-foreign-parent'" ||
		{ echo "no warning naming holder $5"; return 1; }
	dmesg | grep -q "pidns_guard: namespace teardown still waiting after 2 s" ||
		{ echo "no warning header"; return 1; }
	pgt_hold_release >/dev/null
	echo "out-of-range value refused at load; after 2 s the warning named holder $5"
}
pgt_run_check vis/stuck-warning pgt_warning

# Every file readable by several readers at once during a teardown storm.
# Each reader reads every file whole (cat to EOF, something read) over and
# over while the storm lasts; one failed or empty read fails the test, and
# so does a reader that completed no round of reads.
pgt_concurrent_readers() {
	pgt_load || return 1
	rm -f /tmp/storm.done /tmp/reader.*
	for _r in 1 2 3 4; do
		( _n=0
		  while [ ! -e /tmp/storm.done ]; do
			for _f in stats active histogram; do
				cat "$PG_DBG/$_f" >/tmp/reader.$_r.buf && [ -s /tmp/reader.$_r.buf ] ||
					{ echo "reader $_r: read $((_n + 1)) of $_f failed or was empty" >/tmp/reader.$_r; exit 1; }
			done
			_n=$((_n + 1))
		  done
		  echo "$_n" >/tmp/reader.$_r ) &
	done
	/payload/pgtest run setns_fork_race -n 10 >/dev/null
	_rc=$?
	/payload/pgtest run tree_wide -n 4 >/dev/null || _rc=1
	touch /tmp/storm.done
	wait
	rm -f /tmp/storm.done
	_bad= _reads=
	for _r in 1 2 3 4; do
		_n=$(cat /tmp/reader.$_r 2>/dev/null)
		case $_n in
		0) _bad="$_bad; reader $_r: no complete read during the storm" ;;
		[1-9]*) _reads="$_reads+$_n" ;;
		'') _bad="$_bad; reader $_r: gone without a word" ;;
		*) _bad="$_bad; $_n" ;;
		esac
	done
	[ -z "$_bad" ] || { echo "${_bad#; }"; return 1; }
	[ $_rc -eq 0 ] || { echo "teardowns failed under readers"; return 1; }
	pgt_stats_read z
	[ "$PGS_z_teardowns" = "$PGS_z_teardowns_done" ] && [ "$PGS_z_active" = 0 ] ||
		{ echo "inconsistent after the storm"; return 1; }
	echo "4 readers, ${_reads#+} complete reads of stats, active and histogram during 14 teardowns; counters consistent"
}
pgt_run_check vis/concurrent-readers pgt_concurrent_readers
