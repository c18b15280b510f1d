# shellcheck shell=bash
# Shared by tests/run, tests/bench and scripts/demo.sh: where things live,
# what the host needs, and how a Debian kernel is made ready to boot.

PG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PG_CACHE=${PG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pidns_guard}
# CI's kernels: each release (Debian 12 on the host; Debian 13, its
# backports and forky in their roots), each generation of each series (old:
# 6.1.0-47, 6.12.113+deb12, 7.2.12; new: 6.1.0-56, 6.12.117+deb13, 7.3.4),
# an rt flavour of each series (6.1's patch set, 6.12's mainline
# PREEMPT_RT) and a cloud one.  tests/matrix covers every other one.
PG_DEFAULT_KERNELS="6.1.0-47-amd64 6.1.0-56-rt-amd64 6.12.113+deb12-amd64 6.12.117+deb13-cloud-amd64 6.12.117+deb13-rt-amd64 7.2.12+deb14-amd64 7.3.4+deb13-amd64"
PG_HOST_PACKAGES="qemu-system-x86 busybox-static cpio gzip kmod gcc make libc6-dev xz-utils zstd binutils sparse python3-jsonschema"

pg_log() { printf '%s\n' "$*" >&2; }
pg_die() { printf 'error: %s\n' "$*" >&2; exit 2; }

pg_version() {
	sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$PG_ROOT/dkms.conf"
}

# apt-get update at most once per run, and only when a package is missing;
# what it installs is noted in PG_OWNED.
PG_APT_UPDATED=
pg_apt_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || pg_die "need root to install: ${missing[*]}"
	if [ -z "$PG_APT_UPDATED" ]; then
		pg_log "apt-get update"
		apt-get update -qq >/dev/null || pg_die "apt-get update failed"
		PG_APT_UPDATED=1
	fi
	pg_log "installing ${missing[*]}"
	# The tests' own from now on (pg_purge_refusal): a later host check may
	# remove them, which it must not do to the operator's.
	pg_owned_add "${missing[@]/#/pkg:}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		pg_die "apt-get install ${missing[*]} failed"
}

pg_host_deps() {
	# shellcheck disable=SC2086
	pg_apt_install $PG_HOST_PACKAGES
}

# Headers are installed (DKMS and builds want them in /usr/src), on the
# host for Debian 12's 6.1 kernels, else in a build root of the kernel's own
# release (tests/lib/roots.sh); the image is only downloaded and unpacked
# into the cache: never installed.
pg_kernel_prepare() {
	pg_kernel_local "$1" && return 0
	pg_abi_headers_install "$1" || pg_die "cannot install linux-headers-$1"
	pg_kernel_fetch "$1" || pg_die "cannot fetch the image of $1"
}

# Up to 6.x the image is boot/vmlinuz-ABI (linux-image-ABI); from 7.x
# usr/lib/modules/ABI/vmlinuz (linux-binary-ABI).
pg_kernel_vmlinuz() {
	local d="$PG_CACHE/kernels/$1" f
	for f in "$d/boot/vmlinuz-$1" "$d/usr/lib/modules/$1/vmlinuz" "$d/lib/modules/$1/vmlinuz"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	echo "$d/boot/vmlinuz-$1"
}

# A kernel we built ourselves (tests/debug) keeps its tree as "build".
pg_kernel_local() { [ -f "$PG_CACHE/kernels/$1/build/Makefile" ]; }

# The headers as the host sees them: in a build root for the kernels of
# other releases.
pg_kernel_headers() {
	local r
	if pg_kernel_local "$1"; then
		echo "$PG_CACHE/kernels/$1/build"
	else
		r=$(pg_abi_root "$1")
		echo "${r:+$PG_ROOTS/$r}/usr/src/linux-headers-$1"
	fi
}

# What the headers say: "new" when the kernel carries Debian's 2026
# zap_pid_ns_processes() fixes (PF_NO_NOTIFY_SIGNAL exists), else "old":
# the module's own test (src/generation.h), so never the expected value of
# a check; that comes from the table of tests/lib/generations.sh
# (pg_generation_of), which tests/run checks this against.  Debian's arch headers include
# the shared "-common" tree through their Makefile (by its path inside
# their build root); a full tree is its own.
pg_kernel_generation() {
	local hdr common r
	hdr=$(pg_kernel_headers "$1") r=$(pg_abi_root "$1")
	common=$(sed -n 's/^include \(\/.*\)\/Makefile$/\1/p' "$hdr/Makefile")
	[ -n "$common" ] && common="${r:+$PG_ROOTS/$r}$common"
	if grep -qs PF_NO_NOTIFY_SIGNAL "${common:-$hdr}/include/linux/sched.h"; then
		echo new
	else
		echo old
	fi
}

# Build the module from a private copy of the sources, so that builds for
# several kernels never share object files.  Prints the .ko path.
pg_build_module() {
	local abi=$1 out src
	out=$(cd "$2" && pwd) src="$out/src-tree"
	rm -rf "$src" && mkdir -p "$src"
	cp -r "$PG_ROOT/Kbuild" "$PG_ROOT/Makefile" "$PG_ROOT/dkms.conf" \
		"$PG_ROOT/src" "$PG_ROOT/include" "$src/"
	pg_kbuild "$abi" "$src" modules >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; return 1; }
	cp "$src/pidns_guard.ko" "$out/"
	echo "$out/pidns_guard.ko"
}

# Build an extra out-of-tree module (tests/klp/...) the same way, with the
# headers its folder's parent holds for all of them.
pg_build_extmod() {
	local abi=$1 srcdir=$2 out name
	out=$(cd "$3" && pwd)
	name=$(basename "$srcdir")
	rm -rf "${out:?}/$name" && cp -r "$srcdir" "$out/$name"
	cp "$(dirname "$srcdir")"/*.h "$out/"
	pg_kbuild "$abi" "$out/$name" modules >"$out/$name.log" 2>&1 ||
		{ cat "$out/$name.log" >&2; return 1; }
	cp "$out/$name"/*.ko "$out/"
}

# R4: the indirect calls and jumps in `objdump -dr` output on stdin (the
# way into a sealed, ENDBR-less kernel function that IBT hardware turns
# into a BUG), one "<function> instruction" line each.  None is allowed
# but in the tracepoint iterators the trace event macros generate, which
# call the probes registered on our events (address-taken, never sealed).
pg_indirect_calls() {
	awk '/^[0-9a-f]+ <.*>:$/ { fn = $2 }
	     /__x86_indirect_thunk|__x86_indirect_call|(call|jmp)q? +\*/ { print fn, $0 }' |
		grep -v '^<__traceiter_pidns_guard_' || true
}

# Kernel messages that fail a run wherever they appear.
PG_KERNEL_TROUBLE='BUG:|WARNING:|Oops|general protection fault|Kernel panic|kernel BUG|soft lockup|hard LOCKUP|blocked for more than|detected stall|self-detected stall|RCU Tasks.*stall|rcu_tasks.*jiffies old|UBSAN:|KASAN:|Unable to handle kernel'

# pg_boot_verdict DIR SCRIPT RC: why a boot of tests/guest/SCRIPT through
# qemu-run (its --out DIR, its exit status RC) is not clean, or nothing
# when it is: the guest reported back, every result of SCRIPT's "# plan:"
# lines came and passed, and the kernel log is free of trouble.  For the
# one-boot checks (tests/matrix, tests/boot-loop).
pg_boot_verdict() {
	local dir=$1 script=$2 rc=$3 bad want got
	if [ "$rc" != 0 ]; then
		echo "guest never reported back: $(grep -a -m 1 -E 'Oops|Kernel panic|BUG|not syncing' \
			"$dir/console.log" || tail -n 1 "$dir/console.log")"
		return
	fi
	bad=$(tr -d '\r' <"$dir/results.log" | sed -n 's/^PGT RESULT \([^ ]*\) FAIL /\1: /p' | head -n 2)
	if [ -n "$bad" ]; then
		tr '\n' ' ' <<<"$bad"
		echo
		return
	fi
	want=$(sed -n 's/^# plan: //p' "$PG_ROOT/tests/guest/$script" | wc -w)
	got=$(tr -d '\r' <"$dir/results.log" | grep -c '^PGT RESULT [^ ]* PASS' || true)
	if [ "$got" != "$want" ]; then
		echo "$got of $want results of its plan (see results.log)"
	elif [ -s "$dir/trouble.log" ]; then
		echo "kernel log: $(head -n 2 "$dir/trouble.log" | tr '\n' ' ')"
	fi
}

# Host check scripts (tests/lint.sh, dkms.sh, deb.sh) first declare every
# check they will print: pg_plan host/NAME...; tests/run fails each one a
# script never printed (it stopped early).
pg_plan() { echo "PLAN $*"; }

# What the host checks remove.  tests/dkms.sh and tests/deb.sh purge
# pidns-guard(-dkms), run `dkms remove --all` on pidns_guard, delete
# /usr/src/pidns_guard-*, and dkms.sh purges the kernel it installs for
# the upgrade test (PG_UPGRADE_KERNEL).  On a real host those can be the
# operator's: the scripts note what they install in PG_OWNED (outside
# every tree they remove) and drop it once removed; anything of that list
# present on the host and not noted there is the operator's, and they
# refuse to run (tests/run: a FAIL saying so) unless PG_ALLOW_PURGE=1
# (tests/run --allow-purge).  A CI machine has none of it: nothing to
# refuse.
PG_UPGRADE_KERNEL=6.1.0-55-amd64
PG_OWNED=${PG_OWNED:-/var/lib/pidns_guard-tests/owned}

pg_pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'
}

# pg_owned_add WHAT...: note that the tests install WHAT ("pkg:NAME",
# "dkms:pidns_guard", "src:PATH"), before they do.  pg_owned_prune: forget
# what is gone.
pg_owned_add() {
	local w
	mkdir -p "$(dirname "$PG_OWNED")"
	for w in "$@"; do
		grep -qxF "$w" "$PG_OWNED" 2>/dev/null || echo "$w" >>"$PG_OWNED"
	done
}
pg_owned_prune() {
	local w keep=()
	[ -f "$PG_OWNED" ] || return 0
	while read -r w; do
		case $w in
		pkg:*) pg_pkg_installed "${w#pkg:}" ;;
		dkms:*) [ -e "/var/lib/dkms/${w#dkms:}" ] ;;
		src:*) [ -e "${w#src:}" ] ;;
		*) false ;;
		esac && keep+=("$w")
	done <"$PG_OWNED"
	{ [ ${#keep[@]} -eq 0 ] || printf '%s\n' "${keep[@]}"; } >"$PG_OWNED"
}

# The operator's: what the host checks would remove that they did not
# install, one line each.
pg_operator_installs() {
	local p d
	for p in pidns-guard-dkms pidns-guard "linux-image-$PG_UPGRADE_KERNEL" "linux-headers-$PG_UPGRADE_KERNEL"; do
		pg_pkg_installed "$p" && ! grep -qxF "pkg:$p" "$PG_OWNED" 2>/dev/null &&
			echo "the package $p"
	done
	[ -e /var/lib/dkms/pidns_guard ] && ! grep -qxF dkms:pidns_guard "$PG_OWNED" 2>/dev/null &&
		echo "the DKMS registration /var/lib/dkms/pidns_guard"
	for d in /usr/src/pidns_guard-*; do
		[ -e "$d" ] && ! grep -qxF "src:$d" "$PG_OWNED" 2>/dev/null && echo "the DKMS source $d"
	done
	return 0
}

# pg_purge_refusal: prints why the host checks must not run here (and
# succeeds), or nothing (and fails).
pg_purge_refusal() {
	local what
	[ "${PG_ALLOW_PURGE:-}" != 1 ] || return 1
	what=$(pg_operator_installs)
	[ -n "$what" ] || return 1
	echo "refusing to run: this host has $(echo "$what" | paste -sd ';' | sed 's/;/, /g'), not installed by the tests, which tests/dkms.sh and tests/deb.sh would remove (apt-get purge, dkms remove --all); run again with tests/run --allow-purge (or PG_ALLOW_PURGE=1) to let them"
}

# Host-side checks (tests/dkms.sh, tests/deb.sh): pg_check NAME DETAIL CMD...
# runs CMD with its output appended to $PG_CHECK_LOG, prints one PASS/FAIL
# line, and remembers a failure in PG_CHECK_RC.  The check is named
# WHERE/NAME: WHERE is "host", or the release whose root it ran in
# (PG_WHERE, tests/deb.sh).
PG_CHECK_RC=0
pg_check() {
	local n=$1 d=$2
	shift 2
	if "$@" >>"$PG_CHECK_LOG" 2>&1; then
		echo "PASS ${PG_WHERE:-host}/$n $d"
	else
		echo "FAIL ${PG_WHERE:-host}/$n $d (see $PG_CHECK_LOG)"
		PG_CHECK_RC=1
	fi
}

# The generation of each Debian ABI, from a table (pg_generation_of).
# shellcheck source=tests/lib/generations.sh
. "$PG_ROOT/tests/lib/generations.sh"

# Build roots, the archive's ABIs, kernel images (pg_kbuild, pg_abi_*).
# shellcheck source=tests/lib/roots.sh
. "$PG_ROOT/tests/lib/roots.sh"
