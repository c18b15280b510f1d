#!/usr/bin/env bash
# pidns_guard demo for machines that cannot load modules into their own
# kernel: boots a Debian kernel under QEMU (through the test runner's
# tests/lib/qemu-run), loads the module with scripts/load.sh, holds a
# container-like namespace teardown open with an outside tracer, and shows
# what pidns_guard reports before, during and after.
#
#   scripts/demo.sh [--kernel ABI]     default: 6.12.113+deb12-amd64 (old
#                                      generation: the live fix matters)
#
# ABI: any amd64 kernel of Debian's archive (`tests/matrix --list`: Debian
# 12, 13, trixie-backports 7.x, forky; generic, cloud, rt), built with its
# own release's toolchain (tests/lib/roots.sh).
set -euo pipefail
. "$(dirname "$0")/../tests/lib/common.sh"

abi=6.12.113+deb12-amd64
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) abi=$2; shift ;;
	-h|--help) sed -n '2,13p' "$0"; exit 0 ;;
	*) pg_die "unknown argument $1 (see --help)" ;;
	esac
	shift
done

pg_kernel_local "$abi" || pg_abi_list | awk -v a="$abi" '$1 == a { f = 1 } END { exit !f }' ||
	pg_die "Debian's archive has no linux-headers-$abi (see tests/matrix --list)"

out="$PG_ROOT/out/demo/$abi"
mkdir -p "$out/payload"
pg_host_deps
pg_kernel_prepare "$abi"
pg_log "building pidns_guard for $abi"
ko=$(pg_build_module "$abi" "$out") || pg_die "the module does not build for $abi"
make -s -C "$PG_ROOT/tests/guest" O="$out" >/dev/null || pg_die "cannot build pgtest"
cp "$ko" "$out/pgtest" "$PG_ROOT/scripts/load.sh" "$PG_ROOT/scripts/pidns-guard" \
	"$PG_ROOT/scripts/demo-guest.sh" "$out/payload/"
pg_log "booting $abi under QEMU (software emulation; about a minute)"
"$PG_ROOT/tests/lib/qemu-run" --kernel "$abi" --payload "$out/payload" \
	--run demo-guest.sh --out "$out" --timeout 600 --live
if [ -s "$out/trouble.log" ]; then
	pg_log "the kernel complained (see $out/console.log):"
	cat "$out/trouble.log" >&2
	exit 1
fi
pg_log "full kernel log: $out/console.log"
