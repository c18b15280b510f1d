# shellcheck shell=sh
# pidns-guard, the operator's command (scripts/pidns-guard; the package's
# /usr/sbin/pidns-guard), as an operator and pidns-guard.service use it.
# plan: cli/load-status-unload cli/boot-switches cli/stuck-docker
# plan: cli/stuck-foreign-parent cli/container-engines cli/metrics
# plan: cli/generation cli/metrics-histogram cli/stuck-forged-names cli/json
# plan: cli/crash-loop-breaker cli/metrics-states

PGC="sh /payload/pidns-guard"

# Until tests/run puts scripts/pidns-guard in the payload, each test is
# skipped, saying so.
pgc_run() {
	if [ -f /payload/pidns-guard ]; then
		pgt_run_check "$@"
	else
		pgt_result "$1" SKIP "/payload/pidns-guard missing: tests/run's make_payload does not copy scripts/pidns-guard"
	fi
}
PGC_ID=3f2a9c41d0b7e8a5c6f1029384756abcdef0123456789abcdef0123456789abc
PGC_CG=/sys/fs/cgroup

# status before and after load, load, unload: the messages an operator sees.
pgc_load_status_unload() {
	_out=$($PGC status)
	[ $? -eq 3 ] && echo "$_out" | grep -q "^pidns_guard: not loaded on $PG_KERNEL" ||
		{ echo "status before load: $_out"; return 1; }
	_out=$(PG_KO=$PG_KO $PGC load) || { echo "load failed: $_out"; return 1; }
	echo "$_out" | grep -q "^pidns_guard $PG_VERSION is active on $PG_KERNEL" ||
		{ echo "load said: $_out"; return 1; }
	_out=$(PG_KO=$PG_KO $PGC load) && echo "$_out" | grep -q "already loaded (version $PG_VERSION)" ||
		{ echo "second load said: $_out"; return 1; }
	_out=$($PGC status) || { echo "status failed: $_out"; return 1; }
	echo "$_out"
	echo "$_out" | grep -q "^pidns_guard $PG_VERSION loaded on $PG_KERNEL, 0 teardown(s) in progress" &&
		echo "$_out" | grep -q "^kernel generation: $PG_GENERATION: " &&
		echo "$_out" | grep -q "^teardowns 0$" && echo "$_out" | grep -q "^# teardown latency" ||
		{ echo "status said: $_out"; return 1; }
	_out=$($PGC stuck) && echo "$_out" | grep -q "^No namespace teardown in progress" ||
		{ echo "stuck with nothing stuck said: $_out"; return 1; }
	_out=$($PGC unload) && echo "$_out" | grep -q "stock zap_pid_ns_processes() is back" ||
		{ echo "unload said: $_out"; return 1; }
	_out=$($PGC unload) && echo "$_out" | grep -q "^pidns_guard is not loaded" ||
		{ echo "second unload said: $_out"; return 1; }
	pgt_no_traces || return 1
	echo "status (not loaded: exit 3; loaded: version, generation $PG_GENERATION, counters), load, unload: as documented"
}
pgc_run cli/load-status-unload pgc_load_status_unload

# boot (pidns-guard.service): the kernel command line and the config file
# turn it off (exit 0); a value neither yes nor no, and a refused load, are
# one line each and exit 1 (a failed unit: the guard is absent where it is
# expected).
# pgc_boot_says WHAT KO CMDLINE DEFAULTS RC LOADED PATTERN [VAR=VALUE...]:
# `pidns-guard boot` exits RC saying PATTERN (grep) in one line; LOADED
# yes or no: the module is loaded after, or not; any: not checked.
pgc_boot_says() {
	_what=$1 _ko=$2 _cl=$3 _df=$4 _rc=$5 _ld=$6 _pat=$7
	shift 7
	_out=$(env "$@" PG_KO="$_ko" PG_CMDLINE="$_cl" PG_DEFAULTS="$_df" \
	       PG_STATE_DIR=/tmp/pgc-state PG_RUN_DIR=/tmp/pgc-run $PGC boot 2>&1)
	_got=$?
	[ "$_got" = "$_rc" ] && echo "$_out" | grep -q "$_pat" &&
		[ "$(echo "$_out" | wc -l)" = 1 ] &&
		case $_ld in
		yes) pgt_loaded ;;
		no) ! pgt_loaded ;;
		esac || { echo "$_what (exit $_got, want $_rc): $_out"; return 1; }
	echo "$_out"
}

pgc_boot() {
	rm -rf /tmp/pgc-state /tmp/pgc-run
	echo "console=ttyS0 pidns_guard.enable=0 quiet" >/tmp/cmdline.off
	echo "console=ttyS0 quiet" >/tmp/cmdline.on
	printf '# comment\nLOAD_AT_BOOT="no"\n' >/tmp/defaults.off
	printf 'LOAD_AT_BOOT=yes\n' >/tmp/defaults.on
	printf 'LOAD_AT_BOOT=nope\n' >/tmp/defaults.bad
	pgc_boot_says "kill switch" "$PG_KO" /tmp/cmdline.off /tmp/defaults.on 0 no \
		"^pidns_guard: not loaded at boot: turned off: pidns_guard.enable=0 on the kernel command line.$" || return 1
	pgc_boot_says "config file" "$PG_KO" /tmp/cmdline.on /tmp/defaults.off 0 no \
		"^pidns_guard: not loaded at boot: turned off: LOAD_AT_BOOT=no in /tmp/defaults.off.$" || return 1
	pgc_boot_says "a bad value" "$PG_KO" /tmp/cmdline.on /tmp/defaults.bad 1 no \
		"^pidns_guard: not loaded at boot (misconfigured): LOAD_AT_BOOT=nope in /tmp/defaults.bad is neither yes nor no; to fix: set LOAD_AT_BOOT=yes (or no) there.$" || return 1
	_out=$(PG_CMDLINE=/tmp/cmdline.off PG_DEFAULTS=/tmp/defaults.off PG_RUN_DIR=/tmp/pgc-run $PGC status)
	[ $? = 3 ] && echo "$_out" | grep -q "^pidns_guard: not loaded on $PG_KERNEL (disabled): turned off: pidns_guard.enable=0 on the kernel command line.$" ||
		{ echo "status does not say why: $_out"; return 1; }
	# A real refusal by the module: a livepatch owns zap_pid_ns_processes()
	# (a second IPMODIFY owner).  A stale pidns_guard line is planted in
	# the kernel log first: the reason given must be the module's line for
	# this refusal, the exact message (README, "What the user sees").
	insmod /payload/pg_klp_zap.ko || { echo "livepatch of zap_pid_ns_processes refused"; return 1; }
	pgt_wait_for 30 pgt_klp_settled pg_klp_zap || { echo "livepatch transition stuck"; return 1; }
	echo "<3>pidns_guard: a stale line from another load" >/dev/kmsg
	pgc_boot_says "refused load" "$PG_KO" /tmp/cmdline.on /tmp/defaults.on 1 no \
		"^pidns_guard: not loaded at boot (load-failed): the module refused to load: cannot redirect zap_pid_ns_processes() (error -[0-9]*): another livepatch or ftrace user owns it, or kernel.ftrace_enabled is 0; to fix: " ||
		{ pgt_klp_remove pg_klp_zap; return 1; }
	pgt_klp_remove pg_klp_zap || { echo "livepatch removal failed"; return 1; }
	pgc_boot_says "boot load" "$PG_KO" /tmp/cmdline.on /tmp/defaults.on 0 yes \
		"^pidns_guard $PG_VERSION is active on $PG_KERNEL. ($PG_GENERATION generation kernel)" || return 1
	pgc_boot_says "boot when loaded" "$PG_KO" /tmp/cmdline.on /tmp/defaults.on 0 any \
		"already loaded" || return 1
	pgt_unload
	pgc_boot_says "journal priority" /payload/no-such.ko /tmp/cmdline.on /tmp/defaults.on 1 any \
		'^<3>pidns_guard: not loaded at boot' JOURNAL_STREAM=8:1 || return 1
	echo "boot: off by pidns_guard.enable=0 and by LOAD_AT_BOOT=no (exit 0), LOAD_AT_BOOT=nope misconfigured (exit 1), a refusal (a livepatch owning the function) in one line with the module's exact reason despite a stale line (exit 1; <3> for the journal); loads with one line"
}
pgc_run cli/boot-switches pgc_boot

# The crash-loop breaker, as boot, status, metrics, load, settle, shutdown
# and rearm see it (the state directory of a test; the real crash, with
# systemd, is tests/run --e2e's).  PG_BOOT_WINDOW: this guest has been up
# longer than the 10 minutes within which boot arms it.
pgc_breaker_run() {	# command...
	PG_KO=$PG_KO PG_CMDLINE=/tmp/cmdline.on PG_DEFAULTS=/tmp/defaults.on \
	PG_STATE_DIR=/tmp/pgb PG_RUN_DIR=/tmp/pgb-run PG_BOOT_WINDOW=1000000 $PGC "$@" 2>&1
}

pgc_breaker() {
	rm -rf /tmp/pgb /tmp/pgb-run && mkdir -p /tmp/pgb
	_me=$(cat /proc/sys/kernel/random/boot_id)
	# this boot's own armed file: the boot survived, nothing to lock out
	printf 'boot=%s\nkernel=%s\nloaded=1\n' "$_me" "$PG_KERNEL" >/tmp/pgb/armed
	_out=$(pgc_breaker_run boot) || { echo "boot with this boot's armed file: $_out"; return 1; }
	pgt_loaded && [ -f /tmp/pgb/armed ] && [ ! -f /tmp/pgb/lockout ] ||
		{ echo "this boot's armed file locked it out: $_out"; return 1; }
	pgc_breaker_run settle >/dev/null && [ ! -f /tmp/pgb/armed ] || { echo "settle left the armed file"; return 1; }
	pgt_unload
	# armed by this boot's load, disarmed by a clean shutdown
	_out=$(pgc_breaker_run boot) && grep -q "^boot=$_me$" /tmp/pgb/armed ||
		{ echo "boot did not arm the breaker: $_out"; return 1; }
	pgc_breaker_run shutdown >/dev/null && [ ! -f /tmp/pgb/armed ] || { echo "shutdown left the armed file"; return 1; }
	pgt_loaded && pgt_unload
	# another boot's: it ended abnormally after the load
	printf 'boot=%s\nkernel=%s\nloaded=1\n' 00000000-dead-beef-0000-000000000000 "$PG_KERNEL" >/tmp/pgb/armed
	_out=$(pgc_breaker_run boot)
	[ $? = 1 ] && echo "$_out" | grep -q "^pidns_guard: not loaded at boot (lockout): crash-loop breaker: boot 00000000-dead-beef-0000-000000000000 ($PG_KERNEL) ended abnormally within 10 minutes of loading pidns_guard" &&
		echo "$_out" | grep -q "to fix: .*pidns-guard rearm" && ! pgt_loaded && [ -f /tmp/pgb/lockout ] ||
		{ echo "boot after a crash: $_out"; return 1; }
	_out=$(pgc_breaker_run boot)
	[ $? = 1 ] && echo "$_out" | grep -q '(lockout)' && ! pgt_loaded || { echo "a second boot: $_out"; return 1; }
	_out=$(pgc_breaker_run status)
	[ $? = 3 ] && echo "$_out" | grep -q "^pidns_guard: not loaded on $PG_KERNEL (lockout): " ||
		{ echo "status: $_out"; return 1; }
	pgc_breaker_run metrics | grep -q '^pidns_guard_state{state="lockout"} 1$' || { echo "metrics do not say lockout"; return 1; }
	_out=$(pgc_breaker_run load)
	[ $? = 1 ] && ! pgt_loaded || { echo "load while locked out: $_out"; return 1; }
	_out=$(pgc_breaker_run rearm) && echo "$_out" | grep -q "^Re-armed" && [ ! -f /tmp/pgb/lockout ] ||
		{ echo "rearm: $_out"; return 1; }
	_out=$(pgc_breaker_run boot) && pgt_loaded || { echo "boot after rearm: $_out"; return 1; }
	pgt_unload
	# CRASH_LOOP_BREAKER=no: another boot's armed file is no reason not to load
	printf 'boot=%s\nkernel=%s\nloaded=1\n' 00000000-dead-beef-0000-000000000000 "$PG_KERNEL" >/tmp/pgb/armed
	printf 'LOAD_AT_BOOT=yes\nCRASH_LOOP_BREAKER=no\n' >/tmp/defaults.nobreaker
	_out=$(PG_KO=$PG_KO PG_CMDLINE=/tmp/cmdline.on PG_DEFAULTS=/tmp/defaults.nobreaker \
	       PG_STATE_DIR=/tmp/pgb PG_RUN_DIR=/tmp/pgb-run $PGC boot 2>&1) && pgt_loaded ||
		{ echo "CRASH_LOOP_BREAKER=no: $_out"; return 1; }
	pgt_unload
	echo "breaker: this boot's armed file kept, settle and shutdown disarm, boot arms; another boot's armed file locks out (boot exit 1 twice, status exit 3, metrics lockout, load refused) until rearm; CRASH_LOOP_BREAKER=no ignores it"
}
pgc_run cli/crash-loop-breaker pgc_breaker

# A fake docker container: a cgroup named as docker's systemd driver names
# it, and the state file docker keeps on disk.
pgc_cgroup_setup() {
	mkdir -p $PGC_CG
	grep -qs " $PGC_CG cgroup2 " /proc/mounts || mount -t cgroup2 none $PGC_CG ||
		{ echo "cannot mount cgroup2"; return 1; }
	mkdir -p "$PGC_CG/system.slice/docker-$PGC_ID.scope" "/var/lib/docker/containers/$PGC_ID"
	printf '{"State":{"Running":true,"Pid":1},"ID":"%s","Name":"/web","HostConfig":{"RestartPolicy":{"Name":"no"}}}\n' \
		"$PGC_ID" >"/var/lib/docker/containers/$PGC_ID/config.v2.json"
}

pgc_cgroup_cleanup() {
	[ -d $PGC_CG ] && find $PGC_CG -mindepth 1 -depth -type d | while IFS= read -r _d; do
		while read -r _p; do
			echo "$_p" >$PGC_CG/cgroup.procs
		done <"$_d/cgroup.procs"
		rmdir "$_d"
	done 2>/dev/null
	umount $PGC_CG 2>/dev/null
	rm -rf /var/lib/docker /var/lib/containers /run/containers /run/containerd
	return 0
}

# pgt_hold_start, but pgtest (and so the namespace's init) starts in the
# fake container's cgroup; PROGRAM: pgtest under another file name.
pgc_hold_in_container() {	# kind [program]
	PGT_HOLD_FIFO=/tmp/hold-$1.fifo PGT_HOLD_OUT=/tmp/hold-$1.out
	rm -f "$PGT_HOLD_FIFO" "$PGT_HOLD_OUT"
	mkfifo "$PGT_HOLD_FIFO"
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$4" hold --kind "$2" --release-fifo "$3"' \
		sh "$PGC_CG/system.slice/docker-$PGC_ID.scope" "$1" "$PGT_HOLD_FIFO" "${2:-/payload/pgtest}" \
		>"$PGT_HOLD_OUT" 2>/dev/console &
	PGT_HOLD_PID=$!
	pgt_wait_for 60 grep -qs '^held ' "$PGT_HOLD_OUT" || return 1
	# shellcheck disable=SC2046
	set -- $(grep '^held ' "$PGT_HOLD_OUT")
	PGT_HOLD_INIT=$2 PGT_HOLD_INO=$3 PGC_KEEPER=$4 PGC_HOLDER=$5
}

# Run a test; whatever it left (a held namespace, processes in the fake
# cgroups) is released and removed after.
pgc_test() {
	"$@"
	_r=$?
	[ -n "${PGC_KEEPER:-}" ] && kill -CONT "$PGC_KEEPER" 2>/dev/null
	[ -n "${PGT_HOLD_PID:-}" ] && pgt_hold_release >/dev/null
	pgt_loaded && pgt_wait_for 60 pgt_stat_is active 0
	pgc_cgroup_cleanup
	return $_r
}

# Prometheus text format, as node_exporter's textfile collector reads it:
# every family has HELP and TYPE before its samples, names and values are
# well formed, histogram buckets are cumulative and +Inf is the count.
PGC_PROM_AWK='
/^# HELP [a-z_]+ ./ { help[$3] = 1; next }
/^# TYPE [a-z_]+ (counter|gauge|histogram)$/ { type[$3] = $4; next }
/^#/ { bad = bad " comment:" NR; next }
{
	if ($0 !~ /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+(\.[0-9]+)?$/) { bad = bad " line:" NR; next }
	name = $1; sub(/\{.*/, "", name)
	fam = name
	if (!(fam in type)) sub(/_(bucket|sum|count)$/, "", fam)
	if (!(fam in type) || !(fam in help)) { bad = bad " no-help-type:" name; next }
	if (type[fam] == "counter" && name !~ /_total$/) bad = bad " counter-without-_total:" name
	if (name ~ /_bucket$/) {
		if ($2 + 0 < last) bad = bad " not-cumulative:" NR
		last = $2 + 0
		if ($1 ~ /le="\+Inf"/) inf = $2
	}
	if (name ~ /_count$/ && type[fam] == "histogram") count = $2
	v[name] = $2
}
END {
	if (inf == "" || inf != count) bad = bad " +Inf(" inf ")!=count(" count ")"
	if (bad != "") { print "malformed:" bad; exit 1 }
}'

pgc_prom_ok() {	# file
	awk "$PGC_PROM_AWK" "$1"
}

pgc_prom_value() {	# file sample: the value of one sample line
	awk -v s="$2" 'index($0, s " ") == 1 { print $NF }' "$1"
}

# A container whose task is traced from outside: stuck names the docker
# container (id and name from its cgroup and state file), the traced
# holder and its tracer, and what to do; metrics count the teardown.
pgc_stuck_docker() {
	pgc_cgroup_setup || return 1
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	pgc_hold_in_container zombie || { echo "no held namespace"; return 1; }
	sleep 1
	_out=$($PGC stuck) || { echo "stuck failed: $_out"; return 1; }
	echo "$_out"
	_tc=$(cat "/proc/$PGC_KEEPER/comm")
	echo "$_out" | grep -q "^docker container web (id $PGC_ID): its init $PGT_HOLD_INIT ([^)]*) is exiting, for [0-9]" ||
		{ echo "container, init or age not named"; return 1; }
	echo "$_out" | grep -q "^  pid namespace $PGT_HOLD_INO, phase unhash-wait, " ||
		{ echo "namespace not named"; return 1; }
	echo "$_out" | grep -q "^  holder zombie $PGC_HOLDER ([^)]*), traced by $PGC_KEEPER ($_tc): only its tracer can reap it: detach the tracer" ||
		{ echo "traced holder or its remedy not named"; return 1; }
	echo "$_out" | grep -q "^1 teardown(s) in progress, 0 of them for 30 s or more.$" || { echo "no count"; return 1; }
	# exit 1 once a teardown has lasted --older-than seconds (a
	# node-problem-detector plugin's "problem"), 0 before
	_o0=$($PGC stuck --older-than 0)
	_rc=$?
	[ $_rc = 1 ] && echo "$_o0" | grep -q "^1 teardown(s) in progress, 1 of them for 0 s or more.$" ||
		{ echo "stuck --older-than 0 while held: exit $_rc: $(echo "$_o0" | tail -n 1)"; return 1; }
	_msg=$($PGC unload 2>&1) && { echo "unload succeeded while held"; return 1; }
	echo "$_msg" | grep -q "'pidns-guard stuck' names what holds them" ||
		{ echo "unload refusal: $_msg"; return 1; }
	mkdir -p /tmp/prom
	$PGC metrics --output /tmp/prom/pidns_guard.prom || { echo "metrics --output failed"; return 1; }
	cat /tmp/prom/pidns_guard.prom
	pgc_prom_ok /tmp/prom/pidns_guard.prom || return 1
	[ "$(pgc_prom_value /tmp/prom/pidns_guard.prom 'pidns_guard_teardowns_in_progress{code="pidns_guard"}')" = 1 ] ||
		{ echo "teardown in progress not counted"; return 1; }
	_age=$(pgc_prom_value /tmp/prom/pidns_guard.prom pidns_guard_oldest_teardown_age_seconds)
	awk -v a="$_age" 'BEGIN { exit !(a > 0.5) }' || { echo "oldest age $_age"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	_out=$($PGC stuck) && echo "$_out" | grep -q "^No namespace teardown in progress" ||
		{ echo "stuck after release said: $_out"; return 1; }
	echo "stuck named docker container web by id, its init, age, the traced zombie and its tracer ($_tc), 'detach the tracer', exit 0 (1 with --older-than 0); metrics: 1 in progress, age ${_age} s"
}
pgc_run cli/stuck-docker pgc_test pgc_stuck_docker

# A holder forked into the container from outside, whose parent never
# reaps it: stuck names the parent and says the container stops once it
# reaps or exits; a stopped parent gets 'kill -CONT'.
pgc_stuck_foreign() {
	pgc_cgroup_setup || return 1
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	pgc_hold_in_container foreign || { echo "no held namespace"; return 1; }
	_out=$($PGC stuck) || { echo "stuck failed: $_out"; return 1; }
	echo "$_out"
	_pc=$(cat "/proc/$PGC_KEEPER/comm")
	echo "$_out" | grep -q "^  holder zombie $PGC_HOLDER ([^)]*): its parent $PGC_KEEPER ($_pc), outside the container, has not reaped it: the container stops once $PGC_KEEPER reaps it or exits$" ||
		{ echo "foreign-parented holder or its remedy not named"; return 1; }
	kill -STOP "$PGC_KEEPER"
	pgt_wait_for 10 sh -c "grep -q '^State:.*T' /proc/$PGC_KEEPER/status"
	_out=$($PGC stuck)
	kill -CONT "$PGC_KEEPER"
	echo "$_out"
	echo "$_out" | grep -q "exits; $PGC_KEEPER is stopped: 'kill -CONT $PGC_KEEPER' lets it run$" ||
		{ echo "stopped parent not named"; return 1; }
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	echo "stuck named the foreign parent $PGC_KEEPER ($_pc) and the remedy, and 'kill -CONT' once it was stopped"
}
pgc_run cli/stuck-foreign-parent pgc_test pgc_stuck_foreign

# The container (or unit) of a process, for each engine's cgroup layout,
# names from the engines' state on disk, and escaped cgroup names.
pgc_in() {	# cgroup-path: move a fresh sleep there, print `container` of it
	mkdir -p "$PGC_CG/$1" || return 1
	sleep 100 >/dev/null 2>&1 &
	_s=$!
	echo $_s >"$PGC_CG/$1/cgroup.procs" || { kill $_s; return 1; }
	$PGC container $_s
	kill $_s
	wait $_s 2>/dev/null
}

pgc_expect() {	# cgroup-path expected-line
	_got=$(pgc_in "$1")
	echo "$1 -> $_got"
	[ "$_got" = "$2" ] || { echo "for $1: got '$_got', want '$2'"; return 1; }
}

pgc_engines() {
	pgc_cgroup_setup || return 1
	_uid=0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0
	_u=$(echo $_uid | tr - _)
	_p=2222222222222222222222222222222222222222222222222222222222222222
	_c=3333333333333333333333333333333333333333333333333333333333333333
	_k=4444444444444444444444444444444444444444444444444444444444444444
	mkdir -p /var/lib/containers/storage/overlay-containers \
		"/run/containers/storage/overlay-containers/$_c/userdata" \
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/$_k"
	printf '[{"id":"1111","names":["other"]},{"id":"%s","names":["db","alias"],"flags":{"x":"y"}}]' \
		"$_p" >/var/lib/containers/storage/overlay-containers/containers.json
	printf '{"ociVersion":"1.0.2","annotations":{"io.kubernetes.pod.name":"web-7d9f","io.kubernetes.pod.namespace":"shop","io.kubernetes.container.name":"nginx"}}' \
		>"/run/containers/storage/overlay-containers/$_c/userdata/config.json"
	printf '{"annotations":{"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-name":"api-5c","io.kubernetes.cri.sandbox-namespace":"prod"}}' \
		>"/run/containerd/io.containerd.runtime.v2.task/k8s.io/$_k/config.json"
	_kp="kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$_u.slice"
	pgc_expect "system.slice/docker-$PGC_ID.scope" "docker container web (id $PGC_ID)" &&
	pgc_expect "docker/$PGC_ID" "docker container web (id $PGC_ID)" &&
	pgc_expect "machine.slice/libpod-$_p.scope/container" "podman container db (id $_p)" &&
	pgc_expect "$_kp/crio-$_c.scope" "cri-o container nginx (id $_c), pod shop/web-7d9f" &&
	pgc_expect "$_kp/cri-containerd-$_k.scope" "containerd container app (id $_k), pod prod/api-5c" &&
	pgc_expect "$_kp/cri-containerd-$_p.scope" "containerd container (id $_p), pod uid $_uid" &&
	pgc_expect "kubepods/besteffort/pod$_uid/$_p" "kubernetes container (id $_p), pod uid $_uid" &&
	pgc_expect "lxc.payload.c1" "lxc container c1" &&
	pgc_expect 'machine.slice/machine-my\x2dvm.scope' "systemd machine my-vm (machinectl status my-vm)" &&
	pgc_expect "system.slice/cron.service" "systemd unit cron.service" &&
	pgc_expect "$(printf 'system.slice/we ird\tx=y\\.service')" 'systemd unit we\040ird\011x\075y\134.service' &&
	pgc_expect "plain/group" "no container engine's cgroup: /plain/group" || return 1
	echo "container: docker (systemd and cgroupfs drivers), podman, CRI-O and containerd under Kubernetes (names from state on disk, pod uid without), lxc, nspawn machine, systemd unit; control bytes escaped"
}
pgc_run cli/container-engines pgc_test pgc_engines

# Names in stuck are data their owners chose: a teardown whose init,
# holder and the holder's outside parent all carry a name that would
# forge a line of its own ("x\nteardown ns=7": pgtest run under that
# file name) is printed with octal escapes (the kernel's, as in
# `active`), in the text and in --json; no line of the output is forged.
pgc_stuck_forged() {
	_exe=$(printf '/tmp/x\nteardown ns=7')
	cp /payload/pgtest "$_exe" || { echo "cannot copy pgtest"; return 1; }
	pgc_cgroup_setup || return 1
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	pgc_hold_in_container foreign "$_exe" || { echo "no held namespace"; return 1; }
	_w='x\012teardown\040ns\0757'
	_out=$($PGC stuck) || { echo "stuck failed: $_out"; return 1; }
	echo "$_out"
	_bad=
	echo "$_out" | grep -qF "its init $PGT_HOLD_INIT ($_w) is exiting" || _bad="$_bad init"
	echo "$_out" | grep -qF "  holder zombie $PGC_HOLDER ($_w): its parent $PGC_KEEPER ($_w), outside the container" ||
		_bad="$_bad holder-or-parent"
	echo "$_out" | grep -q '^teardown' && _bad="$_bad forged-line"
	_j=$($PGC stuck --json)
	[ "$(echo "$_j" | wc -l)" = 1 ] || _bad="$_bad json-lines"
	echo "$_j" | grep -qF "\"init_comm\":\"x\\\\012teardown\\\\040ns\\\\0757\"" || _bad="$_bad json-init"
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	rm -f "$_exe"
	[ -z "$_bad" ] || { echo "not escaped or forged:$_bad"; return 1; }
	echo "init, holder and parent named ${_w}: escaped in stuck's text and --json, no forged line"
}
pgc_run cli/stuck-forged-names pgc_test pgc_stuck_forged

# What the --json outputs say (their form against the schema is
# 66-outputs' part, checked on the host): status not loaded and loaded,
# stuck with nothing in progress and with a held teardown in a fake
# docker container, container of that init: one line each, exit codes as
# the text outputs', and the values of what pgtest made (namespace, init,
# container, the traced holder and its tracer).
pgc_json_has() {	# file what fixed-string...
	_jf=$1 _jw=$2
	shift 2
	[ "$(wc -l <"$_jf")" = 1 ] || { cat "$_jf"; echo "$_jw: $(wc -l <"$_jf") lines, want 1"; return 1; }
	for _js in "$@"; do
		grep -qF "$_js" "$_jf" || { cat "$_jf"; echo "$_jw lacks $_js"; return 1; }
	done
}

pgc_json() {
	$PGC status --json >/tmp/j.status0
	[ $? = 3 ] || { echo "status --json not loaded: exit not 3"; return 1; }
	pgc_json_has /tmp/j.status0 "status not loaded" '{"loaded":false,"state":"' \
		"\"kernel\":\"$PG_KERNEL\"," '"counters":null,' || return 1
	pgc_cgroup_setup || return 1
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	$PGC status --json >/tmp/j.status1 || { echo "status --json loaded: exit not 0"; return 1; }
	pgc_json_has /tmp/j.status1 "status loaded" '{"loaded":true,"state":"loaded","why":null,"fix":null,' \
		"\"version\":\"$PG_VERSION\"," "\"generation\":\"$PG_GENERATION\"," '"teardowns_in_progress":0,' \
		'"counters":{"teardowns":' || return 1
	$PGC stuck --json >/tmp/j.stuck0 || { echo "stuck --json with nothing in progress: exit not 0"; return 1; }
	pgc_json_has /tmp/j.stuck0 "stuck, none" \
		'{"loaded":true,"teardowns":[],"in_progress":0,"stuck":0,"older_than_seconds":30}' || return 1
	pgc_hold_in_container zombie || { echo "no held namespace"; return 1; }
	$PGC stuck --json --older-than 0 >/tmp/j.stuck1
	[ $? = 1 ] || { cat /tmp/j.stuck1; echo "stuck --json --older-than 0 while held: exit not 1"; return 1; }
	pgc_json_has /tmp/j.stuck1 "stuck, held" \
		"{\"namespace\":$PGT_HOLD_INO,\"init\":$PGT_HOLD_INIT,\"init_comm\":\"pgtest\",\"code\":\"pidns_guard\",\"phase\":\"unhash-wait\"," \
		'"stuck":true,' "\"engine\":\"docker\",\"name\":\"web\",\"id\":\"$PGC_ID\"," \
		"{\"pid\":$PGC_HOLDER,\"comm\":\"pgtest\",\"state\":\"Z\"," \
		"\"tracer\":$PGC_KEEPER,\"why\":\"zombie-traced\",\"remedy\":\"zombie $PGC_HOLDER (pgtest), traced by $PGC_KEEPER" \
		'"in_progress":1,"stuck":1,"older_than_seconds":0}' || return 1
	$PGC container --json "$PGT_HOLD_INIT" >/tmp/j.container || { echo "container --json failed"; return 1; }
	pgc_json_has /tmp/j.container container \
		"{\"pid\":$PGT_HOLD_INIT,\"container\":{\"engine\":\"docker\",\"name\":\"web\"," || return 1
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	$PGC unload >/dev/null || return 1
	echo "status (not loaded: exit 3; loaded), stuck (none; held: exit 1 with --older-than 0, its namespace, init, docker container, traced holder with its tracer), container: one line each, with the values pgtest made"
}
pgc_run cli/json pgc_test pgc_json

# metrics: well formed with the module (after real teardowns) and without;
# --output replaces the file by a rename, leaves no temporary file, 0644.
pgc_metrics() {
	_f=/tmp/prom/pidns_guard.prom
	rm -rf /tmp/prom && mkdir -p /tmp/prom
	$PGC metrics --output $_f || { echo "metrics unloaded failed"; return 1; }
	grep -q '^pidns_guard_loaded 0$' $_f || { cat $_f; echo "unloaded: no pidns_guard_loaded 0"; return 1; }
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	for _i in 1 2 3 4 5; do unshare -p -f sh -c 'sleep 0.1 & sleep 0.2 & wait' || return 1; done
	pgt_wait_for 30 pgt_stat_is teardowns_done 5 || { echo "5 teardowns not done"; return 1; }
	_i1=$(stat -c %i $_f | awk '{ print $1 }')
	$PGC metrics --output $_f || { echo "metrics --output failed"; return 1; }
	cat $_f
	pgc_prom_ok $_f || return 1
	_i2=$(stat -c %i $_f | awk '{ print $1 }')
	[ "$_i1" != "$_i2" ] || { echo "$_f rewritten in place, not renamed"; return 1; }
	[ "$(ls -A /tmp/prom)" = pidns_guard.prom ] || { ls -A /tmp/prom; echo "temporary file left"; return 1; }
	[ "$(stat -c %a $_f)" = 644 ] || { echo "mode $(stat -c %a $_f)"; return 1; }
	_v=$(pgc_prom_value $_f pidns_guard_teardowns_total)
	[ "$_v" = 5 ] || { echo "teardowns_total $_v, want 5"; return 1; }
	[ "$(pgc_prom_value $_f pidns_guard_teardown_duration_seconds_count)" = 5 ] ||
		{ echo "histogram count not 5"; return 1; }
	_ns=$(pgt_stat teardown_ns_total)
	_s=$(pgc_prom_value $_f pidns_guard_teardown_duration_seconds_sum)
	awk -v ns="$_ns" -v s="$_s" 'BEGIN { d = ns / 1e9 - s; exit !(d < 1e-6 && d > -1e-6) }' ||
		{ echo "_sum $_s s for $_ns ns"; return 1; }
	grep -q "^pidns_guard_info{version=\"$PG_VERSION\",kernel=\"$PG_KERNEL\",generation=\"$PG_GENERATION\"} 1$" $_f ||
		{ echo "no info line"; return 1; }
	_out=$($PGC metrics --output /nonexistent/x.prom 2>&1) && { echo "wrote into a missing directory"; return 1; }
	echo "$_out" | grep -q "no directory /nonexistent" || { echo "missing directory: $_out"; return 1; }
	$PGC unload >/dev/null || return 1
	echo "metrics --output: well formed (HELP/TYPE, _total, cumulative buckets, +Inf = count = 5, _sum = teardown_ns_total), renamed into place, 0644, nothing left; unloaded: pidns_guard_loaded 0"
}
pgc_run cli/metrics pgc_metrics

# The kernel generation, from the module itself (issue 13): a read-only
# parameter, 0444 (sysfs: no debugfs needed, open under lockdown), that
# status, boot and metrics read with the load message gone from the
# kernel log; a value given at load is refused.  The expected generation
# is PG_GENERATION: tests/run takes it from the table of Debian's ABIs
# (tests/lib/generations.sh), not from the headers the module was built
# with (the module's own test).
pgc_generation() {
	_want=$PG_GENERATION
	case $_want in
	old|new) ;;
	*) echo "no known generation for $PG_KERNEL ('$_want'): add its row to tests/lib/generations.sh"; return 1 ;;
	esac
	_p=/sys/module/pidns_guard/parameters/generation
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	[ "$(cat $_p)" = "$_want" ] || { echo "$_p says '$(cat $_p)', want $_want"; return 1; }
	[ "$(stat -c %a $_p)" = 444 ] || { echo "$_p mode $(stat -c %a $_p)"; return 1; }
	{ echo new >$_p; } 2>/dev/null && { echo "$_p written"; return 1; }
	dmesg -c >/dev/null	# the load message rotated out
	_out=$($PGC status) || { echo "status failed: $_out"; return 1; }
	echo "$_out" | grep "^kernel generation"
	echo "$_out" | grep -q "^kernel generation: $_want: " ||
		{ echo "status without the load message: $(echo "$_out" | grep '^kernel generation')"; return 1; }
	$PGC metrics | grep -q "^pidns_guard_info{.*,generation=\"$_want\"} 1$" ||
		{ echo "metrics without the load message: $($PGC metrics | grep '^pidns_guard_info')"; return 1; }
	$PGC unload >/dev/null || { echo "unload failed"; return 1; }
	_out=$(PG_KO=$PG_KO PG_CMDLINE=/dev/null PG_DEFAULTS=/dev/null $PGC boot 2>&1)
	echo "$_out" | grep -q "($_want generation kernel)$" || { echo "boot said: $_out"; return 1; }
	pgt_unload
	insmod "$PG_KO" generation=new 2>/dev/null && { pgt_unload; echo "generation=new accepted at load"; return 1; }
	pgt_loaded && { echo "loaded with generation=new"; return 1; }
	echo "generation $_want (tests/lib/generations.sh) from $_p (0444, read-only, refused at load) in status, metrics and boot, with the kernel log cleared"
}
pgc_run cli/generation pgc_generation

# The histogram's _count and _sum (issue 13): each output has _count =
# the +Inf bucket = pidns_guard_teardowns_done_total, _sum = the
# durations' total in seconds, >= 0; as teardowns finish, _count grows by
# as many and _sum grows; one in progress changes neither.  Also while
# teardowns end all the time: every output consistent (stats and
# histogram are read apart: pidns-guard reads them again until they
# agree), none going back.
pgc_hist() {	# file: "count sum", or fails saying why
	awk '
	/^pidns_guard_teardown_duration_seconds_bucket\{le="\+Inf"\} / { inf = $2 }
	/^pidns_guard_teardown_duration_seconds_count / { count = $2 }
	/^pidns_guard_teardown_duration_seconds_sum / { sum = $2 }
	/^pidns_guard_teardowns_done_total / { done = $2 }
	/^pidns_guard_teardown_max_seconds / { max = $2 }
	END {
		if (count == "" || inf == "" || sum == "" || done == "") { print "missing samples"; exit 1 }
		if (count != inf || count != done) { print "_count " count ", +Inf " inf ", teardowns_done_total " done; exit 1 }
		if (sum < 0 || (count == 0) != (sum == 0) || sum > count * max * 1.000001) { print "_sum " sum " for " count " teardowns, max " max " s"; exit 1 }
		print count, sum
	}' "$1"
}

# pgc_bucket_of LO HI: the exponent i of the histogram bucket
# [2^(i-1), 2^i) ns that holds every duration from LO to HI ms; fails
# saying so when they straddle a bound.
pgc_bucket_of() {
	awk -v lo="$1" -v hi="$2" 'BEGIN {
		p = 1; i = 0	# p = 2^i ns (no ^: busybox awk may lack libm)
		while (p < hi * 1000000) { p *= 2; i++ }
		if (p / 2 > lo * 1000000) { print "cannot tell the bucket: " lo " to " hi " ms straddles 2^" i - 1 " ns"; exit 1 }
		print i
	}'
}

# pgc_bucket_moved BEFORE AFTER: two metrics outputs, one more teardown
# in AFTER; prints "i le" for the bucket le=2^i ns it went to (every
# cumulative bucket below it unchanged, every one from it up by one).
pgc_bucket_moved() {
	awk '
	FNR == 1 { f++ }
	/^pidns_guard_teardown_duration_seconds_bucket\{le="[0-9.]+"\} / {
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
		c[f, le] = $2
		if (f == 1) order[++n] = le
	}
	/^pidns_guard_teardown_duration_seconds_bucket\{le="\+Inf"\} / { inf[f] = $2 }
	END {
		if (inf[2] - inf[1] != 1) { print "+Inf went from " inf[1] " to " inf[2] ", want one more"; exit 1 }
		for (k = 1; k <= n; k++) {
			d = c[2, order[k]] - c[1, order[k]]
			if (d == 1 && at == "") at = order[k]
			else if (d != (at == "" ? 0 : 1)) { print "bucket le=" order[k] " went up by " d; exit 1 }
		}
		if (at == "") { print "in no finite bucket"; exit 1 }
		ns = at * 1000000000; p = 1
		for (i = 0; i < 64 && p < ns * 0.999999; i++) p *= 2
		print i, at
	}' "$1" "$2"
}

pgc_metrics_hist() {
	_f=/tmp/hist.prom
	PG_KO=$PG_KO $PGC load >/dev/null || { echo "load failed"; return 1; }
	$PGC metrics >$_f && _r=$(pgc_hist $_f) || { echo "before: $_r"; return 1; }
	[ "$_r" = "0 0" ] || { echo "before any teardown: count sum = $_r"; return 1; }
	_prev=0
	for _n in 3 2; do
		_i=0
		while [ $_i -lt $_n ]; do unshare -p -f sh -c 'sleep 0.1 & wait' || return 1; _i=$((_i + 1)); done
		$PGC metrics >$_f && _r=$(pgc_hist $_f) || { echo "after $_n more: $_r"; return 1; }
		set -- $_r
		echo "count $1 sum $2"
		[ "$1" = $(($(pgt_stat teardowns_done))) ] && [ "$1" -eq $((${_c:-0} + _n)) ] ||
			{ echo "count $1 after ${_c:-0} + $_n teardowns"; return 1; }
		awk -v a="$_prev" -v b="$2" 'BEGIN { exit !(b > a) }' || { echo "_sum $_prev -> $2"; return 1; }
		_c=$1 _prev=$2
	done
	# one held in progress: counted when it finishes, not before, and in
	# the bucket of its length as the shell's clock measured it: held
	# 4.5 s from the moment pgtest said "held" (the teardown had begun),
	# it lasted more than that and less than from pgtest's start to its
	# end (init reaped): 4.5 s is in [2^32, 2^33) ns, le="8.589934592".
	_t0=$(pgt_now_cs)
	pgt_hold_start foreign || { echo "no held namespace"; return 1; }
	_t1=$(pgt_now_cs)
	$PGC metrics >$_f && _r=$(pgc_hist $_f) || { echo "held: $_r"; return 1; }
	[ "$_r" = "$_c $_prev" ] || { echo "a teardown in progress changed count sum $_c $_prev to $_r"; return 1; }
	cp $_f /tmp/hist.held
	while [ $(($(pgt_now_cs) - _t1)) -lt 450 ]; do sleep 0.1; done
	_t2=$(pgt_now_cs)
	pgt_hold_release >/dev/null || { echo "held teardown broke"; return 1; }
	_t3=$(pgt_now_cs)
	pgt_wait_for 30 pgt_stat_is active 0 || { echo "teardown never ended"; return 1; }
	$PGC metrics >$_f && _r=$(pgc_hist $_f) || { echo "released: $_r"; return 1; }
	set -- $_r
	[ "$1" = $((_c + 1)) ] && awk -v a="$_prev" -v b="$2" 'BEGIN { exit !(b > a) }' ||
		{ echo "count sum $_c $_prev to $_r once the held one finished"; return 1; }
	_c=$1 _prev=$2
	# (pgt_now_cs is whole centiseconds: 1 cs off at each end)
	_lo=$(((_t2 - _t1 - 1) * 10)) _hi=$(((_t3 - _t0 + 1) * 10))
	_want=$(pgc_bucket_of $_lo $_hi) || { echo "$_want"; return 1; }
	_got=$(pgc_bucket_moved /tmp/hist.held $_f) || { echo "held teardown: $_got"; return 1; }
	[ "${_got%% *}" = "$_want" ] ||
		{ echo "a teardown of $_lo to $_hi ms landed in le=${_got#* } s (2^${_got%% *} ns), want le=2^$_want ns"; return 1; }
	_bucket="a teardown held $_lo to $_hi ms in le=${_got#* } s"
	# 20 outputs while teardowns end all the time: the count must have
	# grown between the first output and the last (else the outputs were
	# not taken while teardowns ended, and nothing was shown)
	( while [ ! -e /tmp/hist.stop ]; do unshare -p -f true; done ) >/dev/null 2>&1 &
	_bg=$!
	_k=0 _bad='' _first=''
	while [ $_k -lt 20 ]; do
		$PGC metrics >$_f && _r=$(pgc_hist $_f) || { _bad="output $_k: $_r"; break; }
		set -- $_r
		[ "$1" -ge "$_c" ] && awk -v a="$_prev" -v b="$2" 'BEGIN { exit !(b >= a) }' ||
			{ _bad="output $_k went back: count $_c -> $1, sum $_prev -> $2"; break; }
		_c=$1 _prev=$2 _k=$((_k + 1))
		[ -n "$_first" ] || _first=$1
	done
	touch /tmp/hist.stop
	wait $_bg
	rm -f /tmp/hist.stop
	[ -z "$_bad" ] || { echo "$_bad"; return 1; }
	[ "$_c" -gt "$_first" ] ||
		{ echo "no teardown ended during the 20 outputs (count $_first at the first, $_c at the last)"; return 1; }
	$PGC unload >/dev/null || return 1
	echo "_count = +Inf = teardowns_done_total, 0 <= _sum <= count*max: 0, 3, 5 teardowns (_sum growing), one held (no change), 6 once it finished ($_bucket), and 20 outputs while $((_c - _first)) teardowns ended (count $_first to $_c), none going back"
}
pgc_run cli/metrics-histogram pgc_metrics_hist

# Each state of the guard a distinct value of pidns_guard_state, the only
# one at 1 in its output, made as the operator's host would make it:
# loaded; not-loaded (unloaded since); disabled (pidns_guard.enable=0);
# misconfigured (LOAD_AT_BOOT=nope); lockout (the breaker's file);
# unsupported (a kernel config without DYNAMIC_FTRACE_WITH_ARGS);
# not-built (no module for this kernel); load-failed (insmod refused the
# file).  unsigned and key-rejected need an enforcing kernel: 90-lockdown.
pgs_env() {	# cmdline defaults ko command...
	_cl=$1 _df=$2 _ko=$3
	shift 3
	env PG_KO="$_ko" PG_CMDLINE="$_cl" PG_DEFAULTS="$_df" PG_STATE_DIR=/tmp/pgs-state \
		PG_RUN_DIR=/tmp/pgs-run $PGC "$@"
}

pgs_state() {	# cmdline defaults ko: the one state at 1, or why not one
	_m=$(pgs_env "$1" "$2" "$3" metrics 2>&1)
	_on=$(echo "$_m" | sed -n 's/^pidns_guard_state{state="\([a-z-]*\)"} 1$/\1/p')
	_n=$(echo "$_m" | grep -c '^pidns_guard_state{')
	[ "$(echo "$_on" | grep -c .)" = 1 ] && [ "$_n" = 10 ] || { echo "1 of $_n states at 1: '$_on'"; return 1; }
	echo "$_on"
}

pgc_states() {
	_cfg=/boot/config-$(uname -r)
	[ ! -e "$_cfg" ] || { echo "$_cfg exists: this test plants its own"; return 1; }
	rm -rf /tmp/pgs-state /tmp/pgs-run && mkdir -p /tmp/pgs-state /tmp/pgs-run /boot
	echo "console=ttyS0 quiet" >/tmp/pgs-cl.on
	echo "console=ttyS0 quiet pidns_guard.enable=0" >/tmp/pgs-cl.off
	printf 'LOAD_AT_BOOT=yes\n' >/tmp/pgs-df.on
	printf 'LOAD_AT_BOOT=nope\n' >/tmp/pgs-df.bad
	echo "not a module" >/tmp/pgs-bad.ko
	_seen='' _show=''
	pgs_want() {	# state cmdline defaults ko
		_got=$(pgs_state "$2" "$3" "$4") || { echo "$1: $_got"; return 1; }
		[ "$_got" = "$1" ] || { echo "want state $1, metrics say $_got"; return 1; }
		case " $_seen " in *" $_got "*) echo "$_got twice"; return 1 ;; esac
		_seen="$_seen $_got"
	}
	pgs_env /tmp/pgs-cl.on /tmp/pgs-df.on "$PG_KO" load >/dev/null || { echo "load failed"; return 1; }
	pgs_want loaded /tmp/pgs-cl.on /tmp/pgs-df.on "$PG_KO" || return 1
	pgt_unload
	pgs_want not-loaded /tmp/pgs-cl.on /tmp/pgs-df.on "$PG_KO" || return 1
	pgs_want disabled /tmp/pgs-cl.off /tmp/pgs-df.on "$PG_KO" || return 1
	pgs_want misconfigured /tmp/pgs-cl.on /tmp/pgs-df.bad "$PG_KO" || return 1
	printf 'boot=%s\nkernel=%s\nloaded=1700000000\n' 00000000-0000-4000-8000-0000000000bb "$PG_KERNEL" >/tmp/pgs-state/lockout
	pgs_want lockout /tmp/pgs-cl.on /tmp/pgs-df.on "$PG_KO" || return 1
	rm -f /tmp/pgs-state/lockout
	printf 'CONFIG_PID_NS=y\nCONFIG_KPROBES=y\n# CONFIG_DYNAMIC_FTRACE_WITH_ARGS is not set\n' >"$_cfg"
	pgs_want unsupported /tmp/pgs-cl.on /tmp/pgs-df.on "$PG_KO"
	_rc=$?
	rm -f "$_cfg"
	[ $_rc = 0 ] || return 1
	pgs_want not-built /tmp/pgs-cl.on /tmp/pgs-df.on "" || return 1
	! pgs_env /tmp/pgs-cl.on /tmp/pgs-df.on /tmp/pgs-bad.ko load >/dev/null 2>&1 || { echo "a text file loaded"; return 1; }
	pgs_want load-failed /tmp/pgs-cl.on /tmp/pgs-df.on /tmp/pgs-bad.ko || return 1
	! pgt_loaded || { echo "left loaded"; return 1; }
	echo "pidns_guard_state, one state at 1 of 10, each distinct:$_seen"
}
pgc_run cli/metrics-states pgc_states
