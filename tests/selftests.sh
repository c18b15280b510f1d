#!/usr/bin/env bash
# The kernel's own selftests as a peer suite (issue 11 point 6).
#
#   tests/selftests.sh [--timeout SEC] [--out DIR] [ABI ...]
#
# For each kernel (default: 6.1.0-47-amd64 and 6.12.117+deb12-amd64) it
# builds tools/testing/selftests/pidfd/* and pid_namespace/* from Debian's
# linux-source of that series with the selftests' own Makefiles (static,
# against the tree's `make headers`; cached in
# ~/.cache/pidns_guard/selftests/<series>/), builds pidns_guard.ko, and
# boots the kernel twice under QEMU (tests/guest/selftests-guest.sh): once
# stock, once with the module loaded before the tests and unloaded after.
# Every test, and every TAP case it prints, must end with the module as it
# ends on stock: a difference is a FAIL; a test that fails or skips on
# stock (and ends the same with the module) is a SKIP naming its stock
# result.  Any kernel warning in either boot fails.  --timeout: seconds per
# test (default 600).  Output: one line per test and kernel, then
# "N passed, N failed, N skipped"; logs in out/selftests/<abi>/.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

ST_TESTS="pidfd_test pidfd_fdinfo_test pidfd_open_test pidfd_poll_test pidfd_wait pidfd_getfd_test pidfd_setns_test regression_enomem"
# Bumped when the way the selftests are built changes (invalidates the cache).
ST_RECIPE=1
kernels="" out="$PG_ROOT/out/selftests" test_timeout=600
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) test_timeout=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	-*) pg_die "unknown argument $1 (see --help)" ;;
	*) kernels="$kernels $1" ;;
	esac
	shift
done
kernels=${kernels:-6.1.0-47-amd64 6.12.117+deb12-amd64}
# The tests run one after the other; a boot may take all of them plus a
# margin for booting, loading and the unload wait.
boot_timeout=$(( $(wc -w <<<"$ST_TESTS") * (test_timeout + 20) + 300 ))

passed=0 failed=0 skipped=0
report() {	# status name detail
	printf '%-4s %s %s\n' "$1" "$2" "${3:-}"
	case $1 in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

series_of() {
	case $1 in
	6.1.*) echo 6.1 ;;
	6.12.*) echo 6.12 ;;
	*) return 1 ;;
	esac
}

# Build the selftests of one series into the cache (once per linux-source
# version); prints the directory holding the binaries.
build_selftests() {
	local series=$1 pkg="linux-source-$1" cache="$PG_CACHE/selftests/$1"
	local tarball="/usr/src/linux-source-$1.tar.xz" stamp work top t
	pg_apt_install "$pkg" >&2
	stamp="$pkg $(dpkg-query -W -f='${Version}' "$pkg") recipe $ST_RECIPE gcc $(gcc -dumpfullversion)"
	if [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "$cache"
		return 0
	fi
	work="$out/src"
	top="$work/linux-source-$series"
	rm -rf "$top" "$cache" && mkdir -p "$work" "$cache"
	pg_log "extracting what the selftests need from $tarball"
	# make headers needs the top Makefile, scripts, include and the arch
	# tree; the selftests need tools/include, lib.mk, kselftest*.h and the
	# headers their sources include from other selftest directories.
	tar -xJf "$tarball" -C "$work" --wildcards \
		"linux-source-$series/Makefile" "linux-source-$series/Kbuild" \
		"linux-source-$series/Kconfig" "linux-source-$series/scripts" \
		"linux-source-$series/include" "linux-source-$series/arch/x86" \
		"linux-source-$series/usr" "linux-source-$series/tools/include" \
		"linux-source-$series/tools/arch/x86" "linux-source-$series/tools/scripts" \
		"linux-source-$series/tools/testing/selftests/lib.mk" \
		"linux-source-$series/tools/testing/selftests/kselftest*" \
		"linux-source-$series/tools/testing/selftests/clone3" \
		"linux-source-$series/tools/testing/selftests/pidfd" \
		"linux-source-$series/tools/testing/selftests/pid_namespace" ||
		{ pg_log "cannot extract from $tarball"; return 1; }
	make -s -C "$top" ARCH=x86_64 headers >"$work/headers-$series.log" 2>&1 ||
		{ cat "$work/headers-$series.log" >&2; return 1; }
	: >"$work/build-$series.log"
	for t in pidfd pid_namespace; do
		make -C "$top/tools/testing/selftests/$t" USERLDFLAGS=-static \
			OUTPUT="$cache" >>"$work/build-$series.log" 2>&1 ||
			{ cat "$work/build-$series.log" >&2; return 1; }
	done
	for t in $ST_TESTS; do
		if [ ! -x "$cache/$t" ] || readelf -lW "$cache/$t" | grep -q INTERP; then
			pg_log "$cache/$t is missing or not a static binary"
			return 1
		fi
	done
	cp "$work/build-$series.log" "$cache/build.log"
	echo "$stamp" >"$cache/stamp"
	rm -rf "$top"
	echo "$cache"
}

# The source changes concurrently: a build that fails mid-edit is retried.
build_module() {	# abi dir
	local try
	for try in 1 2 3; do
		pg_build_module "$1" "$2" 2>/dev/null && return 0
		[ $try = 3 ] || sleep 60
	done
	pg_build_module "$1" "$2"
}

make_payload() {	# abi mode dir bindir [ko]
	local abi=$1 mode=$2 dir=$3 bindir=$4 ko=${5:-}
	rm -rf "$dir" && mkdir -p "$dir/selftests"
	cp "$PG_ROOT/tests/guest/lib.sh" "$PG_ROOT/tests/guest/selftests-guest.sh" "$dir/"
	for t in $ST_TESTS; do cp "$bindir/$t" "$dir/selftests/"; done
	[ -z "$ko" ] || cp "$ko" "$dir/"
	cat >"$dir/env" <<-ENV
	PG_KERNEL=$abi
	PG_GENERATION=$(pg_kernel_generation "$abi")
	PG_VERSION=$(pg_version)
	PG_ST_MODE=$mode
	PG_ST_TIMEOUT=$test_timeout
	PG_ST_TESTS="$ST_TESTS"
	ENV
}

# boot ABI MODE: one boot; results in $kout/$mode/results.log.  Sets
# boot_secs.
boot() {
	local abi=$1 mode=$2 t0
	t0=$(date +%s)
	"$PG_ROOT/tests/lib/qemu-run" --kernel "$abi" --payload "$kout/payload-$mode" \
		--run selftests-guest.sh --out "$kout/$mode" --timeout "$boot_timeout" \
		>"$kout/$mode.qemu-run.log" 2>&1 ||
		report FAIL "host/selftests:$abi:boot-$mode" "the guest did not finish (see $kout/$mode/console.log)"
	boot_secs=$(( $(date +%s) - t0 ))
	# the tests' own output, one file per test
	mkdir -p "$kout/$mode/logs"
	tr -d '\r' <"$kout/$mode/results.log" |
		awk -v d="$kout/$mode/logs" '$1 == "PGT" && $2 == "LOG" {
			f = d "/" $3 ".log"; sub(/^PGT LOG [^ ]* ?/, ""); print > f }'
	if [ -s "$kout/$mode/trouble.log" ]; then
		report FAIL "host/selftests:$abi:kernel-log-$mode" "$(head -n 3 "$kout/$mode/trouble.log" | tr '\n' '|')"
	else
		report PASS "host/selftests:$abi:kernel-log-$mode" "no BUG/WARNING/Oops/lockup/hung task/RCU stall (boot ${boot_secs}s)"
	fi
}

# Results of one boot into the associative array named $2: name -> "STATUS detail".
declare -A R_stock R_module
load_results() {	# file array
	local -n arr=$2	# R_stock or R_module
	local a b name status detail
	arr=()
	while read -r a b name status detail; do
		[ "$a $b" = "PGT RESULT" ] || continue
		# shellcheck disable=SC2034  # arr is a nameref
		arr["$name"]="$status $detail"
	done < <(tr -d '\r' <"$1")
}

field() {	# "STATUS rc=N secs=S" key -> value
	sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"
}

compare_test() {	# abi test
	local abi=$1 t=$2 s m k cases=0 diffs="" stock_bad="" name st mt cn times
	s=${R_stock[$t]:-} m=${R_module[$t]:-}
	name="host/selftests:$abi:$t"
	if [ -z "$s" ]; then
		report FAIL "$name" "no result on stock (see $kout/stock/console.log)"
		return
	fi
	if [ -z "$m" ]; then
		report FAIL "$name" "stock ${s%% *}, no result with the module (see $kout/module/console.log)"
		return
	fi
	# every case of either boot, in number order
	for k in $( { printf '%s\n' "${!R_stock[@]}" "${!R_module[@]}"; } |
		    grep "^$t#" | sort -t'#' -k2,2n -u); do
		cases=$((cases + 1))
		st=${R_stock[$k]:-none}
		[ "${st%% *}" = PASS ] || [ "${st%% *}" = XFAIL ] ||
			stock_bad="$stock_bad; stock #${k#*#} ${st}"
		mt=${R_module[$k]:-none}
		if [ "${st%% *}" != "${mt%% *}" ]; then
			[ "$st" = none ] && cn=${mt#* } || cn=${st#* }
			diffs="$diffs; #${k#*#} $cn: stock ${st%% *}, module ${mt%% *}"
		fi
	done
	times="stock $(field "$s" secs)s, module $(field "$m" secs)s"
	if [ "${s%% *}" != "${m%% *}" ] || [ -n "$diffs" ]; then
		report FAIL "$name" "stock ${s%% *} rc=$(field "$s" rc), module ${m%% *} rc=$(field "$m" rc)${diffs} [$times]"
	elif [ "${s%% *}" = PASS ] && [ -z "$stock_bad" ]; then
		report PASS "$name" "stock PASS, module PASS, $cases case(s) alike [$times]"
	else
		report SKIP "$name" "not passing on stock: ${s%% *} rc=$(field "$s" rc)${stock_bad}; module ends the same ($cases case(s) alike) [$times]"
	fi
}

run_kernel() {
	local abi=$1 series bindir ko t0 t s_secs m_secs
	kout="$out/$abi"
	t0=$(date +%s)
	rm -rf "$kout" && mkdir -p "$kout"
	if ! series=$(series_of "$abi"); then
		report FAIL "host/selftests:$abi:setup" "not a 6.1 or 6.12 kernel"
		return
	fi
	if ! pg_kernel_prepare "$abi" >"$kout/prepare.log" 2>&1; then
		report FAIL "host/selftests:$abi:setup" "kernel $abi could not be prepared"
		return
	fi
	if ! bindir=$(build_selftests "$series" 2>"$kout/selftests-build.log"); then
		report FAIL "host/selftests:$abi:build" "selftests of linux-source-$series do not build (see $kout/selftests-build.log)"
		return
	fi
	if ! ko=$(build_module "$abi" "$kout" 2>"$kout/module-build.log"); then
		report FAIL "host/selftests:$abi:build" "pidns_guard.ko does not build (see $kout/module-build.log)"
		return
	fi
	report PASS "host/selftests:$abi:build" "linux-source-$series $(dpkg-query -W -f='${Version}' "linux-source-$series") selftests (static, $bindir), pidns_guard.ko ($(pg_kernel_generation "$abi") generation)"

	make_payload "$abi" stock "$kout/payload-stock" "$bindir"
	make_payload "$abi" module "$kout/payload-module" "$bindir" "$ko"
	boot "$abi" stock
	s_secs=$boot_secs
	boot "$abi" module
	m_secs=$boot_secs
	load_results "$kout/stock/results.log" R_stock
	load_results "$kout/module/results.log" R_module

	for t in module/load module/stats module/unload; do
		if [ -z "${R_module[$t]:-}" ]; then
			report FAIL "host/selftests:$abi:$t" "no result from the module boot"
		else
			report "${R_module[$t]%% *}" "host/selftests:$abi:$t" "$(cut -d' ' -f2- <<<"${R_module[$t]}")"
		fi
	done
	for t in $ST_TESTS; do
		compare_test "$abi" "$t"
	done
	echo "time $abi: ${s_secs}s stock boot, ${m_secs}s module boot, $(( $(date +%s) - t0 ))s in all (builds included)"
}

pg_host_deps
mkdir -p "$out"
for abi in $kernels; do
	run_kernel "$abi"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
