#!/usr/bin/env bash
# Kernel style gates: checkpatch.pl --strict (from Debian's linux-source),
# and a W=1 + sparse (C=1) build that must print no warning, for each
# kernel given (default: the default test kernels), with the toolchain of
# the kernel's own release (tests/lib/roots.sh; where that release's sparse
# cannot parse the headers, W=1 only, saying so).  And a build that must
# fail: against the first host kernel's headers with DYNAMIC_FTRACE_WITH_ARGS
# taken out of its configuration, the module refuses to build, saying so
# (without it the redirect would silently do nothing), as dkms.conf's
# BUILD_EXCLUSIVE_CONFIG refuses such a kernel.
#
#   tests/lint.sh [ABI ...]
#
# Prints "PLAN name..." (the checks it will print), then one PASS/FAIL
# line per check; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# shellcheck disable=SC2086
[ $# -gt 0 ] || set -- $PG_DEFAULT_KERNELS
pg_plan host/checkpatch host/generations-doc "${@/#/host/W=1+sparse:}" host/refuses-without-ftrace-args

pg_checkpatch() {
	local dir="$PG_CACHE/checkpatch"
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		pg_apt_install linux-source-6.12
		mkdir -p "$dir"
		tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$dir" --strip-components=1 \
			linux-source-6.12/scripts/checkpatch.pl \
			linux-source-6.12/scripts/spelling.txt \
			linux-source-6.12/scripts/const_structs.checkpatch
	fi
	echo "$dir/scripts/checkpatch.pl"
}

# Sources we write in kernel style.
pg_kernel_sources() {
	(cd "$PG_ROOT" && ls src/*.c src/*.h include/*.h tests/klp/*.h tests/klp/*/*.c)
}

rc=0
cp=$(pg_checkpatch)
out=$(cd "$PG_ROOT" && pg_kernel_sources | xargs "$cp" --strict --no-tree --terse -f 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks' || true)
if [ -z "$out" ]; then
	echo "PASS host/checkpatch --strict clean"
else
	echo "FAIL host/checkpatch $(echo "$out" | head -n 5 | tr '\n' '|')"
	rc=1
fi

# docs/generations.md is made from the policy sources: made again since?
want=$("$PG_ROOT/tests/generations" --digest)
if grep -q "(digest $want;" "$PG_ROOT/docs/generations.md"; then
	echo "PASS host/generations-doc docs/generations.md made from today's src/teardown.c and src/generation.h"
else
	echo "FAIL host/generations-doc src/teardown.c or src/generation.h changed since docs/generations.md was made: run tests/generations"
	rc=1
fi

pg_apt_install sparse
for abi in "$@"; do
	tmp=$(mktemp -d)
	mkdir -p "$tmp/src-tree"
	cp -r "$PG_ROOT"/{Kbuild,dkms.conf,src,include} "$tmp/src-tree/"
	if ! pg_abi_headers_install "$abi" >"$tmp/log" 2>&1; then
		echo "FAIL host/W=1+sparse:$abi linux-headers-$abi does not install: $(tail -n 2 "$tmp/log" | tr '\n' '|')"
		rc=1
		rm -rf "$tmp"
		continue
	fi
	sargs=$(pg_sparse_args "$abi" 3>"$tmp/sparse-na")
	nsp=$(cat "$tmp/sparse-na")
	if pg_kbuild "$abi" "$tmp/src-tree" W=1 "$sargs" modules >"$tmp/log" 2>&1 &&
	   ! grep -vE "$PG_CHECKER_NOISE" "$tmp/log" | grep -qiE 'warning|error'; then
		echo "PASS host/W=1+sparse:$abi no warnings${nsp:+ (W=1 only, $nsp)}"
	else
		echo "FAIL host/W=1+sparse:$abi $(grep -vE "$PG_CHECKER_NOISE" "$tmp/log" |
			grep -iE 'warning|error' | head -n 3 | tr '\n' '|')"
		rc=1
	fi
	rm -rf "$tmp"
done

# A copy of kernel $1's headers without CONFIG_DYNAMIC_FTRACE_WITH_ARGS;
# its symbolic links (kbuild's scripts, tools) made absolute.
headers_without_ftrace_args() {	# abi dir
	local hdr l
	hdr=$(pg_kernel_headers "$1")
	cp -a "$hdr/." "$2/"
	for l in "$2"/*; do
		[ -L "$l" ] && ln -sfn "$(readlink -f "$hdr/$(basename "$l")")" "$l"
	done
	sed -i '/CONFIG_DYNAMIC_FTRACE_WITH_ARGS/d' "$2/include/generated/autoconf.h" \
		"$2/include/config/auto.conf" "$2/.config"
}

# On a kernel the host builds for (its headers are the host's to copy).
# (Not `| head -n 1`: under pipefail the writer's SIGPIPE would end the script.)
host_abi=$(pg_host_abis "$@")
host_abi=${host_abi%%$'\n'*}
host_abi=${host_abi:-6.1.0-47-amd64}
pg_apt_install "linux-headers-$host_abi"
tmp=$(mktemp -d)
mkdir -p "$tmp/hdr" "$tmp/src-tree"
cp -r "$PG_ROOT"/{Kbuild,dkms.conf,src,include} "$tmp/src-tree/"
headers_without_ftrace_args "$host_abi" "$tmp/hdr"
if make -s -C "$tmp/hdr" M="$tmp/src-tree" modules >"$tmp/log" 2>&1; then
	echo "FAIL host/refuses-without-ftrace-args the module built for $host_abi without DYNAMIC_FTRACE_WITH_ARGS"
	rc=1
elif ! grep -q 'error: #error "pidns_guard needs CONFIG_DYNAMIC_FTRACE_WITH_ARGS' "$tmp/log"; then
	echo "FAIL host/refuses-without-ftrace-args the build failed another way: $(grep -m 3 'error' "$tmp/log" | tr '\n' '|')"
	rc=1
elif ! grep -q '^BUILD_EXCLUSIVE_CONFIG=.*CONFIG_DYNAMIC_FTRACE_WITH_ARGS' "$PG_ROOT/dkms.conf"; then
	echo "FAIL host/refuses-without-ftrace-args dkms.conf does not exclude such kernels"
	rc=1
else
	echo "PASS host/refuses-without-ftrace-args $host_abi without DYNAMIC_FTRACE_WITH_ARGS: the build stops with its #error; dkms.conf excludes such kernels"
fi
rm -rf "$tmp"
exit $rc
