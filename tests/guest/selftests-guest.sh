# shellcheck shell=sh
# The kernel's own selftests (tools/testing/selftests/pidfd and
# pid_namespace, built by tests/selftests.sh from Debian's linux-source of
# the booted kernel's series) in one boot: either on the stock kernel
# (PG_ST_MODE=stock) or with pidns_guard loaded before the first test and
# unloaded after the last (PG_ST_MODE=module).  tests/selftests.sh runs one
# boot of each and compares them.
#
# Results on fd 3 (tests/guest/lib.sh):
#   PGT RESULT <test> <PASS|FAIL|SKIP|TIMEOUT> rc=N secs=S
#       the test's exit (kselftest: 0 pass, 4 skip, else fail; TIMEOUT when
#       it ran into PG_ST_TIMEOUT and was killed)
#   PGT RESULT <test>#<n> <PASS|FAIL|SKIP|XFAIL> <case name>
#       one per TAP "ok"/"not ok" line the test printed
#   PGT RESULT module/load|module/unload|module/stats ... (module mode)
# and the tests' whole output as "PGT LOG <test> <line>" (kept off the
# console so that nothing a test prints can look like a kernel warning).
. /payload/lib.sh

: "${PG_ST_MODE:=stock}" "${PG_ST_TIMEOUT:=600}"
ST_BIN=/payload/selftests
echo "pgt: selftests on $(uname -r) ($PG_GENERATION generation), mode $PG_ST_MODE"

if [ "$PG_ST_MODE" = module ]; then
	if pgt_load && pgt_loaded; then
		pgt_result module/load PASS "pidns_guard $PG_VERSION loaded before the selftests"
	else
		pgt_result module/load FAIL "insmod failed: no selftest runs with the module"
		exit 1
	fi
fi

# st_cases TEST LOG: one result per TAP line "ok N name[ # SKIP ...]" or
# "not ok N name".  Lines of the kselftest harness's own per-test output
# are indented or start with "#", so only the top-level results match.
# A test that forks with unflushed stdio (stdout is a file here) has its
# child print earlier lines again: only the first line of a number counts.
st_cases() {
	_seen=' '
	while IFS= read -r _l; do
		case $_l in
		"not ok "*) _s=FAIL _r=${_l#not ok } ;;
		"ok "*) _s=PASS _r=${_l#ok } ;;
		*) continue ;;
		esac
		_n=${_r%% *} _name=${_r#* }
		case $_n in '' | *[!0-9]*) continue ;; esac
		case $_seen in *" $_n "*) continue ;; esac
		_seen="$_seen$_n "
		[ "$_name" = "$_r" ] && _name=-
		case $_name in
		*"# SKIP"* | *"# skip"*) _s=SKIP ;;
		*"# XFAIL"*) [ "$_s" = PASS ] && _s=XFAIL ;;
		esac
		pgt_result "$1#$_n" "$_s" "$_name"
	done <"$2"
}

# st_log TEST LOG: the test's output as "PGT LOG" lines, each distinct line
# at most 3 times (with a count of its repeats at the end), 400 lines at
# most: pidfd_test prints "waitpid WEXITSTATUS=0" 32,000 times on 6.1, and
# megabytes through the second serial port make the PREEMPT_RT kernels
# disable its interrupt ("irq 3: nobody cared").
st_log() {
	awk -v t="$1" '
		{ n[$0]++ }
		n[$0] <= 3 && out < 400 { print "PGT LOG " t " " $0; out++ }
		END {
			for (l in n)
				if (n[l] > 3)
					print "PGT LOG " t " [" n[l] " times in all: " l "]"
			if (out >= 400)
				print "PGT LOG " t " [cut after 400 lines of " NR "]"
		}' "$2"
}

mkdir -p /tmp/st
for t in $PG_ST_TESTS; do
	if [ ! -x "$ST_BIN/$t" ]; then
		pgt_result "$t" FAIL "rc=- secs=0 not in the payload"
		continue
	fi
	echo "pgt: selftest $t starts"
	_t0=$(pgt_now_cs)
	# Each test in a directory of its own; TERM at the timeout, KILL 10 s
	# later.  Whatever it leaves running stays until the boot ends.
	mkdir -p "/tmp/st/$t.d"
	(cd "/tmp/st/$t.d" && exec timeout -k 10 "$PG_ST_TIMEOUT" "$ST_BIN/$t") \
		</dev/null >"/tmp/st/$t.log" 2>&1
	_rc=$?
	_t1=$(pgt_now_cs)
	_cs=$((_t1 - _t0))
	_secs=$((_cs / 100)).$((_cs % 100 / 10))$((_cs % 10))
	if [ $((_cs / 100)) -ge "$PG_ST_TIMEOUT" ]; then
		_st=TIMEOUT
	else
		case $_rc in
		0) _st=PASS ;;
		4) _st=SKIP ;;
		*) _st=FAIL ;;
		esac
	fi
	st_log "$t" "/tmp/st/$t.log" >&3
	st_cases "$t" "/tmp/st/$t.log"
	pgt_result "$t" "$_st" "rc=$_rc secs=$_secs"
done

echo "pgt: tasks left after the selftests:"
ps -o pid,ppid,stat,comm 2>/dev/null || ps

if [ "$PG_ST_MODE" = module ]; then
	if [ -r "$PG_DBG/stats" ]; then
		pgt_result module/stats PASS "$(tr '\n' ' ' <"$PG_DBG/stats")"
	else
		pgt_result module/stats FAIL "no $PG_DBG/stats"
	fi
	# A teardown a test left sleeping in pidns_guard holds the module
	# (rmmod is refused by design); give it a minute to end.
	if pgt_wait_for 60 rmmod pidns_guard 2>/dev/null && _left=$(pgt_no_traces); then
		pgt_result module/unload PASS "rmmod after the selftests; nothing left behind"
	else
		pgt_result module/unload FAIL "rmmod refused or traces left: ${_left:-still loaded} active=$(pgt_stat active 2>/dev/null)"
	fi
fi
exit 0
