#!/usr/bin/env bash
# The Debian package pidns-guard-dkms: built with dh-dkms from the tracked
# sources, lintian clean, its version the one of dkms.conf; installing it on
# a machine with headers makes DKMS build and install the module for each
# kernel given; purging it leaves nothing behind.
#
#   tests/deb.sh [ABI ...]
#
# Prints "PLAN name..." (the checks it will print), then one PASS/FAIL
# line per check; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

[ $# -gt 0 ] || set -- $PG_DEFAULT_KERNELS
name=pidns_guard ver=$(pg_version)
out="$PG_ROOT/out/deb"
deb="$out/pidns-guard-dkms_${ver}_all.deb"

# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/deb.log"

build() {
	rm -rf "$out/src" && mkdir -p "$out/src"
	(cd "$PG_ROOT" && git ls-files -z -co --exclude-standard | cpio -0pdm --quiet "$out/src") &&
		(cd "$out/src" && dpkg-buildpackage -b -us -uc) && [ -f "$deb" ]
}

versions_agree() {
	[ "$(cd "$out/src" && dpkg-parsechangelog -S Version)" = "$ver" ]
}

installed_everywhere() {
	local abi
	for abi in "$@"; do
		dkms status "$name/$ver" -k "$abi" | grep -q ': installed' || return 1
	done
}

nothing_left() {
	! dpkg-query -W pidns-guard-dkms >/dev/null 2>&1 &&
		[ ! -e "/usr/src/$name-$ver" ] && [ ! -e "/var/lib/dkms/$name" ] &&
		! ls /lib/modules/*/updates/dkms/$name.ko* >/dev/null 2>&1
}

pg_plan host/deb-build host/deb-version host/deb-lintian host/deb-install \
	host/deb-installed host/deb-purge host/deb-clean
mkdir -p "$out"
: >"$out/deb.log"
pg_apt_install debhelper dh-dkms dkms lintian dpkg-dev fakeroot git cpio
for abi in "$@"; do
	pg_apt_install "linux-headers-$abi"
done
# No earlier install in the way.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pidns-guard-dkms >>"$out/deb.log" 2>&1
dkms remove "$name/$ver" --all >>"$out/deb.log" 2>&1

pg_check deb-build "dpkg-buildpackage with dh-dkms" build
pg_check deb-version "debian/changelog version is dkms.conf's $ver" versions_agree
pg_check deb-lintian "lintian: no error or warning" \
	lintian --allow-root --fail-on error,warning "$deb"
pg_check deb-install "dpkg -i: DKMS builds and installs for ${*}" \
	sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '$deb'"
pg_check deb-installed "dkms status installed for every kernel" installed_everywhere "$@"
pg_check deb-purge "apt-get purge leaves nothing behind" \
	sh -c "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pidns-guard-dkms"
pg_check deb-clean "no package, source, DKMS tree or module left" nothing_left
exit $PG_CHECK_RC
