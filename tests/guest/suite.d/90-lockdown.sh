# shellcheck shell=sh
# Issue 18: pidns_guard on a locked-down kernel, as Secure Boot makes it
# (lockdown "integrity" and module signatures enforced), and under
# lockdown "confidentiality".  Both can only be raised, never lowered, so
# this part runs last and in order: the module is loaded first (unsigned,
# as the lab builds it), then the kernel is locked down around it.
#
#  1. integrity + sig_enforce: a held teardown is seen in debugfs, by
#     status, stuck and metrics, and its trace events are read;
#  2. confidentiality: tracefs is closed, status says so, everything else
#     works on a second held teardown;
#  3. unload leaves nothing (tracefs can no longer be read: its ftrace ops
#     are not checked here; every other part checks them);
#  4. refusals, named where the operator looks (load, status, metrics,
#     boot): an unsigned module, and one signed with a key the kernel does
#     not trust (tests/run signs a copy with a throwaway key).
# Each step needs the one before: a step that cannot run fails, naming
# the step that broke.
# plan: lockdown/integrity-works lockdown/confidentiality-works
# plan: lockdown/unload-clean lockdown/refused-unsigned lockdown/refused-unknown-key

PGL="sh /payload/pidns-guard"
PGL_SEC=/sys/kernel/security
PGL_TR=/sys/kernel/tracing
PGL_KEYED=/payload/pidns_guard-testkey.ko
pgl_broken=

# pgl_step NAME FUNCTION: one result; once a step failed, the rest fail
# naming it (the lockdown cannot be undone to run them).
pgl_step() {
	if [ -n "$pgl_broken" ]; then
		pgt_result "$1" FAIL "not run: $pgl_broken failed before it"
		return
	fi
	_out=$( ( "$2"; _fn_rc=$?
		  [ -n "$PGT_HOLD_PID" ] && pgt_hold_release >/dev/null
		  exit $_fn_rc ) 2>&1 )
	_rc=$?
	echo "$_out" | sed "s|^|pgt: $1: |"
	if [ $_rc -eq 0 ]; then
		pgt_result "$1" PASS "$(echo "$_out" | tail -n 1)"
	else
		pgt_result "$1" FAIL "$(echo "$_out" | tail -n 1)"
		pgl_broken=$1
	fi
}

pgl_level() {
	sed -n 's/.*\[\([a-z]*\)\].*/\1/p' $PGL_SEC/lockdown
}

# A teardown held by a foreign-parented zombie, seen by every reader the
# lockdown level leaves.  $1: the lockdown level status must name.
pgl_held_seen() {
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 1 || { echo "teardown not in pidns_guard"; return 1; }
	grep -q "^teardown ns=$PGT_HOLD_INO reaper=$PGT_HOLD_INIT code=pidns_guard " "$PG_DBG/active" ||
		{ cat "$PG_DBG/active"; echo "active does not list the teardown"; return 1; }
	_st=$($PGL status) || { echo "status failed: $_st"; return 1; }
	echo "$_st" | grep -q "^lockdown: $1" || { echo "status: $_st"; echo "status does not say lockdown: $1"; return 1; }
	_sk=$($PGL stuck) || { echo "stuck failed: $_sk"; return 1; }
	echo "$_sk" | grep -q "its init $PGT_HOLD_INIT " || { echo "stuck: $_sk"; echo "stuck does not name init $PGT_HOLD_INIT"; return 1; }
	_m=$($PGL metrics) || { echo "metrics failed"; return 1; }
	echo "$_m" | grep -q '^pidns_guard_state{state="loaded"} 1$' &&
		echo "$_m" | grep -q '^pidns_guard_teardowns_in_progress{code="pidns_guard"} 1$' ||
		{ echo "$_m"; echo "metrics do not show the loaded guard and its teardown"; return 1; }
}

pgl_integrity() {
	grep -qs " $PGL_SEC securityfs " /proc/mounts || mount -t securityfs securityfs $PGL_SEC ||
		{ echo "cannot mount securityfs"; return 1; }
	[ "$(pgl_level)" = none ] || { echo "lockdown is $(pgl_level) already"; return 1; }
	pgt_load || { echo "insmod failed"; return 1; }
	echo integrity >$PGL_SEC/lockdown && [ "$(pgl_level)" = integrity ] ||
		{ echo "cannot raise lockdown to integrity"; return 1; }
	echo 1 >/sys/module/module/parameters/sig_enforce &&
		[ "$(cat /sys/module/module/parameters/sig_enforce)" = Y ] ||
		{ echo "cannot enforce module signatures"; return 1; }
	echo >$PGL_TR/trace
	echo 1 >$PGL_TR/events/pidns_guard/pidns_guard_teardown_end/enable ||
		{ echo "cannot enable a trace event under integrity"; return 1; }
	pgl_held_seen integrity || return 1
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 grep -q "pidns_guard_teardown_end: ns=$PGT_HOLD_INO " $PGL_TR/trace ||
		{ echo "no teardown_end event for ns $PGT_HOLD_INO"; return 1; }
	echo 0 >$PGL_TR/events/pidns_guard/pidns_guard_teardown_end/enable
	echo "lockdown integrity, signatures enforced: the held teardown in active, status (lockdown: integrity), stuck, metrics; its trace event read"
}

pgl_confidentiality() {
	echo confidentiality >$PGL_SEC/lockdown && [ "$(pgl_level)" = confidentiality ] ||
		{ echo "cannot raise lockdown to confidentiality"; return 1; }
	if cat $PGL_TR/trace >/dev/null 2>&1; then
		echo "tracefs still readable under confidentiality"
		return 1
	fi
	pgl_held_seen "confidentiality: tracefs is closed" || return 1
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	echo "lockdown confidentiality: tracefs closed, status says so; active, stuck and metrics named the held teardown"
}

pgl_unload() {
	_out=$($PGL unload) || { echo "unload: $_out"; return 1; }
	! pgt_loaded && [ ! -e "$PG_DBG" ] || { echo "module or its debugfs left"; return 1; }
	# debugfs files of mode 0444 or less stay readable under lockdown
	! grep -qs pidns_guard /sys/kernel/debug/kprobes/list || { echo "kprobe left"; return 1; }
	echo "unloaded under lockdown confidentiality: no module, debugfs or kprobe left (ftrace ops: tracefs closed)"
}

# The refusal of MODULE, as load, status, metrics and boot name it.
# $2: the state word, $3: what the kernel logs, $4: what the reason says.
pgl_refused() {
	_lines=$(dmesg | wc -l)
	_out=$(PG_KO=$1 $PGL load 2>&1)
	_rc=$?
	echo "$_out"
	[ $_rc = 1 ] && echo "$_out" | grep -q "not loaded ($2): .*$4" &&
		echo "$_out" | grep -q "mokutil --import /var/lib/dkms/mok.pub" ||
		{ echo "load said (exit $_rc): $_out"; return 1; }
	dmesg | awk -v n="$_lines" 'NR > n' | grep -q "$3" || { echo "the kernel did not log '$3'"; return 1; }
	pgt_loaded && { echo "loaded after all"; return 1; }
	_out=$(PG_KO=$1 $PGL status)
	_rc=$?
	[ $_rc = 3 ] && echo "$_out" | grep -q "^pidns_guard: not loaded on $PG_KERNEL ($2): " &&
		echo "$_out" | grep -q "^to fix: .*mokutil" ||
		{ echo "status said (exit $_rc): $_out"; return 1; }
	_out=$(PG_KO=$1 $PGL metrics)
	echo "$_out" | grep -q "^pidns_guard_state{state=\"$2\"} 1$" &&
		echo "$_out" | grep -q '^pidns_guard_loaded 0$' ||
		{ echo "metrics said: $_out"; return 1; }
	printf 'LOAD_AT_BOOT=yes\n' >/tmp/pgl-defaults
	echo "console=ttyS0" >/tmp/pgl-cmdline
	_out=$(PG_KO=$1 PG_DEFAULTS=/tmp/pgl-defaults PG_CMDLINE=/tmp/pgl-cmdline \
	       PG_STATE_DIR=/tmp/pgl-state $PGL boot 2>&1)
	_rc=$?
	[ $_rc = 1 ] && [ "$(echo "$_out" | wc -l)" = 1 ] &&
		echo "$_out" | grep -q "^pidns_guard: not loaded at boot ($2): " ||
		{ echo "boot said (exit $_rc): $_out"; return 1; }
	echo "$2: load exit 1 naming it with the mokutil remedy, the kernel's '$3', status exit 3, metrics state $2, boot exit 1 in one line"
}

pgl_unsigned() {
	pgl_refused "$PG_KO" unsigned "Loading of unsigned module is rejected" "not signed"
}

pgl_unknown_key() {
	[ -f $PGL_KEYED ] || { echo "$PGL_KEYED missing: tests/run signs a copy of the module"; return 1; }
	# The why names the key's signer where modinfo can read it (kmod's);
	# busybox's modinfo cannot, and the why says "unknown signer".
	pgl_refused $PGL_KEYED key-rejected "Loading of module with unavailable key is rejected" \
		"does not trust the key the module is signed with (\(pidns_guard test key\|unknown signer\))"
}

pgl_step lockdown/integrity-works pgl_integrity
pgl_step lockdown/confidentiality-works pgl_confidentiality
pgl_step lockdown/unload-clean pgl_unload
pgl_step lockdown/refused-unsigned pgl_unsigned
pgl_step lockdown/refused-unknown-key pgl_unknown_key
