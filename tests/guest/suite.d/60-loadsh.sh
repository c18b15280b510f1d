# shellcheck shell=sh
# scripts/load.sh as an operator uses it (POSIX sh, so busybox runs it).
# plan: loadsh/operator-flow

pgt_loadsh() {
	_ls="sh /payload/load.sh"
	_out=$($_ls --status)
	[ $? -eq 3 ] && echo "$_out" | grep -q "not loaded" ||
		{ echo "--status before load: $_out"; return 1; }
	_out=$(PG_KO=$PG_KO $_ls) || { echo "load failed: $_out"; return 1; }
	echo "$_out" | grep -q "pidns_guard $PG_VERSION is active" || { echo "load said: $_out"; return 1; }
	_out=$($_ls --status) || return 1
	echo "$_out" | grep -q "^pidns_guard $PG_VERSION loaded" &&
		echo "$_out" | grep -q "^teardowns " && echo "$_out" | grep -q "teardown latency" ||
		{ echo "--status said: $_out"; return 1; }
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	if _out=$($_ls --unload 2>&1); then
		echo "--unload succeeded under a running teardown"
		return 1
	fi
	echo "$_out" | grep -q "cannot unload now: 1 namespace teardown" ||
		{ echo "--unload refusal said: $_out"; return 1; }
	pgt_hold_release >/dev/null || return 1
	pgt_wait_for 30 pgt_stat_is active 0 || return 1
	_out=$($_ls --unload) && echo "$_out" | grep -q "stock zap_pid_ns_processes() is back" ||
		{ echo "--unload said: $_out"; return 1; }
	pgt_no_traces || return 1
	echo "load, --status, refused --unload with reason, --unload: as documented"
}
pgt_run_check loadsh/operator-flow pgt_loadsh
