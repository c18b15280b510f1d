#!/usr/bin/env bash
# The project's .deb as RELEASE's own debhelper and dh-dkms build it.
#
#   tests/e2e/deb.sh RELEASE OUTDIR
#
# As tests/deb.sh does: dpkg-buildpackage -b -us -uc on a copy of what
# `git ls-files` lists (working-tree contents), but inside a buildd root of
# RELEASE with debhelper and dh-dkms ($PG_CACHE/e2e/build-RELEASE, made
# with mmdebstrap on first use).  Prints the .deb's path.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

rel=$1 out=$(mkdir -p "$2" && cd "$2" && pwd)
root=$PG_CACHE/e2e/build-$rel
mkdir -p "$PG_CACHE/e2e"
ver=$(pg_version)

if [ ! -f "$root/.ready" ]; then
	srcs=()
	while read -r line; do srcs+=("$line"); done < <(pg_release_sources "$rel")
	rm -rf "$root"
	pg_log "e2e: making the $rel package build root $root"
	mmdebstrap --variant=buildd --include=debhelper,dh-dkms,dkms "$rel" "$root" "${srcs[@]}" \
		>"$PG_CACHE/e2e/build-$rel.log" 2>&1 ||
		{ tail -n 20 "$PG_CACHE/e2e/build-$rel.log" >&2; rm -rf "$root"; pg_die "mmdebstrap $rel buildd failed"; }
	touch "$root/.ready"
fi

rm -rf "$root/build" && mkdir -p "$root/build/src"
(cd "$PG_ROOT" && git ls-files -z | cpio -0pdm --quiet "$root/build/src")
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
	sh -c 'cd /build/src && dpkg-buildpackage -b -us -uc' >"$out/deb-build.log" 2>&1 ||
	{ tail -n 20 "$out/deb-build.log" >&2; pg_die "dpkg-buildpackage failed in the $rel root (see $out/deb-build.log)"; }
cp "$root/build/pidns-guard-dkms_${ver}_all.deb" "$out/"
echo "$out/pidns-guard-dkms_${ver}_all.deb"
