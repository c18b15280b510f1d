# shellcheck shell=sh
# Issue 6: soak, load/unload under teardowns, repeated unload-while-held
# and load-while-stuck, and nothing readable that is a kernel pointer.
# Sizes come from the env file (tests/run --long sets the full ones).
# plan: rel/soak-stock rel/soak-guard rel/load-unload-cycles
# plan: rel/unload-while-held-repeated rel/load-while-stuck-repeated
# plan: rel/no-kernel-pointers rel/rcu-tasks-reap-loop

PG_SOAK_ROUNDS=${PG_SOAK_ROUNDS:-300}
PG_CYCLES=${PG_CYCLES:-200}
PG_REPEAT=${PG_REPEAT:-5}

# pgsoak's last line ends "expect NAME=LO..HI ..." (HI empty: no bound)
# for pidns_guard's counters; compare the deltas PGS_b - PGS_a.
pgt_soak_compare() {
	_bad= _got=
	for _kv in $(sed -n 's/^ok soak .* expect //p' "$1"); do
		_c=${_kv%%=*} _r=${_kv#*=}
		_lo=${_r%..*} _hi=${_r#*..}
		_d=$(pgt_delta "$_c")
		_got="$_got $_c $_d"
		[ "$_d" -ge "$_lo" ] && { [ -z "$_hi" ] || [ "$_d" -le "$_hi" ]; } ||
			_bad="$_bad $_c=$_d(want $_r)"
	done
	[ -n "$_got" ] || { echo "no expectations from pgsoak"; return 1; }
	[ -z "$_bad" ] || { echo "counters disagree with what was created:$_bad"; return 1; }
	echo "counters as created:$_got"
}

pgt_soak() {
	_seed=$(($(pgt_now_cs) % 100000 + 1))
	[ "$1" = guard ] && { pgt_load || { echo "insmod failed"; return 1; }; pgt_stats_read a; }
	/payload/pgsoak -n "$PG_SOAK_ROUNDS" -s "$_seed" >/tmp/soak.out 2>/dev/console
	_rc=$?
	cat /tmp/soak.out
	[ $_rc -eq 0 ] && grep -q '^ok soak' /tmp/soak.out || return 1
	_sum=$(sed -n 's/^ok soak \(.*\) expect .*/\1/p' /tmp/soak.out)
	[ "$1" = guard ] || { echo "$_sum, every namespace gone with its init, slabs flat"; return 0; }
	pgt_stats_read b
	[ "$PGS_b_active" = 0 ] || { echo "active $PGS_b_active after the soak"; return 1; }
	_cmp=$(pgt_soak_compare /tmp/soak.out) || { echo "$_cmp"; return 1; }
	pgt_unload || { echo "rmmod failed"; return 1; }
	echo "$_sum, slabs flat; $_cmp"
}
pgt_run_check rel/soak-stock pgt_soak stock
pgt_run_check rel/soak-guard pgt_soak guard

# Unload: retry while the module is held (by a teardown in our code; on
# 6.1 also by itself while a stock teardown found at load may still block
# RCU-tasks).  Counts refusals in _busy, those with a teardown in our code
# (stats "active" > 0 right after) in _held, and adds to _ran the
# teardowns this instance ran (its counter, read before the attempt that
# succeeded).  Any other rmmod error fails.
pgt_unload_retry() {
	_t=600
	while :; do
		_n=$(pgt_stat teardowns)
		_err=$(rmmod pidns_guard 2>&1) && break
		case $_err in
		*"temporarily unavailable"*|*busy*|*"in use"*) _busy=$((_busy + 1)) ;;
		*) echo "rmmod: $_err"; return 1 ;;
		esac
		[ "$(pgt_stat active)" -gt 0 ] && _held=$((_held + 1))
		_t=$((_t - 1))
		[ $_t -gt 0 ] || return 1
		sleep 0.05
	done
	_ran=$((_ran + _n))
}

# Load/unload cycles while pgsoak tears namespaces down.  The unloads must
# really have raced teardowns running our code: at least one refused with
# a teardown in our code, and the instances together ran at least one
# teardown per 10 cycles (200 cycles ran about 100 refusals and 450
# teardowns on 6.12.117; 600 refusals, 200 of them with a teardown in our
# code, and 2,000 teardowns on 6.1.0-47).
pgt_cycles() {
	rm -f /tmp/cycles.stop
	/payload/pgsoak -n 1000000 -u /tmp/cycles.stop -q >/tmp/cycles.out 2>/dev/console &
	_soak=$!
	_i=0 _busy=0 _held=0 _ran=0
	while [ $_i -lt "$PG_CYCLES" ]; do
		pgt_load || { echo "insmod failed in cycle $_i"; break; }
		pgt_unload_retry || { echo "rmmod never succeeded in cycle $_i"; break; }
		_i=$((_i + 1))
		kill -0 $_soak 2>/dev/null || { echo "teardowns stopped in cycle $_i"; break; }
	done
	touch /tmp/cycles.stop
	wait $_soak
	_rc=$?
	cat /tmp/cycles.out
	[ $_i -eq "$PG_CYCLES" ] && [ $_rc -eq 0 ] || return 1
	pgt_no_traces || return 1
	_sum="$_i load/unload cycles, $_busy unloads refused ($_held with a teardown in our code), $_ran teardowns run by the loaded instances"
	[ $_held -ge 1 ] && [ $_ran -ge $((PG_CYCLES / 10)) ] ||
		{ echo "$_sum: the unloads did not race teardowns (want >= 1 refusal with a teardown in our code, >= $((PG_CYCLES / 10)) teardowns)"; return 1; }
	echo "$_sum, during $(sed -n 's/^ok soak rounds=\([0-9+]*\).*/\1/p' /tmp/cycles.out) checked teardowns"
}
pgt_run_check rel/load-unload-cycles pgt_cycles

# R2, repeated: rmmod refused while a teardown sleeps in our code.
pgt_unload_while_held_repeated() {
	_i=0
	while [ $_i -lt "$PG_REPEAT" ]; do
		for _k in zombie foreign stopped; do
			pgt_r2_unload_while_held $_k >/tmp/r2.out ||
				{ echo "round $_i, $_k: $(tail -n 1 /tmp/r2.out)"; return 1; }
		done
		_i=$((_i + 1))
	done
	echo "$PG_REPEAT x 3 holder kinds: rmmod refused while held, succeeded after, nothing left"
}

# R1, repeated: insmod while a teardown is stuck in the stock function.
pgt_load_while_stuck_repeated() {
	_i=0
	while [ $_i -lt "$PG_REPEAT" ]; do
		for _k in zombie foreign; do
			pgt_hold_start $_k || { echo "round $_i: no held namespace"; return 1; }
			pgt_load || { echo "round $_i: insmod failed"; return 1; }
			_b=$(pgt_stat teardowns_done)
			/payload/pgtest run tree_wide -n 1 >/dev/null ||
				{ echo "round $_i: new teardown failed"; return 1; }
			[ "$(pgt_stat teardowns_done)" -gt "$_b" ] ||
				{ echo "round $_i: new teardown bypassed pidns_guard"; return 1; }
			pgt_hold_release >/dev/null || { echo "round $_i: stuck teardown broke"; return 1; }
			pgt_unload_wait && pgt_no_traces || return 1
		done
		_i=$((_i + 1))
	done
	echo "$PG_REPEAT x 2 holder kinds: loaded beside a stuck stock teardown, both ended well"
}

pgt_run_check rel/unload-while-held-repeated pgt_unload_while_held_repeated
pgt_run_check rel/load-while-stuck-repeated pgt_load_while_stuck_repeated

# Nothing we show is a kernel address: not in debugfs (read while a
# teardown is held and its warning has fired), not in the kernel log, not
# in the parameters or load.sh --status.  Every debugfs file is 0444.
# A word of 8+ hex digits with a letter in it, 0x and 6+ digits, or what
# %p prints before the hash key is ready.
pgt_pointer_like() {
	awk '{ n = split(tolower($0), w, /[^0-9a-z]+/)
	       for (i = 1; i <= n; i++)
		       if ((w[i] ~ /^[0-9a-f]+$/ && length(w[i]) >= 8 && w[i] ~ /[a-f]/) ||
			   w[i] ~ /^0x[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]/ || w[i] ~ /ptrval/) { print; next } }' "$1"
}

pgt_no_pointers() {
	pgt_load warn_after_secs=1 || { echo "insmod failed"; return 1; }
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	pgt_wait_for 30 sh -c 'dmesg | grep -q "pidns_guard: namespace teardown still waiting"' ||
		{ echo "no stuck warning"; return 1; }
	: >/tmp/shown
	for _f in "$PG_DBG"/* /sys/module/pidns_guard/parameters/*; do
		cat "$_f" >>/tmp/shown || { echo "cannot read $_f"; return 1; }
		case $_f in "$PG_DBG"/*)
			_m=$(stat -c %a "$_f")
			[ "$_m" = 444 ] || { echo "$_f has mode $_m"; return 1; } ;;
		esac
	done
	sh /payload/load.sh --status >>/tmp/shown 2>&1
	dmesg | grep pidns_guard >>/tmp/shown
	grep -q holder /tmp/shown || { echo "nothing held was shown"; return 1; }
	_p=$(pgt_pointer_like /tmp/shown)
	[ -z "$_p" ] || { echo "pointer-like values: $(echo "$_p" | head -n 3)"; return 1; }
	pgt_hold_release >/dev/null || return 1
	pgt_unload
	echo "$(wc -l </tmp/shown) lines of debugfs, parameters, --status and kernel log: no kernel address; debugfs files 0444"
}
pgt_run_check rel/no-kernel-pointers pgt_no_pointers

# A teardown held in the reap loop (by a child traced from outside) while an
# unrelated livepatch is removed, which needs synchronize_rcu_tasks().  On
# kernels whose exiting tasks hold the RCU-tasks exit lock (6.1), the stock
# reap loop holds it throughout: the removal waits for the teardown,
# `active` says rcu_tasks=blocked and load.sh --unload refuses rather than
# hang.  Our reap loop drops it around each wait: the removal never waits.
pgt_klp_removal() {	# sets PGT_KLP_MS: ms, or "blocked" after 10 s
	insmod /payload/pg_klp_other.ko || return 1
	pgt_wait_for 30 pgt_klp_settled pg_klp_other || return 1
	_t0=$(pgt_now_cs)
	# The write itself completes the transition, or waits with it.
	( echo 0 >/sys/kernel/livepatch/pg_klp_other/enabled ) </dev/null >/dev/null 2>&1 &
	PGT_KLP_WRITER=$!
	# Blocked, it is released well before the hung-task detector's 30 s.
	if pgt_wait_for 10 pgt_klp_gone pg_klp_other; then
		PGT_KLP_MS=$(($(pgt_now_cs) - _t0))0
	else
		PGT_KLP_MS=blocked
	fi
}

pgt_rcu_tasks_reap_loop() {
	pgt_hold_start stopped || { echo "no held namespace"; return 1; }
	pgt_load || { echo "insmod failed beside a stock teardown"; return 1; }
	grep -q 'code=stock phase=reap' "$PG_DBG/active" || { echo "stock teardown not shown in its reap loop"; return 1; }
	_said=free
	grep -q 'rcu_tasks=blocked' "$PG_DBG/active" && _said=blocked
	if [ $_said = blocked ]; then
		_out=$(sh /payload/load.sh --unload 2>&1) && { echo "load.sh --unload did not refuse"; return 1; }
		echo "$_out" | grep -q "RCU-tasks" || { echo "refusal said: $_out"; return 1; }
		pgt_loaded || { echo "module gone"; return 1; }
		# A plain rmmod fails at once too (the module holds itself),
		# instead of hanging until the teardown ends.
		rm -f /tmp/rmmod.rc
		_t0=$(pgt_now_cs)
		( rmmod pidns_guard 2>/dev/null; echo $? >/tmp/rmmod.rc ) &
		pgt_wait_for 5 test -s /tmp/rmmod.rc || { echo "rmmod hangs beside the blocked stock teardown"; return 1; }
		_dt=$(($(pgt_now_cs) - _t0))
		[ "$(cat /tmp/rmmod.rc)" != 0 ] || { echo "rmmod succeeded beside the blocked stock teardown"; return 1; }
		pgt_loaded || { echo "module gone"; return 1; }
		dmesg | grep -q 'pidns_guard: a namespace teardown begun before the load holds RCU-tasks' ||
			{ echo "no log line saying why unload is refused"; return 1; }
		_said="blocked (plain rmmod refused in ${_dt}0 ms)"
	fi
	pgt_klp_removal || { echo "livepatch could not be applied"; return 1; }
	_stock=$PGT_KLP_MS
	case $_stock/$_said in
	blocked/blocked*|[0-9]*/free) ;;
	*) echo "active said $_said, livepatch removal beside the stock reap loop: $_stock"; return 1 ;;
	esac
	pgt_hold_release >/dev/null || { echo "held stock teardown broke"; return 1; }
	wait "$PGT_KLP_WRITER"
	pgt_wait_for 60 pgt_klp_gone pg_klp_other || { echo "livepatch removal never finished"; return 1; }
	pgt_wait_for 30 rmmod pg_klp_other || return 1
	pgt_unload_wait || { echo "rmmod failed"; return 1; }
	case $_said in blocked*)
		dmesg | grep -q 'pidns_guard: the stock teardown that blocked unloading has left its reap loop' ||
			{ echo "no log line when unloading became possible again"; return 1; } ;;
	esac

	pgt_load && pgt_hold_start stopped || { echo "no held namespace with the module"; return 1; }
	grep -q 'code=pidns_guard phase=reap' "$PG_DBG/active" || { echo "our teardown not in its reap loop"; return 1; }
	pgt_klp_removal || { echo "livepatch could not be applied"; return 1; }
	_ours=$PGT_KLP_MS
	[ "$_ours" != blocked ] || { echo "livepatch removal waited for our reap loop"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	wait "$PGT_KLP_WRITER"
	pgt_wait_for 30 rmmod pg_klp_other && pgt_wait_for 30 pgt_stat_is active 0 && pgt_unload || return 1
	[ "$_stock" = blocked ] && _stock="waited for the teardown (rcu_tasks=blocked shown, load.sh refused to unload)" ||
		_stock="$_stock ms"
	echo "livepatch removal beside a teardown in the reap loop: stock $_stock; pidns_guard $_ours ms"
}
pgt_run_check rel/rcu-tasks-reap-loop pgt_rcu_tasks_reap_loop
