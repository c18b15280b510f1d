#!/usr/bin/env bash
# Build the debug kernel from Debian's linux-source-6.12: x86_64_defconfig
# + kvm_guest.config + tests/debug/debug.config (KASAN, PROVE_LOCKING,
# DEBUG_ATOMIC_SLEEP, ...).  The tree doubles as the module's build tree.
# Prints the kernel release.  Outside CI: about an hour on two cores.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"

pg_apt_install linux-source-6.12 flex bison bc libelf-dev libssl-dev pahole \
	gcc make
tree="$PG_CACHE/debug-kernel/linux"
if [ ! -f "$tree/Makefile" ]; then
	mkdir -p "$tree"
	pg_log "unpacking linux-source-6.12"
	tar -xJf /usr/src/linux-source-6.12.tar.xz -C "$tree" --strip-components=1
fi
cd "$tree"
make -s x86_64_defconfig >/dev/null
scripts/kconfig/merge_config.sh -m -O . .config \
	kernel/configs/kvm_guest.config \
	"$PG_ROOT/tests/debug/debug.config" >/dev/null
make -s olddefconfig >/dev/null
# Every requested option must have survived olddefconfig.
while IFS= read -r line; do
	case $line in CONFIG_*=n) opt=${line%%=*}
		! grep -q "^$opt=[ym]" .config || pg_die "$opt still set" ;;
	CONFIG_*) grep -qx "$line" .config || pg_die "$line did not stick" ;;
	esac
done <"$PG_ROOT/tests/debug/debug.config"
make -s -j"$(nproc)" bzImage modules >build.log 2>&1 ||
	{ tail -n 30 build.log >&2; pg_die "kernel build failed"; }
make -s kernelrelease
