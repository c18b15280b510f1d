#!/usr/bin/env bash
# The Debian packages pidns-guard and pidns-guard-dkms: built with dh-dkms
# from the tracked sources, lintian clean, their version the one of
# dkms.conf; installing them on a machine with headers makes DKMS build
# and install the module for each kernel given, and puts the operator's
# pieces where README.md says, in pidns-guard: the
# command /usr/sbin/pidns-guard (its --help runs, without root), its man
# page, the conffile /etc/default/pidns-guard, the units, pidns-guard.service
# enabled and the metrics timer not; purging both leaves none of it behind.
# Enablement is read from the .wants links (what systemctl is-enabled
# reads; systemd need not be running), and from systemctl --root=/ where
# systemctl exists.
#
#   tests/deb.sh [ABI ...]
#
# The host (Debian 12) does it for the kernels it builds for; for the
# kernels of another release (Debian 13, forky) the script runs again in
# that release's build root (tests/lib/roots.sh), where the package is
# built with that release's debhelper and dh-dkms, checked by its lintian,
# and installed with its apt and dkms: those checks are named
# RELEASE/deb-... instead of host/deb-....
#
# Prints "PLAN name..." (the checks it will print, those of the roots'
# runs included), then one PASS/FAIL line per check; exits non-zero on any
# failure.  On the host it refuses to run where pidns-guard(-dkms) or a
# pidns_guard DKMS registration or source is installed and the tests did
# not install it (the operator's: pg_purge_refusal in tests/lib/common.sh),
# unless PG_ALLOW_PURGE=1.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

[ $# -gt 0 ] || set -- $PG_DEFAULT_KERNELS
name=pidns_guard ver=$(pg_version)
where=${PG_WHERE:-host}
out="$PG_ROOT/out/deb/$where"
deb="$out/pidns-guard-dkms_${ver}_all.deb" cmd_deb="$out/pidns-guard_${ver}_all.deb"

# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/deb.log"

build() {
	rm -rf "$out/src" && mkdir -p "$out/src"
	(cd "$PG_ROOT" && git ls-files -z -co --exclude-standard | cpio -0pdm --quiet "$out/src") &&
		(cd "$out/src" && dpkg-buildpackage -b -us -uc) && [ -f "$deb" ] && [ -f "$cmd_deb" ]
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

# The operator's pieces (README.md, "On a Debian host").  Units go where
# the build's debhelper puts them: /lib/systemd/system on Debian 12,
# /usr/lib/systemd/system from Debian 13.
cmd=/usr/sbin/pidns-guard
man=/usr/share/man/man8/pidns-guard.8.gz
conf=/etc/default/pidns-guard
units="pidns-guard.service pidns-guard-metrics.service pidns-guard-metrics.timer
	pidns-guard-metrics-file.service pidns-guard-settle.service pidns-guard-settle.timer"
# The engines' template units ordered after pidns-guard.service (drop-ins
# beside the units), and the files the command and a fleet read.
templates="systemd-nspawn@ lxc@ user@"
completion=/usr/share/bash-completion/completions/pidns-guard
schema=/usr/share/pidns-guard/pidns-guard.schema.json
rules=/usr/share/pidns-guard/prometheus/pidns-guard.rules.yml
settle_wants=/etc/systemd/system/timers.target.wants/pidns-guard-settle.timer
unit_dirs="/lib/systemd/system /usr/lib/systemd/system"
wants=/etc/systemd/system/multi-user.target.wants/pidns-guard.service

# PATH...: each a regular file that the installed package pidns-guard lists.
owned_files() {
	local list f rc=0
	list=$(dpkg-query -L pidns-guard) || return 1
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "missing: $f" && rc=1
		elif ! grep -qxF "$f" <<<"$list"; then
			echo "not listed by the package: $f" && rc=1
		fi
	done
	return $rc
}

# The installed unit file of UNIT: in one of unit_dirs, listed by the package.
unit_path() {
	local d
	for d in $unit_dirs; do
		owned_files "$d/$1" >/dev/null && { echo "$d/$1"; return 0; }
	done
	echo "unit $1 not installed in any of $unit_dirs by the package"
	return 1
}

# PATH...: none exists (not even as a dangling link); says which do.
none_left() {
	local f rc=0
	for f in "$@"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			echo "left behind: $f" && rc=1
		fi
	done
	return $rc
}

command_installed() {
	owned_files "$cmd" && [ -x "$cmd" ] &&
		[ "$(command -v pidns-guard)" = "$cmd" ]
}

# --help needs no root (pidns-guard(8)): run it as nobody.
help_runs() {
	local text
	text=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$cmd" --help) || return 1
	echo "$text"
	grep -q '^  pidns-guard status' <<<"$text" && grep -q 'pidns-guard(8)' <<<"$text"
}

manpage_installed() {
	owned_files "$man" || return 1
	if command -v man >/dev/null; then
		[ "$(man -w pidns-guard)" = "$man" ] && [ "$(man -w 8 pidns-guard)" = "$man" ]
	fi
}

conffile_installed() {
	owned_files "$conf" &&
		dpkg-query -W -f='${Conffiles}\n' pidns-guard | grep -q "^ $conf " &&
		grep -qx 'LOAD_AT_BOOT=yes' "$conf"
}

units_installed() {
	local u
	for u in $units; do
		unit_path "$u" || return 1
	done
}

service_enabled() {
	local unit
	unit=$(unit_path pidns-guard.service) || return 1
	if [ ! -L "$wants" ] || [ "$(readlink -f "$wants")" != "$(readlink -f "$unit")" ]; then
		echo "no link $wants to $unit"
		ls -l "$wants"
		return 1
	fi
	if command -v systemctl >/dev/null; then
		[ "$(systemctl --root=/ is-enabled pidns-guard.service)" = enabled ]
	fi
}

# The crash-loop breaker's settle timer is enabled (timers.target.wants).
settle_enabled() {
	local unit
	unit=$(unit_path pidns-guard-settle.timer) || return 1
	if [ ! -L "$settle_wants" ] || [ "$(readlink -f "$settle_wants")" != "$(readlink -f "$unit")" ]; then
		echo "no link $settle_wants to $unit"
		return 1
	fi
	if command -v systemctl >/dev/null; then
		[ "$(systemctl --root=/ is-enabled pidns-guard-settle.timer)" = enabled ]
	fi
}

# One drop-in per engine template, ordering it after pidns-guard.service.
dropins_installed() {
	local unit dir t
	unit=$(unit_path pidns-guard.service) || return 1
	dir=$(dirname "$unit")
	for t in $templates; do
		owned_files "$dir/$t.service.d/pidns-guard.conf" || return 1
		grep -qx 'After=pidns-guard.service' "$dir/$t.service.d/pidns-guard.conf" ||
			{ echo "$dir/$t.service.d/pidns-guard.conf: no After=pidns-guard.service"; return 1; }
	done
}

# --version is the package's (debian/rules puts it in); the completion,
# the JSON Schema (valid JSON) and the alert rules are where README says.
extras_installed() {
	local v
	v=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$cmd" --version) || return 1
	[ "$v" = "pidns-guard $ver" ] || { echo "--version said: $v (want pidns-guard $ver)"; return 1; }
	owned_files "$completion" "$schema" "$rules" || return 1
	# perl's core JSON::PP: every root that runs lintian has it
	perl -MJSON::PP -e 'local $/; open(my $f, "<", $ARGV[0]) or die; JSON::PP->new->decode(<$f>)' "$schema" ||
		{ echo "$schema is not JSON"; return 1; }
	grep -q '^  - name: pidns_guard$' "$rules" || { echo "$rules: no group pidns_guard"; return 1; }
}

# The metrics timer and the unit that removes its file: installed, off.
timer_not_enabled() {
	local links
	unit_path pidns-guard-metrics.timer >/dev/null || return 1
	links=$(find /etc/systemd/system -name 'pidns-guard-metrics*' 2>&1)
	[ -z "$links" ] || { echo "enabled: $links"; return 1; }
	if command -v systemctl >/dev/null; then
		[ "$(systemctl --root=/ is-enabled pidns-guard-metrics.timer)" = disabled ]
	fi
}

nothing_left() {
	! dpkg-query -W pidns-guard-dkms >/dev/null 2>&1 &&
		! dpkg-query -W pidns-guard >/dev/null 2>&1 &&
		none_left "/usr/src/$name-$ver" "/var/lib/dkms/$name" &&
		[ -z "$(find /lib/modules /usr/lib/modules -name "$name.ko*" 2>/dev/null)" ]
}

no_files_left() {
	local d u t paths=("$cmd" "$man" "$conf" "$completion" "$schema" "$rules" /usr/share/pidns-guard)
	for d in $unit_dirs; do
		for u in $units; do
			paths+=("$d/$u")
		done
		for t in $templates; do
			paths+=("$d/$t.service.d/pidns-guard.conf")
		done
	done
	none_left "${paths[@]}"
}

# No .wants link of ours anywhere in /etc/systemd/system, and no
# deb-systemd-helper state (it would re-enable the units on a reinstall).
no_enablement_left() {
	local left
	left=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		/var/lib/systemd/deb-systemd-helper-masked -name 'pidns-guard*' 2>/dev/null)
	none_left "$wants" "$settle_wants" && { [ -z "$left" ] || { echo "left behind: $left"; false; }; }
}

deb_checks="build version lintian install installed command help manpage conffile units
	enabled settle-enabled dropins extras timer-off purge clean clean-files clean-enablement"

# The releases of the kernels given that build in a root, "RELEASE ABI"
# per kernel.
root_kernels() {
	local abi r
	for abi in "$@"; do
		r=$(pg_abi_root "$abi")
		[ -n "$r" ] && echo "$r $abi"
	done
	return 0
}

# This script again, in RELEASE's root, for its kernels.
in_root() {	# release abi...
	local r=$1
	shift
	pg_root_ensure "$r" &&
		pg_root_run "$r" --bind "$PG_ROOT" /usr/bin/env PG_WHERE="$r" PG_PLANNED=1 \
			"$PG_ROOT/tests/deb.sh" "$@"
}

if [ -z "${PG_PLANNED:-}" ]; then
	if why=$(pg_purge_refusal); then
		pg_die "$why"
	fi
	roots=$(root_kernels "$@")
	releases=$(awk '{ print $1 }' <<<"$roots" | sort -u)
	# shellcheck disable=SC2046 # the checks' words
	pg_plan $(for w in host $releases; do printf "$w/deb-%s " $deb_checks; done)
	# shellcheck disable=SC2046
	set -- $(pg_host_abis "$@")
fi
mkdir -p "$out"
: >"$out/deb.log"
pg_apt_install debhelper dh-dkms dkms lintian dpkg-dev fakeroot git cpio
for abi in "$@"; do
	pg_apt_install "linux-headers-$abi"
done
# No earlier install in the way.
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pidns-guard-dkms pidns-guard >>"$out/deb.log" 2>&1
dkms remove "$name/$ver" --all >>"$out/deb.log" 2>&1
pg_owned_prune

pg_check deb-build "dpkg-buildpackage with dh-dkms" build
pg_check deb-version "debian/changelog version is dkms.conf's $ver" versions_agree
pg_check deb-lintian "lintian: no error or warning (both packages)" \
	lintian --allow-root --fail-on error,warning "$cmd_deb" "$deb"
pg_owned_add pkg:pidns-guard-dkms pkg:pidns-guard "dkms:$name" "src:/usr/src/$name-$ver"
pg_check deb-install "apt-get install of both: DKMS builds and installs for ${*}" \
	sh -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq '$cmd_deb' '$deb'"
pg_check deb-installed "dkms status installed for every kernel" installed_everywhere "$@"
pg_check deb-command "$cmd installed, on root's PATH" command_installed
pg_check deb-help "pidns-guard --help runs as nobody and prints the usage" help_runs
pg_check deb-manpage "man -w pidns-guard is $man" manpage_installed
pg_check deb-conffile "$conf installed as a conffile, LOAD_AT_BOOT=yes" conffile_installed
# shellcheck disable=SC2086 # one line
pg_check deb-units "units installed: $(echo $units)" units_installed
pg_check deb-enabled "pidns-guard.service enabled (multi-user.target.wants)" service_enabled
pg_check deb-settle-enabled "pidns-guard-settle.timer enabled (timers.target.wants)" settle_enabled
pg_check deb-dropins "drop-ins order $templates after pidns-guard.service" dropins_installed
pg_check deb-extras "--version $ver as nobody; completion, JSON Schema, alert rules installed" extras_installed
pg_check deb-timer-off "pidns-guard-metrics.timer and its file's unit installed, not enabled" timer_not_enabled
pg_check deb-purge "apt-get purge of both leaves nothing behind" \
	sh -c "DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq pidns-guard-dkms pidns-guard"
pg_check deb-clean "no package, source, DKMS tree or module left" nothing_left
pg_check deb-clean-files "no command, man page, config file or unit left" no_files_left
pg_check deb-clean-enablement "no .wants link or deb-systemd-helper state left" no_enablement_left
pg_owned_prune

for r in ${releases:-}; do
	# shellcheck disable=SC2046
	in_root "$r" $(awk -v r="$r" '$1 == r { print $2 }' <<<"$roots") || PG_CHECK_RC=1
done
exit $PG_CHECK_RC
