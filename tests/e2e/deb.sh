#!/usr/bin/env bash
# The project's .deb as RELEASE's own debhelper and dh-dkms build it.
#
#   tests/e2e/deb.sh RELEASE OUTDIR
#
# As tests/deb.sh does: dpkg-buildpackage -b -us -uc on a copy of what
# `git ls-files` lists (working-tree contents), but inside a buildd root of
# RELEASE with debhelper and dh-dkms ($PG_CACHE/e2e/build-RELEASE, made
# with mmdebstrap on first use): pidns-guard-dkms and pidns-guard in
# OUTDIR, and in OUTDIR/previous the single package of release 0.1.0
# (git tag v0.1.0; built once, cached), which the image upgrades from.
# Prints pidns-guard-dkms's path.
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

# dpkg-buildpackage of a source tree (TREE: a directory under the root's
# /build) in the root; its .debs left in the root's /build.
build_in_root() {	# tree log
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		sh -c "cd /build/$1 && dpkg-buildpackage -b -us -uc" >"$2" 2>&1 ||
		{ tail -n 20 "$2" >&2; pg_die "dpkg-buildpackage failed in the $rel root (see $2)"; }
}

rm -rf "$root/build" && mkdir -p "$root/build/src"
(cd "$PG_ROOT" && git ls-files -z | cpio -0pdm --quiet "$root/build/src")
build_in_root src "$out/deb-build.log"
cp "$root/build/pidns-guard-dkms_${ver}_all.deb" "$root/build/pidns-guard_${ver}_all.deb" "$out/"

# The release before the split (tag v0.1.0: pidns-guard-dkms alone), what
# the image installs first and upgrades from.
prev=$PG_CACHE/e2e/previous-$rel
if [ ! -f "$prev/pidns-guard-dkms_0.1.0_all.deb" ]; then
	git -C "$PG_ROOT" rev-parse -q --verify "v0.1.0^{commit}" >/dev/null ||
		pg_die "no tag v0.1.0 in $PG_ROOT (git fetch --tags): the release the upgrade starts from"
	rm -rf "$root/build/prev" && mkdir -p "$root/build/prev" "$prev"
	git -C "$PG_ROOT" archive v0.1.0 | tar -x -C "$root/build/prev"
	build_in_root prev "$out/deb-build-0.1.0.log"
	cp "$root/build/pidns-guard-dkms_0.1.0_all.deb" "$prev/"
fi
mkdir -p "$out/previous"
cp "$prev/pidns-guard-dkms_0.1.0_all.deb" "$out/previous/"
echo "$out/pidns-guard-dkms_${ver}_all.deb"
