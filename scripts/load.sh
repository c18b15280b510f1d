#!/bin/sh
# Load pidns_guard on this host (building it first if needed), verify that
# the replacement is active, and say where to look.
#
#   scripts/load.sh            build if needed, load, verify
#   scripts/load.sh --unload   unload (explains when a teardown holds it)
#   scripts/load.sh --status   loaded?  version, counters, teardowns now
#
# POSIX sh: it runs on hosts and inside the test guests alike.
set -u

here=$(cd "$(dirname "$0")/.." && pwd)
dbg=/sys/kernel/debug/pidns_guard
rel=$(uname -r)

die() {
	echo "pidns_guard: $*" >&2
	exit 1
}

loaded() { [ -d /sys/module/pidns_guard ]; }

kconfig_has() {	# CONFIG_X: is it =y in the running kernel's config?
	if [ -r "/boot/config-$rel" ]; then
		grep -q "^$1=y" "/boot/config-$rel"
	elif [ -r /proc/config.gz ]; then
		zcat /proc/config.gz | grep -q "^$1=y"
	else
		return 0	# nothing to check against: let insmod decide
	fi
}

check_kernel() {
	kconfig_has CONFIG_PID_NS || die "this kernel has no PID namespaces (CONFIG_PID_NS); nothing to guard."
	kconfig_has CONFIG_KPROBES || die "this kernel lacks CONFIG_KPROBES, which pidns_guard needs to find kernel symbols."
	kconfig_has CONFIG_DYNAMIC_FTRACE_WITH_ARGS ||
		die "this kernel lacks CONFIG_DYNAMIC_FTRACE_WITH_ARGS, which pidns_guard needs to redirect zap_pid_ns_processes()."
}

# debugfs, mounted if it is not: the counters and `active` live there.
debugfs_ready() {
	[ -r $dbg/stats ] && return 0
	grep -qs ' /sys/kernel/debug debugfs ' /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	[ -r $dbg/stats ]
}

# Teardowns now running pidns_guard's code (the module's own count; its
# reference count also counts open debugfs files).
teardowns_running() {
	sed -n 's/^active //p' $dbg/stats
}

locked_down() {
	grep -qs '\[integrity\]\|\[confidentiality\]' /sys/kernel/security/lockdown
}

# The module to load: $PG_KO if set, the DKMS-installed one if any, else
# ./pidns_guard.ko (built now if it is missing or built for another kernel).
find_module() {
	if [ -n "${PG_KO:-}" ]; then
		echo "$PG_KO"
		return
	fi
	if modinfo -n pidns_guard >/dev/null 2>&1; then
		modinfo -n pidns_guard
		return
	fi
	ko=$here/pidns_guard.ko
	if [ ! -f "$ko" ] || ! modinfo -F vermagic "$ko" 2>/dev/null | grep -q "^$rel "; then
		[ -d "/lib/modules/$rel/build" ] ||
			die "no kernel headers for $rel: install them with 'apt-get install linux-headers-$rel'."
		make -s -C "$here" KERNELRELEASE="$rel" >&2 ||
			die "the build failed for $rel (output above)."
	fi
	echo "$ko"
}

verify_active() {
	loaded || return 1
	tr=/sys/kernel/tracing
	[ -r $tr/enabled_functions ] || tr=/sys/kernel/debug/tracing
	[ -r $tr/enabled_functions ] || return 0	# tracefs not mounted: trust the module
	grep -q '^zap_pid_ns_processes' $tr/enabled_functions
}

do_load() {
	[ "$(id -u)" = 0 ] || die "must be run as root."
	if loaded; then
		echo "pidns_guard is already loaded (version $(cat /sys/module/pidns_guard/version))."
		exit 0
	fi
	check_kernel
	ko=$(find_module) || exit 1
	if ! out=$(insmod "$ko" 2>&1); then
		if locked_down && ! modinfo -F signer "$ko" 2>/dev/null | grep -q .; then
			die "the kernel is locked down (Secure Boot) and refuses unsigned modules: install through DKMS, which signs with /var/lib/dkms/mok.key, and enroll that key once with 'mokutil --import /var/lib/dkms/mok.pub' and a reboot."
		fi
		reason=$(dmesg 2>/dev/null | grep 'pidns_guard:' | tail -n 1)
		die "insmod refused the module: ${reason:-$out}"
	fi
	verify_active || die "the module loaded but zap_pid_ns_processes() is not redirected; please report this."
	echo "pidns_guard $(cat /sys/module/pidns_guard/version) is active on $rel."
	echo "Counters: $dbg/stats  histogram: $dbg/histogram"
	echo "Status at a glance: $0 --status"
}

do_unload() {
	[ "$(id -u)" = 0 ] || die "must be run as root."
	loaded || { echo "pidns_guard is not loaded."; exit 0; }
	debugfs_ready ||
		die "cannot unload safely: $dbg is not readable (debugfs is not mounted and could not be), so running teardowns cannot be checked. Mount it with 'mount -t debugfs debugfs /sys/kernel/debug', or unload with rmmod, which refuses while a teardown runs pidns_guard's code."
	# The module refuses this itself (rmmod: "in use"); say why.
	if grep -qs 'rcu_tasks=blocked' "$dbg/active"; then
		die "cannot unload now: a namespace teardown that began before pidns_guard was loaded sits in the stock reap loop, which on this kernel holds the RCU-tasks exit lock; unloading would wait until it ends. $dbg/active names what holds it."
	fi
	n=$(teardowns_running)
	if [ "${n:-0}" -gt 0 ]; then
		die "cannot unload now: $n namespace teardown(s) are running in pidns_guard's code (a container init waits for tasks held from outside, e.g. a traced or foreign-parented zombie). It unloads once they end; $dbg/active names what holds them."
	fi
	if ! out=$(rmmod pidns_guard 2>&1); then
		die "rmmod refused: ${out:-no reason given}; a teardown may have begun just now, try again. $dbg/active lists teardowns in progress."
	fi
	echo "pidns_guard unloaded; the stock zap_pid_ns_processes() is back."
}

do_status() {
	if ! loaded; then
		echo "pidns_guard: not loaded on $rel."
		exit 3
	fi
	if debugfs_ready; then
		echo "pidns_guard $(cat /sys/module/pidns_guard/version) loaded on $rel, $(teardowns_running) teardown(s) in progress"
		echo "-- stats"
		cat $dbg/stats
		echo "-- histogram"
		cat $dbg/histogram
	else
		echo "pidns_guard $(cat /sys/module/pidns_guard/version) loaded on $rel"
		echo "(debugfs is not mounted and could not be: no counters; mount -t debugfs debugfs /sys/kernel/debug)"
	fi
}

case ${1:-} in
"") do_load ;;
--unload) do_unload ;;
--status) do_status ;;
-h|--help) sed -n '2,9p' "$0" ;;
*) die "unknown option $1 (try --help)." ;;
esac
