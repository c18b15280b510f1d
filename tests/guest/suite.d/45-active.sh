# shellcheck shell=sh
# Issue 11: `active` and the stuck warning are bounded and truthful,
# whatever the namespace holds: a forged task name, 20,000 holders, a
# zombie init, a frozen holder.
# plan: active/forged-name active/many-holders active/zombie-init
# plan: active/frozen-holder active/warning-retry active/exiting-holder
# plan: active/traced-exit-stop
#
# Not tested here, and why (issue 11):
# - A holder with why=killable.  A killable sleep (TASK_WAKEKILL) of a
#   live task ends on SIGKILL, and the teardown sends one to every task of
#   the namespace first: such a holder lasts microseconds, no reader can
#   be made to see it.  What lasts is a sleep in an exiting task's exit
#   path, killable or not (an NFS flush at close to a server that does not
#   answer): the teardown's SIGKILL wakes no exiting task (it is dropped
#   once the group exits, and complete_signal() skips PF_EXITING tasks),
#   and pg_why() names those why=exiting, tested by active/exiting-holder
#   with a FUSE flush (an interruptible sleep).  So pg_why()'s killable
#   branch is reached by a live task only, for microseconds.
# - wchan=? (a sleep at an address no symbol covers).  The wchan of a
#   sleeping task is the first caller of the scheduler on its stack:
#   kernel or module text, which kallsyms covers, as it does BPF JIT
#   images and ftrace trampolines.  Only a module without symbols for its
#   text would give an address; Debian's modules keep their symbols.

# Background tasks write to the console, never to pgt_run_check's pipe
# (which would wait for them); pga_test kills whatever a test left.
PGA_U='' PGA_INIT='' PGA_H='' PGA_US='' PGA_INITS='' PGA_MNT=''
pga_test() {
	"$@"
	_r=$?
	[ -e /tmp/freezer/pg/freezer.state ] && echo THAWED >/tmp/freezer/pg/freezer.state
	for _p in $PGA_H $PGA_INIT $PGA_U $PGA_INITS $PGA_US; do
		kill -9 "$_p" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$PGA_MNT" ] && umount -l "$PGA_MNT" 2>/dev/null
	# zombies the holders left are released by the tearing-down init
	pgt_loaded && pgt_wait_for 600 pgt_stat_is active 0
	return $_r
}

# A namespace whose init (sleep) is a child of unshare; sets PGA_U (the
# unshare process) and PGA_INIT.
pga_ns_start() {
	unshare -p -f sh -c "$1" >/dev/console 2>&1 &
	PGA_U=$!
	pgt_wait_for 30 grep -q . "/proc/$PGA_U/task/$PGA_U/children" || return 1
	PGA_INIT=$(cat "/proc/$PGA_U/task/$PGA_U/children")
	PGA_INIT=${PGA_INIT% }
}

pga_ns_inode() {
	_l=$(readlink "/proc/$1/ns/pid")
	_l=${_l#*[}
	echo "${_l%]}"
}

# pgholder foreign INIT N [NAME] in the background; sets PGA_H.  Fails
# saying why when pgholder gives up.
pga_holders_start() {
	rm -f /tmp/pgholder.out /tmp/pgholder.err
	/payload/pgholder foreign "$@" >/tmp/pgholder.out 2>/tmp/pgholder.err &
	PGA_H=$!
	pgt_wait_for 600 sh -c "grep -qs '^ready' /tmp/pgholder.out || ! kill -0 $PGA_H" &&
		grep -qs '^ready' /tmp/pgholder.out && return 0
	wait "$PGA_H"
	echo "pgholder exited $?: $(cat /tmp/pgholder.err)"
	return 1
}

# Release the holders (their zombies go to the tearing-down init, which
# lets them go) and wait for the namespace to end.
pga_release() {
	kill "$PGA_H" 2>/dev/null
	wait "$PGA_H" 2>/dev/null
	wait "$PGA_U"
	pgt_wait_for 600 pgt_stat_is active 0
}

pga_warned() {	# stuck warnings in the kernel log
	dmesg | grep -c 'pidns_guard: namespace teardown still waiting'
}
pga_warned_ge() {
	[ "$(pga_warned)" -ge "$1" ]
}

pga_listed() {	# ns inode: is its teardown listed?
	grep -q "^teardown ns=$1 " "$PG_DBG/active"
}

# A holder named "x\nteardown ns=7" forges nothing, in `active` or in the
# kernel log: its name is printed with octal escapes.
pgt_forged_name() {
	dmesg -c >/dev/null	# only this test's warning counts
	pgt_load warn_after_secs=1 || { echo "insmod failed"; return 1; }
	pga_ns_start 'exec sleep 1000' || { echo "no namespace"; return 1; }
	_ino=$(pga_ns_inode "$PGA_INIT")
	pga_holders_start "$PGA_INIT" 1 "$(printf 'x\nteardown ns=7')" ||
		{ echo "no holder"; return 1; }
	kill -9 "$PGA_INIT"
	pgt_wait_for 30 pga_listed "$_ino" || { echo "teardown of $_ino not listed"; return 1; }
	pgt_wait_for 30 pga_warned_ge 1 ||
		{ echo "no stuck warning"; return 1; }
	cat "$PG_DBG/active" >/tmp/forged.active
	dmesg >/tmp/forged.dmesg
	pga_release || { echo "teardown never ended"; return 1; }
	cat /tmp/forged.active
	_want='comm=x\012teardown\040ns\0757 '
	grep -qF "$_want" /tmp/forged.active || { echo "escaped name not in active"; return 1; }
	grep -qF "$_want" /tmp/forged.dmesg || { echo "escaped name not in the warning"; return 1; }
	if grep -q '^teardown ns=7' /tmp/forged.active ||
	   grep -q '^\(\[[ 0-9.]*\] \)\{0,1\}teardown ns=7' /tmp/forged.dmesg; then
		echo "a forged line got through"
		return 1
	fi
	echo "name printed as ${_want% }, in active and in the kernel log; no forged line"
}
pgt_run_check active/forged-name pga_test pgt_forged_name

# 20,000 holders in one teardown: one read of `active` lists 64 of them
# and counts the rest, in bounded size and time; the warning is as bounded.
PGA_MANY=20000
pgt_many_holders() {
	echo 100000 >/proc/sys/kernel/threads-max
	dmesg -c >/dev/null	# only this test's warning counts
	pgt_load warn_after_secs=2 || { echo "insmod failed"; return 1; }
	pga_ns_start 'exec sleep 1000' || { echo "no namespace"; return 1; }
	_ino=$(pga_ns_inode "$PGA_INIT")
	_t0=$(pgt_now_cs)
	pga_holders_start "$PGA_INIT" $PGA_MANY || { echo "cannot start $PGA_MANY holders"; return 1; }
	_tf=$(($(pgt_now_cs) - _t0))
	kill -9 "$PGA_INIT"
	pgt_wait_for 120 sh -c "grep -q '^teardown ns=$_ino .*phase=unhash-wait .*pids_left=$((PGA_MANY + 1))\$' $PG_DBG/active" ||
		{ head -n 2 "$PG_DBG/active"; echo "teardown with $PGA_MANY zombies not seen"; return 1; }
	pgt_wait_for 60 pga_warned_ge 1 ||
		{ echo "no stuck warning"; return 1; }
	_t0=$(pgt_now_cs)
	cat "$PG_DBG/active" >/tmp/many.active
	_ms=$((($(pgt_now_cs) - _t0) * 10))
	_size=$(wc -c </tmp/many.active)
	_warned=$(dmesg | grep -c 'pidns_guard:   holder pid=')
	_more=$(dmesg | grep -c 'pidns_guard:   \.\.\. ')
	pga_release || { echo "teardown never ended"; return 1; }
	_listed=$(grep -c '^  holder pid=' /tmp/many.active)
	[ "$_listed" = 64 ] || { echo "$_listed holder lines, want 64"; return 1; }
	grep -q "^  \.\.\. $((PGA_MANY - 64)) more pid(s) held, not listed" /tmp/many.active ||
		{ grep '^  \.\.\.' /tmp/many.active; echo "the rest not counted right"; return 1; }
	grep -q '^# 1 teardown(s) in progress' /tmp/many.active || { echo "no count line"; return 1; }
	[ "$_size" -lt 32768 ] || { echo "one read is $_size bytes"; return 1; }
	[ "$_ms" -lt 10000 ] || { echo "one read took $_ms ms"; return 1; }
	[ "$_warned" -le 64 ] && [ "$_more" -ge 1 ] ||
		{ echo "the warning logged $_warned holder lines, $_more count lines"; return 1; }
	echo "$PGA_MANY holders (forked in ${_tf}0 ms): one read of active $_size bytes in $_ms ms, 64 listed + a count; warning $_warned holder lines + a count"
}
pgt_run_check active/many-holders pga_test pgt_many_holders

# An init whose teardown has ended, a zombie its parent has not reaped
# yet, is no teardown in progress.
pgt_zombie_init() {
	pgt_load || { echo "insmod failed"; return 1; }
	/payload/pgholder zinit 5 >/tmp/zinit.out 2>/dev/console &
	_h=$!
	pgt_wait_for 30 grep -q '^ready' /tmp/zinit.out || { echo "no zombie init"; return 1; }
	# shellcheck disable=SC2046
	set -- $(cat /tmp/zinit.out)
	[ "$(pgt_stat active)" = 0 ] || { echo "a teardown still runs"; return 1; }
	cat "$PG_DBG/active" >/tmp/zinit.active
	wait $_h || { echo "pgholder failed"; return 1; }
	cat /tmp/zinit.active
	grep -q '^teardown' /tmp/zinit.active && { echo "zombie init $2 listed as a teardown"; return 1; }
	grep -q '^# 0 teardown(s) in progress' /tmp/zinit.active || { echo "no count line"; return 1; }
	echo "zombie init $2 (teardown over, parent not reaping) not listed"
}
pgt_run_check active/zombie-init pga_test pgt_zombie_init

# A holder frozen by the cgroup (v1) freezer, where SIGKILL cannot reach
# it until it is thawed, is named as frozen.
pgt_frozen_holder() {
	_fz=/tmp/freezer
	mkdir -p $_fz
	mount -t cgroup -o freezer freezer $_fz 2>/dev/null || {
		echo "SKIP: no cgroup v1 freezer on this kernel"
		return 3
	}
	mkdir -p $_fz/pg
	pgt_load || { echo "insmod failed"; return 1; }
	pga_ns_start 'sleep 1000 & exec sleep 1000' || { echo "no namespace"; return 1; }
	pgt_wait_for 30 grep -q . "/proc/$PGA_INIT/task/$PGA_INIT/children" || { echo "no child"; return 1; }
	_c=$(cat "/proc/$PGA_INIT/task/$PGA_INIT/children")
	_c=${_c% }
	echo "$_c" >$_fz/pg/tasks && echo FROZEN >$_fz/pg/freezer.state ||
		{ echo "cannot freeze $_c"; return 1; }
	pgt_wait_for 30 grep -q FROZEN $_fz/pg/freezer.state || { echo "never froze"; return 1; }
	kill -9 "$PGA_INIT"
	pgt_wait_for 30 sh -c "grep -q 'holder pid=$_c .*why=frozen' $PG_DBG/active"
	_rc=$?
	cat "$PG_DBG/active"
	echo THAWED >$_fz/pg/freezer.state
	wait "$PGA_U"
	pgt_wait_for 60 pgt_stat_is active 0 || { echo "teardown never ended after the thaw"; return 1; }
	rmdir $_fz/pg
	umount $_fz
	[ $_rc = 0 ] || { echo "frozen holder $_c not named as frozen"; return 1; }
	echo "holder $_c in a frozen cgroup named why=frozen; the teardown ended once thawed"
}
pgt_run_check active/frozen-holder pga_test pgt_frozen_holder

# The stuck warning's rate limit (5 a minute, src/active.c) keeps out the
# 6th of 6 teardowns stuck at once; it is retried a minute later (61 s
# after it was due) and logged then: each teardown warned once, none lost.
# Costs a minute of waiting.
PGA_RL=6
pgt_warning_retry() {
	dmesg -c >/dev/null	# only this test's warnings count
	pgt_load warn_after_secs=1 || { echo "insmod failed"; return 1; }
	_i=0 _inos=''
	while [ $_i -lt $PGA_RL ]; do
		pga_ns_start 'exec sleep 1000' || { echo "no namespace"; return 1; }
		PGA_INITS="$PGA_INITS $PGA_INIT" PGA_US="$PGA_US $PGA_U"
		_inos="$_inos $(pga_ns_inode "$PGA_INIT")"
		/payload/pgholder foreign "$PGA_INIT" 1 >/tmp/retry.$_i 2>/dev/console &
		PGA_H="$PGA_H $!"
		pgt_wait_for 30 grep -qs '^ready' /tmp/retry.$_i || { echo "no holder $_i"; return 1; }
		_i=$((_i + 1))
	done
	# shellcheck disable=SC2086
	kill -9 $PGA_INITS
	pgt_wait_for 30 pgt_stat_is active $PGA_RL || { echo "not $PGA_RL teardowns"; return 1; }
	pgt_wait_for 30 pga_warned_ge 5 || { echo "$(pga_warned) warnings, want 5 first"; return 1; }
	_t5=$(pgt_now_cs)
	sleep 5
	[ "$(pga_warned)" = 5 ] || { echo "$(pga_warned) warnings within the burst of 5"; return 1; }
	pgt_wait_for 90 pga_warned_ge 6 || { echo "the 6th warning never came (90 s)"; return 1; }
	_s=$((($(pgt_now_cs) - _t5) / 100))
	sleep 2
	dmesg >/tmp/retry.dmesg
	for _p in $PGA_H; do kill "$_p"; wait "$_p"; done
	for _p in $PGA_US; do wait "$_p"; done
	pgt_wait_for 60 pgt_stat_is active 0 || { echo "teardowns never ended"; return 1; }
	[ "$(pga_warned)" = $PGA_RL ] || { echo "$(pga_warned) warnings, want $PGA_RL"; return 1; }
	for _ino in $_inos; do
		_n=$(grep -c "pidns_guard: teardown ns=$_ino " /tmp/retry.dmesg)
		[ "$_n" = 1 ] || { echo "teardown $_ino warned $_n times"; return 1; }
	done
	[ $_s -ge 50 ] && [ $_s -le 90 ] || { echo "the 6th warning came $_s s after the 5th"; return 1; }
	echo "$PGA_RL teardowns stuck at once: 5 warnings, the 6th kept out and logged $_s s later; each warned once"
}
pgt_run_check active/warning-retry pga_test pgt_warning_retry

# A holder asleep in its own exit path (PF_EXITING, not yet a zombie):
# pgholder exitflush's child exits with a file of pgholder's FUSE mount
# open, and its close at exit waits for an answer to FLUSH that pgholder
# holds back: an interruptible sleep that no signal ends (its group is
# exiting, the teardown's SIGKILL is dropped).  `active` names it
# why=exiting with the state /proc shows, never alive or killable;
# `pidns-guard stuck` gives the exiting remedy; once pgholder answers, the
# teardown ends.  First measured, and in the detail: whether a lingering
# TCP close (SO_LINGER {1, 60}, a full send queue to a peer that never
# reads) sleeps in the exit path, against close() lingering {1, 2}.
pga_stat_of() {	# pid: "STATE FLAGS" from /proc/PID/stat, past the comm
	sed -n 's/^.*) \([A-Za-z]\) \([-0-9]*\) \([-0-9]*\) \([-0-9]*\) \([-0-9]*\) \([-0-9]*\) \([0-9]*\) .*/\1 \7/p' "/proc/$1/stat" 2>/dev/null
}
pga_in_exit_sleep() {	# pid: S or D with PF_EXITING (0x4)
	# shellcheck disable=SC2046
	set -- $(pga_stat_of "$1")
	case $1 in S|D) [ $(($2 & 4)) != 0 ] ;; *) false ;; esac
}
pgt_exiting_holder() {
	pgt_load || { echo "insmod failed"; return 1; }
	pga_ns_start 'exec sleep 1000' || { echo "no namespace"; return 1; }
	_ino=$(pga_ns_inode "$PGA_INIT")
	_lg=$(timeout 100 /payload/pgholder linger "$PGA_INIT" 2>&1)
	case $_lg in
	"close_ms "*)
		# shellcheck disable=SC2086
		set -- $_lg
		_lg="TCP linger: close() lingered $2 ms, _exit() with {1, 60} a zombie in $4 ms" ;;
	*) echo "pgholder linger: $_lg"; return 1 ;;
	esac
	echo "$_lg"
	# FUSE is built into 6.12, a module in 6.1: loaded when the payload
	# has it (tests/run does not copy it yet: until then 6.1 skips)
	[ -f /payload/fuse.ko ] && ! grep -q 'fuse$' /proc/filesystems &&
		insmod /payload/fuse.ko
	PGA_MNT=/tmp/pgfuse
	rm -f /tmp/exitflush.out
	/payload/pgholder exitflush "$PGA_INIT" $PGA_MNT >/tmp/exitflush.out 2>/dev/console &
	PGA_H=$!
	pgt_wait_for 30 sh -c "grep -qs '^ready' /tmp/exitflush.out || ! kill -0 $PGA_H"
	if ! grep -qs '^ready' /tmp/exitflush.out; then
		kill -0 "$PGA_H" 2>/dev/null &&
			{ echo "pgholder exitflush: no FLUSH within 30 s"; return 1; }
		wait "$PGA_H"
		_rc=$?
		PGA_MNT=''
		[ $_rc = 3 ] && { echo "SKIP: $(cat /tmp/exitflush.out); $_lg"; return 3; }
		echo "pgholder exitflush exited $_rc: $(cat /tmp/exitflush.out)"
		return 1
	fi
	# shellcheck disable=SC2046
	set -- $(cat /tmp/exitflush.out)
	_c=$2
	[ "$4" = "$_c" ] || { echo "FLUSH came from $4, not the child $_c"; return 1; }
	pgt_wait_for 10 pga_in_exit_sleep "$_c" ||
		{ echo "child $_c not asleep with PF_EXITING: $(pga_stat_of "$_c")"; return 1; }
	pgt_stats_read a
	kill -9 "$PGA_INIT"
	pgt_wait_for 30 sh -c "grep -q 'holder pid=$_c ' $PG_DBG/active" ||
		{ cat "$PG_DBG/active"; echo "teardown of $_ino not held by $_c"; return 1; }
	# the kill phase is over: the SIGKILL was sent
	pgt_wait_for 30 sh -c "grep -q '^teardown ns=$_ino .*phase=unhash-wait' $PG_DBG/active" ||
		{ cat "$PG_DBG/active"; echo "teardown of $_ino never in unhash-wait"; return 1; }
	cat "$PG_DBG/active" >/tmp/exiting.active
	# shellcheck disable=SC2046
	set -- $(pga_stat_of "$_c")
	_st=$1 _fl=$2
	# where it sleeps, from /proc (not from the module), around stuck
	_pw=$(cat "/proc/$_c/wchan" 2>/dev/null)
	_stuck=$(sh /payload/pidns-guard stuck 2>&1)
	_pw2=$(cat "/proc/$_c/wchan" 2>/dev/null)
	cat /proc/"$_c"/stack 2>/dev/null
	sleep 2
	pga_in_exit_sleep "$_c"
	_still=$?
	kill "$PGA_H"
	wait "$PGA_H"	# bounded: pgholder reaps its child within 30 s
	_hrc=$?
	pgt_wait_for 30 pgt_stat_is active 0
	_end=$?
	[ $_end = 0 ] && wait "$PGA_U"	# its init is reaped once the teardown ends
	pgt_stats_read b
	cat /tmp/exiting.active
	echo "$_stuck"
	_line=$(grep "holder pid=$_c " /tmp/exiting.active)
	_why=${_line#*why=}
	_wchan=${_line#*wchan=}
	_wchan=${_wchan%% *}
	[ $((_fl & 4)) != 0 ] || { echo "child $_c lost PF_EXITING ($_st $_fl)"; return 1; }
	[ $_still = 0 ] || { echo "child $_c no longer asleep in its exit 2 s after the teardown's SIGKILL"; return 1; }
	case $_line in
	*" state=$_st "*) ;;
	*) echo "state in active is not /proc's $_st: $_line"; return 1 ;;
	esac
	case $_why in
	exiting:*) ;;
	*) echo "holder $_c (state $_st, PF_EXITING) named why=$_why"; return 1 ;;
	esac
	case $_pw in
	''|0|'?') echo "/proc/$_c/wchan says '$_pw'"; return 1 ;;
	esac
	[ "$_pw2" = "$_pw" ] || { echo "child $_c moved from $_pw to $_pw2 while stuck ran"; return 1; }
	echo "$_stuck" | grep -q "$_c (pgexitflush) is exiting, asleep in .* in its exit path: signals cannot end this wait" ||
		{ echo "stuck gave no exiting remedy for $_c"; return 1; }
	echo "$_stuck" | grep -q "$_c (pgexitflush) is exiting, asleep in $_pw in its exit path" ||
		{ echo "stuck says $(echo "$_stuck" | grep -o "asleep in [^ ]*"), /proc/$_c/wchan $_pw"; return 1; }
	[ "$_wchan" = "$_pw" ] || { echo "active says wchan=$_wchan, /proc/$_c/wchan $_pw"; return 1; }
	echo "$_stuck" | grep -q "FUSE filesystem's daemon" ||
		{ echo "stuck did not name the FUSE daemon"; return 1; }
	[ $_hrc = 0 ] || { echo "pgholder exitflush failed ($_hrc) after answering FLUSH"; return 1; }
	[ $_end = 0 ] || { echo "teardown never ended after FLUSH was answered"; return 1; }
	PGA_MNT=''
	for _k in teardowns teardowns_done unhash_waits; do
		[ "$(pgt_delta $_k)" = 1 ] || { echo "$_k went up by $(pgt_delta $_k), want 1"; return 1; }
	done
	[ "$(pgt_delta children_reaped)" = 0 ] || { echo "children_reaped went up by $(pgt_delta children_reaped)"; return 1; }
	echo "exiting holder $_c (state $_st, PF_EXITING, wchan $_pw in /proc, active and stuck) named why=exiting, still asleep 2 s after the teardown's SIGKILL, stuck named the FUSE daemon; the teardown ended once FLUSH was answered (tasks_killed +$(pgt_delta tasks_killed)); $_lg"
}
pgt_run_check active/exiting-holder pga_test pgt_exiting_holder

# A holder its tracer keeps stopped in its exit event (strace -f's
# PTRACE_O_TRACEEXIT, then the tracer suspended; docker stop hangs until
# the tracer goes).  Every ptrace stop sets the task's cgroup-v2 frozen
# flag, its cgroup is not freezing: why must be traced-stopped and name
# the tracer, never frozen (which would send the operator to docker
# unpause); stuck must say to detach it.
pgt_traced_exit_stop() {
	pgt_load || { echo "insmod failed"; return 1; }
	pga_ns_start 'exec sleep 1000' || { echo "no namespace"; return 1; }
	rm -f /tmp/exitstop.out
	/payload/pgholder exitstop "$PGA_INIT" >/tmp/exitstop.out 2>/dev/console &
	PGA_H=$!
	pgt_wait_for 30 sh -c "grep -qs '^ready' /tmp/exitstop.out || ! kill -0 $PGA_H"
	grep -qs '^ready' /tmp/exitstop.out ||
		{ echo "pgholder exitstop gave up: $(cat /tmp/exitstop.out)"; return 1; }
	_c=$(sed -n 's/^ready //p' /tmp/exitstop.out)
	pgt_stats_read a
	kill -9 "$PGA_INIT"
	pgt_wait_for 30 grep -qs '^stopped' /tmp/exitstop.out ||
		{ echo "child $_c never stopped in its exit event"; return 1; }
	pgt_wait_for 30 sh -c "grep -q 'holder pid=$_c ' $PG_DBG/active" ||
		{ cat "$PG_DBG/active"; echo "teardown not held by $_c"; return 1; }
	_line=$(grep "holder pid=$_c " "$PG_DBG/active")
	_st=$(pga_stat_of "$_c")
	_stuck=$(sh /payload/pidns-guard stuck 2>&1)
	kill "$PGA_H"
	wait "$PGA_H"	# bounded: pgholder reaps its child within 30 s
	_hrc=$?
	pgt_wait_for 30 pgt_stat_is active 0
	_end=$?
	[ $_end = 0 ] && wait "$PGA_U"
	pgt_stats_read b
	echo "$_line"
	echo "$_stuck"
	case $_line in
	*" tracer=$PGA_H "*"why=traced-stopped:"*) ;;
	*) echo "holder $_c (state ${_st%% *}) not named traced-stopped by tracer $PGA_H: $_line"; return 1 ;;
	esac
	echo "$_stuck" | grep -q "$_c (.*) is stopped by its tracer $PGA_H (pgholder).*kill $PGA_H)" ||
		{ echo "stuck gave no traced-stopped remedy naming tracer $PGA_H"; return 1; }
	[ $_hrc = 0 ] || { echo "pgholder exitstop failed ($_hrc) after detaching"; return 1; }
	[ $_end = 0 ] || { echo "teardown never ended after the tracer detached"; return 1; }
	for _k in teardowns teardowns_done unhash_waits; do
		[ "$(pgt_delta $_k)" = 1 ] || { echo "$_k went up by $(pgt_delta $_k), want 1"; return 1; }
	done
	echo "holder $_c stopped in its exit event (state ${_st%% *}) named why=traced-stopped with tracer $PGA_H, stuck says detach; the teardown ended once the tracer detached"
}
pgt_run_check active/traced-exit-stop pga_test pgt_traced_exit_stop
