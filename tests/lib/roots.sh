# shellcheck shell=bash
# Every Debian kernel, built with its own release's toolchain.
#
# Debian 12's 6.1 kernels (bookworm, bookworm-security) build on the host,
# a bookworm machine.  The others need their release's gcc and linux-kbuild
# (trixie's kbuild tools need glibc >= 2.38): they build in a chroot of
# that release made with mmdebstrap (--variant=buildd), cached in
# $PG_CACHE/roots/<release> and made on first use; the headers of each
# kernel are installed into its root on demand.  bookworm-backports'
# kernels get a bookworm root too (the host's sources lack backports), and
# so do Debian 12's 6.12 kernels: their headers depend on the kernel image,
# and installing that on the host would put a kernel in the host's /boot
# and bootloader.
#
# The host's apt sources are never changed: what the host must look up
# (which ABIs the archive offers, kernel images) goes through a private apt
# configuration in $PG_CACHE/apt, with the archive's URL taken from the
# host's own sources.
#
# Sourced by common.sh, at its end.

PG_ROOTS=${PG_ROOTS:-$PG_CACHE/roots}
PG_PAPT=$PG_CACHE/apt
PG_RELEASES="bookworm trixie forky"
# Besides buildd's build-essential: what kbuild and the checks want.
PG_ROOT_PACKAGES="kmod sparse binutils xz-utils zstd"

# The archive's URL for "debian" or "debian-security", from the host's
# apt sources (deb822 .sources and one-line .list); PG_MIRROR overrides.
pg_mirror() {
	local want=$1 u
	if [ -n "${PG_MIRROR:-}" ]; then
		[ "$want" = debian ] && echo "$PG_MIRROR" || echo "$PG_MIRROR-security"
		return 0
	fi
	for u in $( { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources
		      sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
			/etc/apt/sources.list /etc/apt/sources.list.d/*.list; } 2>/dev/null); do
		case ${u%/} in
		*/"$want") echo "${u%/}"; return 0 ;;
		esac
	done
	[ "$want" = debian-security ] && u=$(pg_mirror debian) && { echo "$u-security"; return 0; }
	pg_die "no Debian mirror in the host's apt sources (set PG_MIRROR)"
}

# The one-line apt sources of a release: its suites, main only.
pg_release_sources() {
	local m s
	m=$(pg_mirror debian) s=$(pg_mirror debian-security)
	case $1 in
	forky) echo "deb $m forky main" ;;
	*) printf '%s\n' "deb $m $1 main" "deb $m $1-updates main" \
		"deb $s $1-security main" "deb $m $1-backports main" ;;
	esac
}

# The private apt configuration: every release's suites, its own lists and
# cache, no dpkg status, no host pinning.  Updated when older than a day
# (PG_APT_REFRESH=1: now).
PG_PAPT_OPTS=()
pg_papt_init() {
	local r stamp="$PG_PAPT/lists/.updated" lock
	[ ${#PG_PAPT_OPTS[@]} -gt 0 ] && return 0
	mkdir -p "$PG_PAPT"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d}
	exec {lock}>"$PG_PAPT/.lock"
	flock "$lock"
	for r in $PG_RELEASES; do pg_release_sources "$r"; done >"$PG_PAPT/sources.list.new"
	if cmp -s "$PG_PAPT/sources.list.new" "$PG_PAPT/sources.list"; then
		rm -f "$PG_PAPT/sources.list.new"
	else
		mv "$PG_PAPT/sources.list.new" "$PG_PAPT/sources.list"
		rm -f "$stamp"
	fi
	PG_PAPT_OPTS=(-o "Dir::Etc::SourceList=$PG_PAPT/sources.list"
		-o "Dir::Etc::SourceParts=$PG_PAPT/sources.list.d"
		-o "Dir::Etc::Preferences=$PG_PAPT/preferences"
		-o "Dir::Etc::PreferencesParts=$PG_PAPT/preferences.d"
		-o "Dir::State::Lists=$PG_PAPT/lists"
		-o "Dir::Cache=$PG_PAPT/cache"
		-o "Dir::State::status=/dev/null"
		-o "Acquire::Check-Valid-Until=false")
	if [ -n "${PG_APT_REFRESH:-}" ] || [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		pg_log "apt-get update (private configuration in $PG_PAPT)"
		if ! apt-get "${PG_PAPT_OPTS[@]}" update -qq >"$PG_PAPT/update.log" 2>&1; then
			exec {lock}>&-
			PG_PAPT_OPTS=()
			cat "$PG_PAPT/update.log" >&2
			pg_die "private apt-get update failed"
		fi
		touch "$stamp"
		rm -f "$PG_PAPT/abis"
	fi
	exec {lock}>&-
}

pg_papt() { pg_papt_init && apt-get "${PG_PAPT_OPTS[@]}" "$@"; }
pg_papt_cache() { pg_papt_init && apt-cache "${PG_PAPT_OPTS[@]}" "$@"; }

# "ABI SUITE" for every amd64 linux-headers-<abi> the archive offers (no
# meta packages), one line per ABI, in version order; an ABI several
# suites carry is given the release's own suite, then -updates, -security,
# -backports.
pg_abi_list() {
	local lock
	pg_papt_init
	exec {lock}>"$PG_PAPT/.lock"
	flock "$lock"
	if [ ! -s "$PG_PAPT/abis" ]; then
		# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
		apt-get "${PG_PAPT_OPTS[@]}" indextargets --format '$(CODENAME) $(FILENAME)' \
			'Identifier: Packages' 'Architecture: amd64' |
		while read -r suite file; do
			/usr/lib/apt/apt-helper cat-file "$file" |
				sed -n "s/^Package: linux-headers-\([0-9]\+\.[0-9]\+\.[0-9][^ -]*-\(.*-\)\?amd64\)$/\1 $suite/p"
		done | awk '{ r = $2 ~ /-updates$/ ? 1 : $2 ~ /-security$/ ? 2 : $2 ~ /-backports$/ ? 3 : 0
			      if (!($1 in best) || r < rank[$1]) { best[$1] = $2; rank[$1] = r } }
			    END { for (a in best) print a, best[a] }' |
		sort -V >"$PG_PAPT/abis.new"
		[ -s "$PG_PAPT/abis.new" ] && mv "$PG_PAPT/abis.new" "$PG_PAPT/abis"
	fi
	exec {lock}>&-
	[ -s "$PG_PAPT/abis" ] || pg_die "the archive lists no linux-headers-*-amd64"
	cat "$PG_PAPT/abis"
}

# The suite an ABI comes from: the archive's listing, or by its name when
# the archive no longer has it.
pg_abi_suite() {
	local s
	s=$(pg_abi_list 2>/dev/null | awk -v a="$1" '$1 == a { print $2 }')
	if [ -z "$s" ]; then
		case $1 in
		*+deb14*) s=forky ;;
		[7-9].*+deb13*) s=trixie-backports ;;
		*+deb13*) s=trixie ;;
		*) s=bookworm ;;
		esac
	fi
	echo "$s"
}

# bookworm, trixie or forky.
pg_abi_release() { local s; s=$(pg_abi_suite "$1"); echo "${s%%-*}"; }

# amd64, cloud-amd64 or rt-amd64.
pg_abi_flavour() {
	case $1 in
	*-cloud-amd64) echo cloud ;;
	*-rt-amd64) echo rt ;;
	*) echo generic ;;
	esac
}

# The build root an ABI builds in, or nothing when the host builds it
# (Debian 12's 6.1 kernels, of the suites the host itself has, unless
# PG_ROOTS_ONLY=1) or it is one of our own (tests/debug).
pg_abi_root() {
	local s
	pg_kernel_local "$1" && return 0
	s=$(pg_abi_suite "$1")
	case $s:$1 in
	bookworm-backports:*) echo bookworm ;;
	bookworm*:6.1.*) [ "${PG_ROOTS_ONLY:-}" != 1 ] || echo bookworm ;;
	bookworm*) echo bookworm ;;
	*) echo "${s%%-*}" ;;
	esac
}

# pg_root_run RELEASE [--bind DIR]... CMD...: run CMD in the release's root,
# with /proc mounted (objtool wants it) and each DIR bind-mounted at its own
# path, all in a private mount namespace: the mounts go when CMD ends.
pg_root_run() {
	local dir="$PG_ROOTS/$1" binds=()
	shift
	while [ "${1:-}" = --bind ]; do
		binds+=("$2")
		shift 2
	done
	# shellcheck disable=SC2016
	unshare --mount --propagation private -- /bin/sh -c '
		root=$1
		shift
		while [ "$1" != -- ]; do
			mkdir -p "$root$1" && mount --bind "$1" "$root$1" || exit 125
			shift
		done
		shift
		mount -t proc proc "$root/proc" || exit 125
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' pg-root "$dir" "${binds[@]}" -- "$@"
}

# Make the release's root unless it exists; logs how long it took.
pg_root_ensure() {
	local r=$1 dir="$PG_ROOTS/$1" t0 opts=() line srcs=() lock
	[ -f "$dir/.pg-ready" ] && return 0
	[ "$(id -u)" = 0 ] || pg_die "need root to make the $r build root"
	command -v mmdebstrap >/dev/null || pg_apt_install mmdebstrap
	mkdir -p "$PG_ROOTS"
	exec {lock}>"$PG_ROOTS/.$r.lock"
	flock "$lock"
	if [ ! -f "$dir/.pg-ready" ]; then
		[ "$r" = forky ] && opts+=(--aptopt='Acquire::Check-Valid-Until "false"')
		while read -r line; do srcs+=("$line"); done < <(pg_release_sources "$r")
		rm -rf "$dir"
		pg_log "making the $r build root in $dir (mmdebstrap, a few minutes)"
		t0=$(date +%s)
		if mmdebstrap --variant=buildd --include="${PG_ROOT_PACKAGES// /,}" \
			"${opts[@]}" "$r" "$dir" "${srcs[@]}" >"$PG_ROOTS/$r.log" 2>&1; then
			echo "$r root made in $(($(date +%s) - t0)) s on $(date -u +%F)" |
				tee "$dir/.pg-ready" >&2
		else
			tail -n 20 "$PG_ROOTS/$r.log" >&2
			rm -rf "$dir"
			exec {lock}>&-
			pg_die "mmdebstrap $r failed (see $PG_ROOTS/$r.log)"
		fi
	fi
	exec {lock}>&-
}

# Install linux-headers-ABI into the root (apt-get update first, once per
# run); backports' headers come with -t <suite> when apt wants it.  The
# downloaded packages are not kept.
PG_ROOT_UPDATED=
pg_root_headers() {	# release abi
	local r=$1 abi=$2 suite lock
	[ -f "$PG_ROOTS/$r/usr/src/linux-headers-$abi/Makefile" ] && return 0
	pg_root_ensure "$r"
	exec {lock}>"$PG_ROOTS/.$r.lock"
	flock "$lock"
	case " $PG_ROOT_UPDATED " in
	*" $r "*) ;;
	*) pg_root_run "$r" apt-get update -qq >>"$PG_ROOTS/$r.log" 2>&1 &&
		PG_ROOT_UPDATED="$PG_ROOT_UPDATED $r" ;;
	esac
	pg_log "installing linux-headers-$abi in the $r root"
	suite=$(pg_abi_suite "$abi")
	pg_root_run "$r" apt-get install -y -qq --no-install-recommends "linux-headers-$abi" \
		>>"$PG_ROOTS/$r.log" 2>&1 ||
		pg_root_run "$r" apt-get install -y -qq --no-install-recommends -t "$suite" \
			"linux-headers-$abi" >>"$PG_ROOTS/$r.log" 2>&1
	local rc=$?
	pg_root_run "$r" apt-get clean
	exec {lock}>&-
	[ $rc -eq 0 ] || { tail -n 20 "$PG_ROOTS/$r.log" >&2; return 1; }
}

# pg_kbuild ABI DIR [MAKE ARGS...]: make -C <headers> M=DIR in the ABI's
# root (DIR's parent bind-mounted there: the test modules include headers
# from it) or on the host.
pg_kbuild() {
	local abi=$1 dir r
	dir=$(cd "$2" && pwd)
	shift 2
	r=$(pg_abi_root "$abi")
	if [ -n "$r" ]; then
		pg_root_headers "$r" "$abi" || return 1
		pg_root_run "$r" --bind "$(dirname "$dir")" \
			make -s -C "/usr/src/linux-headers-$abi" M="$dir" "$@"
	else
		make -s -C "$(pg_kernel_headers "$abi")" M="$dir" "$@"
	fi
}

# Is the release's sparse able to check these headers?  From 6.14 kbuild
# runs scripts/checker-valid.sh (sparse must parse __typeof_unqual__) and
# turns C=1 off when it fails; Debian's 7.x headers lack that script, so
# kbuild always turns it off there: we run its test ourselves and force
# the check on when it passes.
pg_sparse_args() {	# abi -> make args; prints "n/a: why" on fd 3 when no sparse
	local abi=$1 hdr common r run=() t
	hdr=$(pg_kernel_headers "$abi") r=$(pg_abi_root "$abi")
	common=$(sed -n 's/^include \(\/.*\)\/Makefile$/\1/p' "$hdr/Makefile")
	[ -n "$r" ] && run=(pg_root_run "$r") && common="$PG_ROOTS/$r$common"
	if ! grep -qs checker-valid.sh "${common:-$hdr}/Makefile" ||
	   [ -f "${common:-$hdr}/scripts/checker-valid.sh" ]; then
		echo C=1
		return
	fi
	t='static inline int u(const int *q) { __typeof_unqual__(*q) v = *q; return v; }'
	if "${run[@]}" sh -c "f=\$(mktemp --suffix=.c); echo '$t' >\$f; sparse -m64 \$f 2>&1; rm -f \$f" |
		grep -q error; then
		echo "sparse n/a: $("${run[@]}" sparse --version) cannot parse these headers" >&3
		echo C=0
	else
		echo KBUILD_CHECKSRC=1
	fi
}

# Lines kbuild prints about the missing checker-valid.sh (not ours).
PG_CHECKER_NOISE='checker-valid.sh: No such file or directory|C=1 specified, but sparse is not available'

# The disassembly (objdump -dr) of KO, built for ABI, by that release's
# objdump (KO's folder bind-mounted into the root).
pg_objdump() {	# abi ko
	local r dir
	r=$(pg_abi_root "$1") dir=$(cd "$(dirname "$2")" && pwd)
	if [ -n "$r" ]; then
		pg_root_run "$r" --bind "$dir" objdump -dr --no-show-raw-insn "$dir/$(basename "$2")"
	else
		objdump -dr --no-show-raw-insn "$2"
	fi
}

# The kernels of ARGS that build on the host (Debian 12's own suites).
pg_host_abis() {
	local abi
	for abi in "$@"; do
		[ -z "$(pg_abi_root "$abi")" ] && echo "$abi"
	done
	return 0
}

# Make the ABI's headers available (host package or root) without building.
pg_abi_headers_install() {
	local r
	r=$(pg_abi_root "$1")
	if [ -n "$r" ]; then
		pg_root_headers "$r" "$1"
	elif ! pg_kernel_local "$1"; then
		pg_apt_install "linux-headers-$1"
	fi
}

# Fetch the kernel image into $PG_CACHE/kernels/ABI (downloaded through the
# private apt configuration and unpacked, never installed): up to 6.x in
# linux-image-ABI (boot/vmlinuz-ABI); from 7.x linux-image-ABI is a meta
# package and the image is in linux-binary-ABI (usr/lib/modules/ABI/vmlinuz).
# Only the image is kept (6.1's linux-image also holds 300 MB of modules),
# and fuse.ko where FUSE is a module (6.1: 45-active's exiting holder
# serves a FUSE filesystem); .pg-fetched marks a fetch of both.
pg_kernel_fetch() {
	local abi=$1 dir="$PG_CACHE/kernels/$1" pkg deb
	[ -f "$(pg_kernel_vmlinuz "$abi")" ] && [ -f "$dir/.pg-fetched" ] && return 0
	pg_papt_init
	pkg=linux-binary-$abi
	pg_papt_cache show "$pkg" >/dev/null 2>&1 || pkg=linux-image-$abi
	rm -rf "$dir/deb" && mkdir -p "$dir/deb"
	pg_log "downloading $pkg"
	(cd "$dir/deb" && apt-get "${PG_PAPT_OPTS[@]}" download -qq "$pkg" >/dev/null 2>&1) ||
		{ rm -rf "$dir/deb"; pg_log "cannot download $pkg"; return 1; }
	deb=$(ls "$dir"/deb/*.deb)
	# tar fails when a name is not there: fuse.ko is not where FUSE is built in.
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$dir" --wildcards --no-anchored 'vmlinuz*' 'fuse.ko*' 2>"$dir/deb/tar.log"
	if grep -v -e 'fuse\.ko\*: Not found in archive' -e 'due to previous errors' \
		"$dir/deb/tar.log" | grep -q .; then
		cat "$dir/deb/tar.log" >&2
		rm -rf "$dir/deb"
		pg_log "cannot unpack $pkg"
		return 1
	fi
	rm -rf "$dir/deb"
	[ -f "$(pg_kernel_vmlinuz "$abi")" ] || { pg_log "$pkg holds no vmlinuz"; return 1; }
	touch "$dir/.pg-fetched"
}

# The kernel's fuse.ko (uncompressed) into DIR, where FUSE is a module.
pg_kernel_fuse() {	# abi dir
	local f
	f=$(find "$PG_CACHE/kernels/$1" -name 'fuse.ko*' -print -quit)
	case $f in
	'') ;;
	*.xz) xz -dc "$f" >"$2/fuse.ko" ;;
	*.zst) zstd -qdc "$f" >"$2/fuse.ko" ;;
	*) cp "$f" "$2/fuse.ko" ;;
	esac
}
