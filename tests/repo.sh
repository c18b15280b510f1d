#!/usr/bin/env bash
# scripts/build-repo on two Debian 12 kernels: the one CI boots first
# (6.1.0-47) and the one Debian 12's linux-image-amd64 installs today (as
# the bookworm root's apt resolves it, not as build-repo does), with a
# throwaway fleet's keys:
#  - it builds (lintian clean: build-repo stops otherwise);
#  - each module package holds a module for its ABI, signed with the
#    fleet's key (modinfo's sig_key is the certificate's serial), and
#    depends on that ABI's linux-image and on pidns-guard;
#  - the meta package pidns-guard-modules-amd64 follows linux-image-amd64:
#    its version and the module package of the ABI it installs;
#  - apt (a private configuration, the repository's key as signed-by)
#    reads the repository and offers the packages, and refuses a copy
#    whose InRelease is changed by one character.
# The e2e run (tests/run --e2e --fleet) installs from such a repository on
# real nodes; this is the part CI can afford.
#
#   tests/repo.sh [ABI ...]     (the kernels are ignored)
#
# Prints "PLAN name...", then one PASS/FAIL line per check; exits non-zero
# on any failure.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

pg_plan host/repo-build host/repo-signed host/repo-depends host/repo-meta host/repo-apt host/repo-apt-refuses-tampered
out="$PG_ROOT/out/repo-test"
rm -rf "$out" && mkdir -p "$out"
# shellcheck disable=SC2034 # read by pg_check (common.sh)
PG_CHECK_LOG="$out/repo.log"
ver=$(pg_version)
first=6.1.0-47-amd64

# The ABI bookworm's linux-image-amd64 depends on, by the root's own apt.
# Under the root's lock: another build may use the root at the same time.
meta_abi() {
	local lock rc=0
	pg_root_ensure bookworm >&2 || return 1
	exec {lock}>"$PG_ROOTS/.bookworm.lock"
	flock "$lock"
	pg_root_run bookworm apt-get update -qq >&2 || rc=1
	exec {lock}>&-
	[ $rc = 0 ] || return 1
	pg_root_run bookworm apt-cache depends linux-image-amd64 |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n 1
}

build() {
	local opts
	opts=$("$PG_ROOT/scripts/build-repo" --new-keys "$out/keys") || return 1
	# shellcheck disable=SC2086 # the options' words
	repo=$("$PG_ROOT/scripts/build-repo" $opts --out "$out/build" "$first" "$newest") && [ -d "$repo" ]
}

# ABI: the module in its package, for that kernel, signed with the fleet's
# key: modinfo's sig_key is the signer's certificate serial (PKCS#7
# issuer and serial).
signed() {
	local abi ko skid sig
	skid=$(openssl x509 -in "$out/keys/module-signing.crt" -noout -serial |
		sed -n 's/^serial=//p' | sed 's/../&:/g; s/:$//')
	for abi in "$first" "$newest"; do
		rm -rf "$out/x" && dpkg-deb -x "$repo/pool/bookworm/pidns-guard-modules-${abi}_${ver}_amd64.deb" "$out/x" || return 1
		ko=$out/x/lib/modules/$abi/updates/pidns_guard.ko
		sig=$(modinfo -F sig_key "$ko")
		echo "$abi: vermagic $(modinfo -F vermagic "$ko"); signer $(modinfo -F signer "$ko"); sig_key $sig; certificate serial $skid"
		modinfo -F vermagic "$ko" | grep -q "^$abi " && [ -n "$skid" ] && [ "$sig" = "$skid" ] || return 1
	done
}

depends() {
	local abi d
	for abi in "$first" "$newest"; do
		d=$(dpkg-deb -f "$repo/pool/bookworm/pidns-guard-modules-${abi}_${ver}_amd64.deb" Depends)
		echo "$abi: Depends: $d"
		grep -q "linux-image-$abi\(,\|$\)" <<<"$d" && grep -q "pidns-guard (>= $ver)" <<<"$d" || return 1
	done
}

meta() {
	local f v d want
	f=$(ls "$repo"/pool/bookworm/pidns-guard-modules-amd64_*_amd64.deb) || return 1
	v=$(dpkg-deb -f "$f" Version) d=$(dpkg-deb -f "$f" Depends)
	want=$(pg_root_run bookworm apt-cache policy linux-image-amd64 | sed -n 's/^ *Candidate: //p')
	echo "$(basename "$f"): Version $v, Depends $d; linux-image-amd64 candidate $want"
	[ "$v" = "$want+pg$ver" ] && [ "$d" = "pidns-guard-modules-$newest" ]
}

# apt-get with a private configuration whose only source is REPO (DIR:
# a copy of the repository).
papt() {	# dir apt-args...
	local d=$1
	shift
	mkdir -p "$out/apt/lists/partial" "$out/apt/cache/archives/partial"
	echo "deb [signed-by=$repo/pidns-guard-archive-keyring.gpg] file:$d bookworm main" >"$out/apt/sources.list"
	"$@" -o Dir::Etc::SourceList="$out/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists="$out/apt/lists" -o Dir::Cache="$out/apt/cache" \
		-o Dir::State::status=/dev/null -o Dir::Etc::Preferences=/nonexistent \
		-o Dir::Etc::PreferencesParts=/nonexistent
}

apt_reads() {
	local p
	papt "$repo" apt-get update -q || return 1
	p=$(papt "$repo" apt-cache policy pidns-guard "pidns-guard-modules-$first" pidns-guard-modules-amd64)
	echo "$p"
	[ "$(grep -c "Candidate: [0-9]" <<<"$p")" = 3 ]
}

apt_refuses() {
	local bad=$out/tampered rc=0 o
	rm -rf "$bad" "$out/apt" && cp -a "$repo" "$bad"
	sed -i '0,/^Description: /s/^Description: /Description: x/' "$bad/dists/bookworm/InRelease"
	o=$(papt "$bad" apt-get update -q 2>&1) || rc=$?
	echo "$o"
	[ $rc != 0 ] && grep -q BADSIG <<<"$o"
}

newest=$(meta_abi 2>>"$PG_CHECK_LOG")
echo "bookworm's linux-image-amd64 installs ${newest:-?}" >>"$PG_CHECK_LOG"
repo=
pg_check repo-build "scripts/build-repo --new-keys, then for $first and ${newest:-?} (lintian clean)" build
pg_check repo-signed "each module for its ABI, signed with the fleet's key (sig_key = the certificate's serial)" signed
pg_check repo-depends "pidns-guard-modules-ABI depends on linux-image-ABI and pidns-guard (>= $ver)" depends
pg_check repo-meta "pidns-guard-modules-amd64 follows linux-image-amd64 (its version +pg$ver, the module of ${newest:-?})" meta
pg_check repo-apt "apt-get update with the repository's key as signed-by; pidns-guard, the module, the meta offered" apt_reads
pg_check repo-apt-refuses-tampered "apt-get update refuses a copy whose InRelease changed by one character (BADSIG)" apt_refuses
exit "$PG_CHECK_RC"
