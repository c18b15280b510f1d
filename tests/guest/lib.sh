# shellcheck shell=sh
# Helpers for the in-guest suites (busybox sh).  Results go to fd 3 as
#   PGT RESULT <name> <PASS|FAIL|XFAIL|SKIP> <detail>
# and are echoed on the console so that they sit beside the kernel log.
#
# The plan.  Every part (suite.d/NN-name.sh) declares, before its code,
# the name of every result it reports, on one or more lines
#   # plan: name name ...
# A word with @KEY stands for one word per word of the part's own
# "# KEY: word ..." lines (20-scenarios.sh: stock/@scenarios, guard/@scenarios
# and its "# scenarios:" list, which the part also runs through
# pgt_declared): written in the part, never taken from the program under
# test (tests/run fails a kernel whose `pgtest list` differs from it).
# tests/run reads the plans of the parts it put in the payload and fails
# a planned name with no result (naming the part: never began, died
# midway, or ended without it), a result in no plan or reported twice, a
# part without a plan, and a full suite with fewer results than its floor.
# suite.sh marks each part's begin and end.  Report each name once, PASS
# or FAIL, even when a setup step fails; SKIP and XFAIL need a reason (the
# detail), and tests/run accepts them only as tests/expected-skips allows
# (kernel, test, reason).  XFAIL only where stock is known to fail, and
# only the way it is known to fail.

. /payload/env

PG_KO=/payload/pidns_guard.ko
PG_DBG=/sys/kernel/debug/pidns_guard

pgt_result() {
	_name=$1 _status=$2
	shift 2
	echo "PGT RESULT $_name $_status $*" >&3
	echo "pgt: $_name $_status $*"
	echo "pidns_guard-test: $_name $_status" >/dev/kmsg
}

# pgt_check NAME DETAIL CMD...: PASS when CMD succeeds.
pgt_check() {
	_n=$1 _d=$2
	shift 2
	if "$@"; then pgt_result "$_n" PASS "$_d"; else pgt_result "$_n" FAIL "$_d"; fi
}

pgt_loaded() { [ -d /sys/module/pidns_guard ]; }

pgt_load() {
	insmod "$PG_KO" "$@"
}

pgt_unload() {
	rmmod pidns_guard
}

# Unload, retrying for up to 30 s while the module is held: by a teardown
# still in our code, or (6.1) by itself while a stock teardown it found at
# load may still block RCU-tasks (it looks again every second).
pgt_unload_wait() {
	pgt_wait_for 30 pgt_unload 2>/dev/null
}

# Nothing of ours left in the kernel: no module, no ftrace ops on the
# target, no kprobe, no debugfs directory.
pgt_no_traces() {
	_left=
	pgt_loaded && _left="$_left module"
	grep -qs '\[pidns_guard\]' /sys/kernel/tracing/enabled_functions &&
		_left="$_left ftrace-ops"
	grep -qs pidns_guard /sys/kernel/debug/kprobes/list && _left="$_left kprobe"
	[ -e "$PG_DBG" ] && _left="$_left debugfs"
	[ -z "$_left" ] || { echo "left behind:$_left"; return 1; }
}

# pgt_declared KEY: the words of the "# KEY: ..." lines of the part being
# run (suite.sh sets PGT_PART), e.g. 20-scenarios.sh's scenarios.
pgt_declared() {
	sed -n "s/^# $1://p" "$PGT_PART"
}

# Value of one counter in the stats file.
pgt_stat() {
	sed -n "s/^$1 //p" "$PG_DBG/stats"
}

# pgt_wait_for SECONDS CMD...: poll (0.1 s) until CMD succeeds.
pgt_wait_for() {
	_t=$(($1 * 10))
	shift
	while ! "$@"; do
		_t=$((_t - 1))
		[ $_t -gt 0 ] || return 1
		sleep 0.1
	done
}

# Centiseconds since boot (busybox date has no %N).  /proc/uptime has two
# decimals; "1" in front keeps "08" from being read as octal.
pgt_now_cs() {
	_u=$(cut -d' ' -f1 /proc/uptime)
	echo $((${_u%.*} * 100 + 1${_u#*.} - 100))
}

# pgt_hold_start KIND: a namespace whose init sits in the final wait of
# its teardown, held there by an outside task (see pgtest hold).  Sets
# PGT_HOLD_PID (the pgtest process), PGT_HOLD_INIT (init's pid) and
# PGT_HOLD_INO (the namespace inode).
pgt_hold_start() {
	PGT_HOLD_FIFO=/tmp/hold-$1.fifo
	PGT_HOLD_OUT=/tmp/hold-$1.out
	rm -f "$PGT_HOLD_FIFO" "$PGT_HOLD_OUT"
	mkfifo "$PGT_HOLD_FIFO"
	/payload/pgtest hold --kind "$1" --release-fifo "$PGT_HOLD_FIFO" \
		>"$PGT_HOLD_OUT" 2>/dev/console &
	PGT_HOLD_PID=$!
	pgt_wait_for 60 grep -qs '^held ' "$PGT_HOLD_OUT" || return 1
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	PGT_HOLD_INIT=$2 PGT_HOLD_INO=$3
}

# Let the holder go; succeeds when pgtest saw init reaped with nothing of
# its namespace left.
pgt_hold_release() {
	[ -n "$PGT_HOLD_PID" ] || return 1
	timeout 10 sh -c "echo release >'$PGT_HOLD_FIFO'"
	wait "$PGT_HOLD_PID"
	_rc=$?
	PGT_HOLD_PID=
	cat "$PGT_HOLD_OUT"
	[ $_rc -eq 0 ] && grep -q '^ok hold' "$PGT_HOLD_OUT"
}

# pgt_run_check NAME FUNCTION [ARGS]: run a test function in a subshell;
# its output goes to the console, its last line is the result's detail.
# It passes with status 0, is skipped with 3 (the last line says why),
# and fails otherwise.
# A namespace it left held is released so that nothing hangs.
pgt_run_check() {
	_n=$1
	shift
	_out=$( ( "$@"; _fn_rc=$?
		  [ -n "$PGT_HOLD_PID" ] && pgt_hold_release >/dev/null
		  exit $_fn_rc ) 2>&1 )
	_rc=$?
	pgt_reset
	echo "$_out" | sed "s|^|pgt: $_n: |"
	_detail=$(echo "$_out" | tail -n 1)
	if [ $_rc -eq 0 ]; then
		pgt_result "$_n" PASS "$_detail"
	elif [ $_rc -eq 3 ]; then	# the function's last line says why
		pgt_result "$_n" SKIP "$_detail"
	else
		pgt_result "$_n" FAIL "$_detail"
	fi
}

# Livepatch helpers: transition finished?  disable and remove.
pgt_klp_settled() {
	[ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = 0 ]
}

pgt_klp_gone() {
	[ ! -e "/sys/kernel/livepatch/$1" ]
}

pgt_klp_remove() {
	echo 0 >"/sys/kernel/livepatch/$1/enabled" &&
		pgt_wait_for 30 pgt_klp_gone "$1" &&
		pgt_wait_for 30 rmmod "$1"
}

# Back to a stock kernel after a test, whatever it left loaded.
pgt_reset() {
	for _m in pg_klp_other pg_klp_zap; do
		[ -d "/sys/module/$_m" ] || continue
		[ -e "/sys/kernel/livepatch/$_m" ] && pgt_klp_remove "$_m"
		rmmod "$_m" 2>/dev/null
	done
	echo 1 >/proc/sys/kernel/ftrace_enabled
	# The next test starts from a stock kernel.
	pgt_loaded && ! pgt_unload_wait && echo "pgt_reset: pidns_guard still loaded after 30 s"
	return 0
}

pgt_stat_is() {
	[ "$(pgt_stat "$1")" = "$2" ]
}

# Read the stats file into PGS_<name> variables, without forking.
pgt_stats_read() {
	while read -r _k _v; do
		eval "PGS_$1_$_k=\$_v"
	done <"$PG_DBG/stats"
}

pgt_delta() {	# name: after - before
	eval "echo \$((PGS_b_$1 - PGS_a_$1))"
}

# R2: rmmod is refused while a teardown of holder kind $1 sleeps in our
# code, and succeeds once it ended.
pgt_r2_unload_while_held() {
	pgt_load || { echo "insmod failed"; return 1; }
	pgt_hold_start "$1" || { echo "no held namespace"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 1 || { echo "teardown not in pidns_guard"; return 1; }
	if rmmod pidns_guard 2>/dev/null; then
		echo "rmmod succeeded under a sleeping teardown"
		return 1
	fi
	pgt_loaded || { echo "module gone"; return 1; }
	[ "$(cat /sys/module/pidns_guard/refcnt)" = 1 ] || { echo "refcnt not 1"; return 1; }
	pgt_hold_release || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	pgt_wait_for 30 rmmod pidns_guard || { echo "rmmod refused after the teardown ended"; return 1; }
	pgt_no_traces || return 1	# its "left behind: ..." is the detail
	echo "rmmod refused while a teardown slept in pidns_guard ($1 holder), succeeded after"
}
