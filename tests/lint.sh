#!/usr/bin/env bash
# Kernel style gates: checkpatch.pl --strict (from Debian's linux-source),
# and a W=1 + sparse (C=1) build that must print no warning, for each
# kernel given (default: the default test kernels).
#
#   tests/lint.sh [ABI ...]
#
# Prints "PLAN name..." (the checks it will print), then one PASS/FAIL
# line per check; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# shellcheck disable=SC2086
[ $# -gt 0 ] || set -- $PG_DEFAULT_KERNELS
pg_plan host/checkpatch "${@/#/host/W=1+sparse:}"

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

pg_apt_install sparse
for abi in "$@"; do
	pg_apt_install "linux-headers-$abi"
	tmp=$(mktemp -d)
	mkdir -p "$tmp/src-tree"
	cp -r "$PG_ROOT"/{Kbuild,dkms.conf,src,include} "$tmp/src-tree/"
	if make -s -C "$(pg_kernel_headers "$abi")" M="$tmp/src-tree" W=1 C=1 modules \
		>"$tmp/log" 2>&1 && ! grep -q 'warning\|error' "$tmp/log"; then
		echo "PASS host/W=1+sparse:$abi no warnings"
	else
		echo "FAIL host/W=1+sparse:$abi $(grep 'warning\|error' "$tmp/log" | head -n 3 | tr '\n' '|')"
		rc=1
	fi
	rm -rf "$tmp"
done
exit $rc
