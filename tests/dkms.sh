#!/usr/bin/env bash
# DKMS on the host, with DKMS's own machinery (never hand copies):
#   add/build/install against each kernel given that the host builds
#   (Debian 12's; tests/deb.sh covers DKMS on the other releases, in their
#   roots); a kernel upgrade (with the module installed through DKMS,
#   installing another kernel's headers and image makes DKMS build it by
#   itself), then that kernel booted in QEMU with the DKMS-built .ko
#   loaded; dkms remove leaves nothing behind.
#
#   tests/dkms.sh [--upgrade-to ABI] [ABI ...]
#
# Refuses to run where pidns-guard-dkms, a pidns_guard DKMS registration
# or source, or the upgrade kernel's packages are installed and the tests
# did not install them (the operator's: pg_purge_refusal in
# tests/lib/common.sh), unless PG_ALLOW_PURGE=1.
#
# Prints "PLAN name..." (the checks it will print), then one PASS/FAIL
# line per check; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

upgrade=$PG_UPGRADE_KERNEL
if [ "${1:-}" = --upgrade-to ]; then
	upgrade=$2 PG_UPGRADE_KERNEL=$2
	shift 2
fi
if why=$(pg_purge_refusal); then
	pg_die "$why"
fi
[ $# -gt 0 ] || set -- $PG_DEFAULT_KERNELS
# shellcheck disable=SC2046
set -- $(pg_host_abis "$@")

name=pidns_guard ver=$(pg_version)
src=/usr/src/$name-$ver
out="$PG_ROOT/out/dkms"

# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/dkms.log"

# Where DKMS put the module (compressed as the kernel's modules are: 6.12
# uses .ko.xz).
installed_ko() {
	local f
	for f in "/lib/modules/$1/updates/dkms/$name.ko"{,.xz,.zst,.gz}; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
	echo "/lib/modules/$1/updates/dkms/$name.ko"
}

dkms_installed_for() {
	dkms status "$name/$ver" -k "$1" | grep -q ': installed' &&
		[ -f "$(installed_ko "$1")" ] &&
		[ "$(modinfo -F version "$(installed_ko "$1")")" = "$ver" ] &&
		modinfo -F vermagic "$(installed_ko "$1")" | grep -q "^$1 "
}

nothing_left() {
	[ ! -e "/var/lib/dkms/$name" ] &&
		! ls /lib/modules/*/updates/dkms/$name.ko* >/dev/null 2>&1
}

purge_kernel() {
	local pkgs=() p
	for p in "linux-image-$1" "linux-headers-$1"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' && pkgs+=("$p")
	done
	[ ${#pkgs[@]} -eq 0 ] ||
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${pkgs[@]}"
}

# A fresh start: no earlier registration, the upgrade kernel absent.
fresh_start() {
	dkms remove "$name/$ver" --all 2>/dev/null
	rm -rf "$src"
	purge_kernel "$upgrade"
	pg_owned_prune
}

# Boot the upgrade kernel with the module DKMS built for it.
boot_upgrade() {
	local p="$out/boot/payload"
	pg_kernel_prepare "$upgrade" || return 1
	rm -rf "$p" && mkdir -p "$p"
	make -s -C "$PG_ROOT/tests/guest" O="$out/boot" >/dev/null || return 1
	case $(installed_ko "$upgrade") in
	*.xz) xz -dc "$(installed_ko "$upgrade")" >"$p/$name.ko" ;;
	*.zst) zstd -qdc "$(installed_ko "$upgrade")" >"$p/$name.ko" ;;
	*.gz) gzip -dc "$(installed_ko "$upgrade")" >"$p/$name.ko" ;;
	*) cp "$(installed_ko "$upgrade")" "$p/" ;;
	esac
	cp "$out/boot/pgtest" "$PG_ROOT/tests/guest/dkms-boot.sh" "$p/"
	"$PG_ROOT/tests/lib/qemu-run" --kernel "$upgrade" --payload "$p" \
		--run dkms-boot.sh --out "$out/boot" --timeout 300 || return 1
	[ ! -s "$out/boot/trouble.log" ] && grep -q '^PGT RESULT dkms/boot PASS' "$out/boot/results.log"
}

pg_plan host/dkms-add "${@/#/host/dkms-install:}" "${@/#/host/dkms-installed:}" \
	"host/dkms-upgrade:$upgrade" "host/dkms-boot:$upgrade" host/dkms-remove host/dkms-clean
mkdir -p "$out"
: >"$out/dkms.log"
pg_apt_install dkms
for abi in "$@"; do
	pg_apt_install "linux-headers-$abi"
done
fresh_start >>"$out/dkms.log" 2>&1

pg_owned_add "dkms:$name" "src:$src"
mkdir -p "$src"
cp -r "$PG_ROOT"/{Kbuild,Makefile,dkms.conf,src,include} "$src/"
pg_check dkms-add "dkms add $name/$ver" dkms add "$name/$ver"
for abi in "$@"; do
	pg_check "dkms-install:$abi" "dkms build + install, module in /updates/dkms" \
		sh -c "dkms build '$name/$ver' -k '$abi' && dkms install '$name/$ver' -k '$abi'"
	pg_check "dkms-installed:$abi" "dkms status installed, modinfo version $ver" dkms_installed_for "$abi"
done

pg_owned_add "pkg:linux-headers-$upgrade" "pkg:linux-image-$upgrade"
pg_apt_install "linux-headers-$upgrade" "linux-image-$upgrade" >>"$out/dkms.log" 2>&1
pg_check "dkms-upgrade:$upgrade" "installing a new kernel made DKMS build and install for it" \
	dkms_installed_for "$upgrade"
pg_check "dkms-boot:$upgrade" "the DKMS-built module loads and works on that kernel in QEMU" boot_upgrade

pg_check dkms-remove "dkms remove --all leaves nothing behind" \
	sh -c "dkms remove '$name/$ver' --all && rm -rf '$src'"
pg_check dkms-clean "no DKMS tree, no installed module left" nothing_left
purge_kernel "$upgrade" >>"$out/dkms.log" 2>&1
pg_owned_prune
exit $PG_CHECK_RC
