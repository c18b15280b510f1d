# shellcheck shell=sh
# Issue 2: the module loads and unloads cleanly; modinfo is right.
# plan: module/load module/version module/hooks-installed module/debugfs-0444
# plan: module/unload module/reload-cycles

pgt_module_load() {
	pgt_load || return 1
	pgt_loaded || return 1
	dmesg | grep -q "pidns_guard: version $PG_VERSION active"
}
pgt_check module/load "insmod succeeds and announces itself" pgt_module_load

pgt_module_sysfs_version() {
	[ "$(cat /sys/module/pidns_guard/version)" = "$PG_VERSION" ]
}
pgt_check module/version "/sys/module/pidns_guard/version is $PG_VERSION" \
	pgt_module_sysfs_version

pgt_module_hooked() {
	grep -q '^zap_pid_ns_processes.*pidns_guard' /sys/kernel/tracing/enabled_functions &&
		grep -q '^proc_flush_pid.*pidns_guard' /sys/kernel/tracing/enabled_functions
}
pgt_check module/hooks-installed "ftrace ops of pidns_guard on zap_pid_ns_processes and proc_flush_pid" \
	pgt_module_hooked

pgt_module_debugfs_mode() {
	[ -d "$PG_DBG" ] || return 1
	# every file 0444 (lockdown lets debugfs open only those)
	[ -z "$(find "$PG_DBG" -type f ! -perm 444)" ]
}
pgt_check module/debugfs-0444 "debugfs files exist, all mode 0444" pgt_module_debugfs_mode

pgt_module_unload() {
	pgt_unload && pgt_no_traces &&
		dmesg | grep -q "pidns_guard: unloaded"
}
pgt_check module/unload "rmmod succeeds and leaves nothing behind" pgt_module_unload

pgt_module_cycles() {
	_i=0
	while [ $_i -lt 5 ]; do
		pgt_load && pgt_unload || return 1
		_i=$((_i + 1))
	done
	pgt_no_traces
}
pgt_check module/reload-cycles "5 load/unload cycles" pgt_module_cycles
