# shellcheck shell=sh
# Issue 3: every teardown scenario, first on the stock kernel, then with
# pidns_guard loaded.  Each ends with pgtest's invariant check: when init
# is reaped, no task of the namespace or of any nested one remains.
#
# Expected stock failure: on old-generation kernels the reaper parked in
# the final wait refuses to freeze, or spins once the freezer ran (on
# 6.1.0-47: 100% CPU, "1 tasks refusing to freeze"), and parked in its
# reap loop refuses to freeze: XFAIL, when pgtest's fail line says
# exactly that.  Failing another way, or passing, is a
# FAIL: the expectation is out of date.  With the module every scenario
# must pass: it may never turn a pass into a fail.
#
# The scenarios, by name, here and not from pgtest: the plan (one
# stock/NAME and one guard/NAME each) and the runs below take them from
# these lines, and tests/run fails the kernel (plan/scenarios) when
# `pgtest list` names one more or one fewer.  A new scenario in pgtest:
# add its name here.
# scenarios: tree_wide tree_deep stopped traced_outside nonleader_init
# scenarios: setns_fork_late setns_fork_race nested reboot exec_race
# scenarios: coredump_race freezer freezer_reap parked_init
# plan: stock/@scenarios guard/@scenarios

# Does stock fail scenario $1 on this kernel?  Old generations: the final
# wait (freezer) spins or refuses to freeze, the reap loop (freezer_reap,
# the kernel's own do_wait() in TASK_INTERRUPTIBLE) refuses to freeze.
pgt_stock_xfail() {
	case $1/$PG_GENERATION in
	freezer/old|freezer_reap/old) return 0 ;;
	esac
	return 1
}

# Did it fail the known way?  $1 scenario, $2 pgtest's fail detail.
pgt_stock_failed_as_known() {
	case $1:$2 in
	freezer:"freeze failed ("*|freezer:"freeze ok "*" but init spins at "*) return 0 ;;
	freezer_reap:"freeze failed ("*) return 0 ;;
	esac
	return 1
}

pgt_scenario() {	# mode name
	_mode=$1 _s=$2
	[ "$_mode" = guard ] && _before=$(pgt_stat teardowns)
	# parked_init expects PF_NO_NOTIFY_SIGNAL on new generations only
	# Its line through a file, not $(...): a task the scenario could not
	# end (a teardown that never finishes) keeps the stdout it inherited
	# open, and a command substitution would wait for it for good instead
	# of reporting the scenario's failure.
	PG_GENERATION=$PG_GENERATION /payload/pgtest run "$_s" >/tmp/pgt-line
	_rc=$?
	_line=$(cat /tmp/pgt-line)
	_detail=${_line#* "$_s" }
	[ -n "$_line" ] || _detail="pgtest exited $_rc without a result line"
	if [ $_rc -eq 3 ]; then
		pgt_result "$_mode/$_s" SKIP "$_detail"
		return
	fi
	_xfail=
	[ "$_mode" = stock ] && pgt_stock_xfail "$_s" && _xfail=1
	if [ "$_mode" = guard ] && [ $_rc -eq 0 ]; then
		_ran=$(($(pgt_stat teardowns) - _before))
		if [ "$_ran" -le 0 ]; then
			pgt_result "$_mode/$_s" FAIL "passed, but no teardown ran through pidns_guard"
			return
		fi
		_detail="$_detail; $_ran teardowns via pidns_guard"
	fi
	if [ $_rc -eq 0 ] && [ -n "$_xfail" ]; then
		pgt_result "$_mode/$_s" FAIL "stock passed where it was expected to fail: has Debian fixed this kernel? update PG expectations (pgt_stock_xfail in 20-scenarios.sh): $_detail"
	elif [ $_rc -eq 0 ]; then
		pgt_result "$_mode/$_s" PASS "$_detail"
	elif [ -n "$_xfail" ] && pgt_stock_failed_as_known "$_s" "$_detail"; then
		pgt_result "$_mode/$_s" XFAIL "known failure of $PG_GENERATION-generation stock kernels: $_detail"
	elif [ -n "$_xfail" ]; then
		pgt_result "$_mode/$_s" FAIL "not the known failure of $PG_GENERATION-generation stock kernels: $_detail"
	else
		pgt_result "$_mode/$_s" FAIL "$_detail"
	fi
}

PGT_SCENARIOS=$(pgt_declared scenarios)
for _s in $PGT_SCENARIOS; do
	pgt_scenario stock "$_s"
done

if pgt_load; then
	for _s in $PGT_SCENARIOS; do
		pgt_scenario guard "$_s"
	done
	pgt_unload
else
	_why="insmod failed: $(dmesg | grep pidns_guard: | tail -n 1)"
	for _s in $PGT_SCENARIOS; do
		pgt_result "guard/$_s" FAIL "$_why"
	done
fi
