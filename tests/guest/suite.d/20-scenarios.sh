# shellcheck shell=sh
# Issue 3: every teardown scenario, first on the stock kernel, then with
# pidns_guard loaded.  Each ends with pgtest's invariant check: when init
# is reaped, no task of the namespace or of any nested one remains.
#
# Expected stock failure: on old-generation kernels the reaper parked in
# the final wait spins once the freezer runs (reported XFAIL).  With the
# module every scenario must pass: it may never turn a pass into a fail.

pgt_scenario() {	# mode name
	_mode=$1 _s=$2
	[ "$_mode" = guard ] && _before=$(pgt_stat teardowns)
	_line=$(/payload/pgtest run "$_s")
	_rc=$?
	_detail=${_line#* "$_s" }
	if [ $_rc -eq 3 ]; then
		pgt_result "$_mode/$_s" SKIP "$_detail"
		return
	fi
	if [ "$_mode" = guard ] && [ $_rc -eq 0 ]; then
		_ran=$(($(pgt_stat teardowns) - _before))
		if [ "$_ran" -le 0 ]; then
			pgt_result "$_mode/$_s" FAIL "passed, but no teardown ran through pidns_guard"
			return
		fi
		_detail="$_detail; $_ran teardowns via pidns_guard"
	fi
	if [ $_rc -eq 0 ]; then
		pgt_result "$_mode/$_s" PASS "$_detail"
	elif [ "$_mode/$_s/$PG_GENERATION" = stock/freezer/old ]; then
		pgt_result "$_mode/$_s" XFAIL "expected on old-generation stock kernels: $_detail"
	else
		pgt_result "$_mode/$_s" FAIL "$_detail"
	fi
}

for _s in $(/payload/pgtest list); do
	pgt_scenario stock "$_s"
done

if pgt_load; then
	for _s in $(/payload/pgtest list); do
		pgt_scenario guard "$_s"
	done
	pgt_unload
else
	pgt_result guard/load FAIL "insmod failed: $(dmesg | grep pidns_guard: | tail -n 1)"
fi
