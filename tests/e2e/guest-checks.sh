#!/bin/bash
# The in-guest half of the end-to-end run (tests/e2e/run; docs/e2e.md),
# run by pidns-guard-e2e.service on every boot of the test image.  Result
# lines "PASS name detail" / "FAIL name detail" go to ttyS1 (the host's
# results file), details to the console (ttyS0) and
# /var/log/pidns-guard-e2e.log.  Then it powers off.
#
# Boot 1 (kernel KERNEL): the image upgraded from release 0.1.0 (the
# single pidns-guard-dkms) to the split packages: still enabled, the
# conffile edit kept; the module loaded by pidns-guard.service before
# docker; two real containers stuck in their init's teardown, held by a
# stopped strace, by the zombie of a tracer that never waits and by a
# zombie whose outside parent is stopped:
# `docker stop` hangs, `pidns-guard stuck` names container, holder and
# remedy, the remedy ends the stop; counters; metrics through promtool;
# the kernel upgrade to UPGRADE installed with apt (DKMS builds for it).
# Boot 2 (kernel UPGRADE): active again (the clean reboot did not trip
# the crash-loop breaker); pidns-guard-metrics.timer enabled, its
# sandboxed service writes node_exporter's file; the crash phase asked for.
# Crash (UPGRADE): pidns-guard-e2e-crash.service, after pidns-guard.service
# loaded the module and armed the breaker, crashes the kernel (sysrq c).
# Lockout (UPGRADE): the module is not loaded: lockout in the unit's
# journal line, a failed unit, status (exit 3) and the metrics; a kernel
# installed without its headers (next boot unguarded); Debian's
# Prometheus, scraping Debian's node_exporter with the package's rules,
# has PidnsGuardAbsent and PidnsGuardNextBootUnguarded pending; then
# pidns-guard rearm.  Rearmed (UPGRADE): loaded again at boot; a
# container held stuck fires PidnsGuardContainerStuck (read from
# Prometheus's HTTP API), its release resolves it; the settle timer
# disarms the breaker 10 minutes after boot; disabling the metrics timer
# removes the metrics file; apt purge leaves nothing behind (the loaded
# module stays loaded, as README.md says).  Boot 3: it is gone.
#
# Secure Boot (tests/e2e/run --secureboot, firmware, shim and grub; the
# host writes the first phase, sb-rejected, into the image and changes
# MokList and the kernel command line between boots):
# sb-rejected: DKMS's key not enrolled: refused (key-rejected), named
# with the mokutil remedy in status, the unit's journal line, a failed
# unit and the metrics; the boot is otherwise fine.  sb-enrolled: the key
# in MokList: active, and boot 1's checks (containers, the kernel
# upgrade: DKMS signs for UPGRADE with the same key).
# sb-confidentiality (UPGRADE, lockdown=confidentiality): active, tracefs
# closed and said so; then the module's signature is stripped.
# sb-unsigned (UPGRADE): refused (unsigned) with the openssl and mokutil
# remedy.
#
# Engines (tests/e2e/run --engines; the host writes the phase): every
# container engine's own container held stuck and named (engines.sh).
set -u
. /etc/pidns-guard-e2e.conf	# KERNEL UPGRADE NOHDR RELEASE
state=/var/lib/pidns-guard-e2e
log=/var/log/pidns-guard-e2e.log
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8
phase=$(cat $state/phase 2>/dev/null || echo 1)

res() {	# PASS|FAIL name detail...
	local line="$*"
	line=${line//$'\n'/ }
	printf '%s\n' "$line" >/dev/ttyS1
	printf '%s\n' "$line" >>$log
	printf 'E2E %s\n' "$line"
}
ok() {	# name detail condition-status
	if [ "$3" = 0 ]; then res PASS "$1" "$2"; else res FAIL "$1" "$2"; fi
}
note() { printf '%s\n' "$*" | tee -a $log | sed 's/^/e2e| /'; }
show() {	# title cmd...: run, log and print its output
	note "---- $1"
	"${@:2}" 2>&1 | tee -a $log | sed 's/^/e2e| /'
	return "${PIPESTATUS[0]}"
}
finish() {
	note "---- end of boot $phase"
	# what the host's breaker/shutdown-boot* compare with the disk after
	printf 'E2E-ARMED %s\n' "$( [ -e $BREAKER/armed ] && echo present || echo absent)" >/dev/ttyS1
	printf 'E2E-END %s\n' "$phase" >/dev/ttyS1
	sync
	systemctl poweroff
	exit 0
}

# wait_until SECONDS CMD...: 0 as soon as CMD succeeds (tried once a
# second: what we wait for sends no event we could wait on), 1 when it
# still fails after SECONDS tries.
wait_until() {
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 1
	done
	return 1
}

gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_gone PID SECONDS: 0 once PID has exited (we are not its parent
# for every PID, so poll), 1 on timeout.
wait_gone() { wait_until "$2" gone "$1"; }

first_child() {	# PID: its first child, if any
	awk '{ print $1 }' /proc/"$1"/task/"$1"/children 2>/dev/null
}

has_child() { [ -n "$(first_child "$1")" ]; }

wait_first_child() {	# PID: its first child, waited for up to 30 s
	wait_until 30 has_child "$1" && first_child "$1"
}

tracer_of() {	# PID: its TracerPid
	awk '/^TracerPid:/ { print $2 }' /proc/"$1"/status 2>/dev/null
}

traced_by() { [ "$(tracer_of "$1")" = "$2" ]; }

wait_traced_by() { wait_until 30 traced_by "$1" "$2"; }	# PID TRACER

# A child of PID running sleep (once it has exec'd): sets HOLD_PID.
sleeping_child() {
	HOLD_PID=$(first_child "$1")
	[ -n "$HOLD_PID" ] && [ "$(cat /proc/"$HOLD_PID"/comm 2>/dev/null)" = sleep ]
}

# hold_teardown PREFIX INIT [WHOSE]: nsenter (outside, stopped) forks
# sleep into INIT's pid namespace: once INIT dies, that zombie holds the
# teardown until nsenter runs again.  Sets HOLD_NSENTER, HOLD_PID; checks
# PREFIX/holder.
hold_teardown() {
	HOLD_PID=''
	nsenter -t "$2" -p -- sleep 1000 &
	HOLD_NSENTER=$!
	wait_until 30 sleeping_child "$HOLD_NSENTER" || true
	kill -STOP "$HOLD_NSENTER"
	ok "$1/holder" "nsenter $HOLD_NSENTER (stopped) forked sleep ${HOLD_PID:-none} into the pid namespace of ${3:+$3 }init $2" \
		"$( [ -n "$HOLD_PID" ] && [ "$(readlink /proc/"$HOLD_PID"/ns/pid)" = "$(readlink /proc/"$2"/ns/pid)" ]; echo $?)"
}

stat_of() {	# counter name from the module's stats
	awk -v k="$1" '$1 == k { print $2 }' /sys/kernel/debug/pidns_guard/stats 2>/dev/null
}

module_active() {	# ABI PREFIX: status says loaded on ABI, lsmod lists it, journal line
	local out rc=0
	out=$(pidns-guard status 2>&1) || rc=$?
	show "pidns-guard status (exit $rc)" printf '%s\n' "$out"
	ok "$2/status" "pidns-guard status exit $rc: $(head -n 1 <<<"$out")" \
		"$( [ $rc = 0 ] && grep -q "^pidns_guard [^ ]* loaded on $1, " <<<"$out"; echo $?)"
	ok "$2/lsmod" "lsmod: $(lsmod | awk '$1 == "pidns_guard"' | tr -s ' ')" \
		"$(lsmod | grep -q '^pidns_guard '; echo $?)"
	local j
	j=$(journalctl -b -u pidns-guard.service -o cat --no-pager | grep -E '^pidns_guard( [0-9]|:)' | tail -n 1)
	ok "$2/boot-journal" "journal of pidns-guard.service: $j" \
		"$(grep -q "is active on $1\." <<<"$j"; echo $?)"
}

# booted NAME KERNEL STATE [HOW]: this boot runs KERNEL with systemd as
# PID 1, and once the boot is done, is-system-running and the failed
# units read STATE ("running ", "degraded pidns-guard.service "; empty:
# not checked).
booted() {
	local st failed
	st=$(systemctl is-system-running --wait 2>&1)
	failed=$(systemctl --failed --plain --no-legend | awk '{ printf "%s ", $1 }')
	ok "$1" "booted $(uname -r) (expected $2)${4:+ $4}, PID 1 $(cat /proc/1/comm), system $st, failed units: ${failed:-none}" \
		"$( [ "$(uname -r)" = "$2" ] && [ "$(cat /proc/1/comm)" = systemd ] && { [ -z "$3" ] || [ "$st $failed" = "$3" ]; }; echo $?)"
}

# ---------------------------------------------------------------- boot 1
before_docker() {
	local g c d
	g=$(systemctl show -P ActiveEnterTimestampMonotonic pidns-guard.service)
	c=$(systemctl show -P ExecMainStartTimestampMonotonic containerd.service)
	d=$(systemctl show -P ExecMainStartTimestampMonotonic docker.service)
	ok unit/before-docker "pidns-guard.service active at ${g:-?} us, containerd started at ${c:-?} us, dockerd at ${d:-?} us (monotonic)" \
		"$( [ "${g:-0}" -gt 0 ] && [ "${d:-0}" -gt "$g" ] && [ "${c:-0}" -gt "$g" ]; echo $?)"
}

docker_ready() {
	local v
	v=$(docker version -f '{{.Server.Version}}' 2>&1)
	ok docker/daemon "docker server $v" "$(docker info >/dev/null 2>&1; echo $?)"
	show "docker import" docker import /var/cache/pidns-guard-e2e/busybox.tar e2e-busybox >/dev/null
	ok docker/import "docker import of busybox-static's root file system as e2e-busybox" \
		"$(docker image inspect e2e-busybox >/dev/null 2>&1; echo $?)"
}

# run NAME CMD...: a container; prints its init's pid.
run_container() {
	local name=$1 pid
	shift
	docker run -d --network none --name "$name" e2e-busybox "$@" >>$log 2>&1 || return 1
	pid=$(docker inspect -f '{{.State.Pid}}' "$name")
	[ "${pid:-0}" -gt 0 ] && echo "$pid"
}

# stop_blocked NAME: docker stop -t 1 NAME in the background; 0 when 20 s
# later it has not stopped the container: still waiting, or given up with
# an error (docker 20.10 gives up after its kill timeouts) while the
# container's init is still there.  Sets STOP_PID, STOP_DETAIL.
stop_blocked() {
	local rc running
	docker stop -t 1 "$1" >/tmp/stop-"$1".log 2>&1 &
	STOP_PID=$!
	sleep 20
	running=$(docker inspect -f '{{.State.Running}}' "$1" 2>&1)
	if kill -0 $STOP_PID 2>/dev/null; then
		STOP_DETAIL="docker stop -t 1 $1 has not returned after 20 s (State.Running $running)"
		return 0
	fi
	wait $STOP_PID
	rc=$?
	STOP_PID=
	STOP_DETAIL="docker stop -t 1 $1 returned $rc within 20 s: $(tr '\n' ' ' </tmp/stop-"$1".log); State.Running $running"
	[ $rc != 0 ] && [ "$running" = true ]
}

# stop_finished NAME: after the remedy, the container stops within 120 s:
# the waiting docker stop returns 0, or (when it gave up before) a new
# docker stop -t 1 does.  Sets STOP_DETAIL.
stop_finished() {
	local rc=0
	if [ -n "$STOP_PID" ]; then
		wait_gone $STOP_PID 120 || { STOP_DETAIL="docker stop still waiting 120 s after the remedy"; return 1; }
		wait $STOP_PID || rc=$?
		STOP_DETAIL="the waiting docker stop returned $rc"
	else
		timeout 120 docker stop -t 1 "$1" >>$log 2>&1 || rc=$?
		STOP_DETAIL="a new docker stop -t 1 returned $rc"
	fi
	[ $rc = 0 ] && [ "$(docker inspect -f '{{.State.Running}}' "$1")" = false ]
}

has_line() {	# TEXT FIXED-STRING: TEXT holds a line containing it
	grep -qF -- "$2" <<<"$1"
}

traced_holder() {
	local init child spid id stuck t0 t1 hline hstate
	t0=$(stat_of teardowns)
	init=$(run_container e2e-traced sh -c 'sleep 1000 & exec sleep 1000')
	id=$(docker inspect -f '{{.Id}}' e2e-traced 2>/dev/null)
	child=$(wait_first_child "$init") || true
	ok traced/container "docker run e2e-traced: init $init, child sleep ${child:-none}, id ${id:0:12}" \
		"$( [ -n "$child" ] && [ -n "$id" ]; echo $?)"
	# strace from the root namespace on the container's child.  A strace
	# that keeps running reaps its tracee's exit at once; a suspended one
	# (Ctrl-Z, or gdb stopped at a prompt) is what holds a container.
	strace -o /dev/null -p "$child" &
	spid=$!
	wait_traced_by "$child" "$spid" || true
	kill -STOP $spid
	ok traced/attached "strace $spid traces $child and is stopped" \
		"$( [ "$(tracer_of "$child")" = "$spid" ]; echo $?)"
	stop_blocked e2e-traced
	ok traced/stop-blocked "$STOP_DETAIL" $?
	stuck=$(pidns-guard stuck 2>&1)
	show "pidns-guard stuck (traced)" printf '%s\n' "$stuck"
	ok traced/stuck-container "names docker container e2e-traced (id $id), init $init" \
		"$(has_line "$stuck" "docker container e2e-traced (id $id): its init $init (sleep) is exiting, for "; echo $?)"
	# A zombie (strace has reaped nothing yet) or, with strace's
	# PTRACE_O_TRACEEXIT, the child stopped in its exit event: either way
	# the line must name the holder, its tracer and what to do about it.
	hline=$(grep -F -- "  holder " <<<"$stuck" | grep -F -- " $child (sleep)" | head -n 1)
	hstate="state $(awk '{ print $3 }' /proc/"$child"/stat 2>/dev/null) wchan $(cat /proc/"$child"/wchan 2>/dev/null)"
	ok traced/stuck-holder "holder $child (sleep; $hstate), tracer $spid (strace), remedy detach/kill $spid: ${hline:-no holder line for $child}" \
		"$(grep -F -- "$spid (strace)" <<<"$hline" | grep -q -- "kill $spid"; echo $?)"
	kill -KILL $spid
	wait $spid 2>/dev/null
	stop_finished e2e-traced
	ok traced/stop-finishes "after kill -KILL $spid (strace): $STOP_DETAIL, container stopped" $?
	t1=$(stat_of teardowns)
	ok traced/counted "teardowns ${t0:-?} -> ${t1:-?}" \
		"$( [ "${t1:-0}" -gt "${t0:-0}" ]; echo $?)"
	note "$(pidns-guard stuck 2>&1)"
}

# ptraced_container NAME CHECK: docker run NAME (an init with a sleeping
# child), and pgtracer, a tracer that never waits (PTRACE_SEIZE, no exit
# event, then pause), attached to the child; CHECK says so.  Sets init,
# id, child, tpid (the caller's locals).
ptraced_container() {
	init=$(run_container "$1" sh -c 'sleep 1000 & exec sleep 1000')
	id=$(docker inspect -f '{{.Id}}' "$1" 2>/dev/null)
	child=$(wait_first_child "$init") || true
	/usr/local/sbin/pgtracer "$child" &
	tpid=$!
	wait_traced_by "$child" "$tpid" || true
	ok "$2" "docker run $1 (init ${init:-none}, id ${id:0:12}): pgtracer $tpid traces its child ${child:-none}" \
		"$( [ -n "$child" ] && [ "$(tracer_of "$child")" = "$tpid" ]; echo $?)"
}

# A tracer that never waits: the killed child is a zombie only its tracer
# can reap.
zombie_traced_holder() {
	local init child tpid id stuck
	ptraced_container e2e-ptrace ptrace/attached
	stop_blocked e2e-ptrace
	ok ptrace/stop-blocked "$STOP_DETAIL" $?
	stuck=$(pidns-guard stuck 2>&1)
	show "pidns-guard stuck (zombie of a tracer that never waits)" printf '%s\n' "$stuck"
	ok ptrace/stuck-container "names docker container e2e-ptrace (id $id), init $init" \
		"$(has_line "$stuck" "docker container e2e-ptrace (id $id): its init $init (sleep) is exiting, for "; echo $?)"
	ok ptrace/stuck-holder "names zombie $child (sleep) traced by $tpid (pgtracer) and the remedy" \
		"$(has_line "$stuck" "  holder zombie $child (sleep), traced by $tpid (pgtracer): only its tracer can reap it: detach the tracer (end the strace or gdb session, or kill $tpid)"; echo $?)"
	kill -KILL $tpid
	wait $tpid 2>/dev/null
	stop_finished e2e-ptrace
	ok ptrace/stop-finishes "after kill -KILL $tpid (pgtracer): $STOP_DETAIL, container stopped" $?
}

foreign_holder() {
	local init hpid npid id stuck
	init=$(run_container e2e-foreign sleep 1000)
	id=$(docker inspect -f '{{.Id}}' e2e-foreign 2>/dev/null)
	# nsenter forks into the container's pid namespace; its child execs
	# sleep; nsenter, outside, is the parent that will not reap it.
	hold_teardown foreign "$init" e2e-foreign
	hpid=$HOLD_PID npid=$HOLD_NSENTER
	stop_blocked e2e-foreign
	ok foreign/stop-blocked "$STOP_DETAIL" $?
	stuck=$(pidns-guard stuck 2>&1)
	show "pidns-guard stuck (foreign parent)" printf '%s\n' "$stuck"
	ok foreign/stuck-container "names docker container e2e-foreign (id $id), init $init" \
		"$(has_line "$stuck" "docker container e2e-foreign (id $id): its init $init (sleep) is exiting, for "; echo $?)"
	ok foreign/stuck-holder "names zombie $hpid (sleep), its stopped parent $npid (nsenter) and kill -CONT" \
		"$(has_line "$stuck" "  holder zombie $hpid (sleep): its parent $npid (nsenter), outside the container, has not reaped it: the container stops once $npid reaps it or exits; $npid is stopped: 'kill -CONT $npid' lets it run"; echo $?)"
	kill -CONT $npid
	stop_finished e2e-foreign
	ok foreign/stop-finishes "after kill -CONT $npid (nsenter reaps its child): $STOP_DETAIL, container stopped" $?
	wait $npid 2>/dev/null
}

counters() {	# teardowns before
	local t1 d1
	t1=$(stat_of teardowns) d1=$(stat_of teardowns_done)
	show "pidns-guard status after the containers" pidns-guard status
	ok counters/teardowns "teardowns $1 -> $t1, teardowns_done $d1 (three held containers at least)" \
		"$( [ "${t1:-0}" -ge $(( $1 + 3 )) ] && [ "$d1" = "$t1" ]; echo $?)"
}

metrics() {
	local rc=0 out
	pidns-guard metrics --output /tmp/x.prom >>$log 2>&1 || rc=$?
	out=$(promtool check metrics </tmp/x.prom 2>&1) || rc=$((rc + 100))
	show "promtool check metrics" printf '%s\n' "$out"
	ok metrics/promtool "pidns-guard metrics --output /tmp/x.prom ($(grep -c '^pidns_guard' /tmp/x.prom) samples); promtool check metrics: ${out:-no complaint}" $rc
}

upgrade() {
	local rc=0 st
	show "apt-get install the upgrade" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y /var/cache/pidns-guard-e2e/upgrade/*.deb || rc=$?
	ok upgrade/apt-install "apt-get install linux-image-$UPGRADE linux-headers-$UPGRADE (offline .debs)" \
		"$( [ $rc = 0 ] && [ -f /boot/vmlinuz-"$UPGRADE" ] && [ -f /boot/initrd.img-"$UPGRADE" ]; echo $?)"
	st=$(dkms status pidns_guard -k "$UPGRADE" 2>/dev/null)
	show "dkms status" dkms status
	ok upgrade/dkms-built "dkms status: $st" \
		"$(grep -q ': installed' <<<"$st" && ls /lib/modules/"$UPGRADE"/updates/dkms/pidns_guard.ko* >/dev/null; echo $?)"
}

# The image installed release 0.1.0 (pidns-guard-dkms alone), the
# operator edited its conffile, then apt upgraded to today's two packages
# (image.sh): the unit is enabled still, the edit kept, DKMS holds today's
# module only, and this boot (module/*) is guarded by it.
upgraded_from_split() {
	local log pk dk
	log=$(grep -hE ' (install|upgrade) pidns-guard(-dkms)?:all ' /var/log/dpkg.log | awk '{ print $3, $4, $5, $6 }' | paste -sd';')
	pk=$(dpkg-query -W -f='${Version}' pidns-guard 2>&1) dk=$(dpkg-query -W -f='${Version}' pidns-guard-dkms 2>&1)
	ok boot1/upgraded "dpkg.log: $log; pidns-guard $pk, pidns-guard-dkms $dk; pidns-guard.service $(systemctl is-enabled pidns-guard.service); conffile edit $(grep -c '^# e2e: a line the operator added$' /etc/default/pidns-guard) line(s); dkms: $(dkms status pidns_guard | paste -sd';'); loaded $(cat /sys/module/pidns_guard/version 2>/dev/null)" \
		"$(grep -q 'upgrade pidns-guard-dkms:all 0.1.0 ' <<<"$log" && [ "$pk" = "$dk" ] && [ "$pk" != 0.1.0 ] &&
			[ "$(systemctl is-enabled pidns-guard.service)" = enabled ] &&
			grep -qx '# e2e: a line the operator added' /etc/default/pidns-guard &&
			! dkms status pidns_guard | grep -q '^pidns_guard/0\.1\.0' &&
			[ "$(cat /sys/module/pidns_guard/version)" = "$pk" ]; echo $?)"
}

# The first boot's work under docker (with or without Secure Boot):
# containers held stuck by each kind of holder and named, the counters
# and metrics after them, then the kernel upgrade.
docker_held_and_upgrade() {
	local t0
	before_docker
	docker_ready
	t0=$(stat_of teardowns)
	traced_holder
	zombie_traced_holder
	foreign_holder
	counters "${t0:-0}"
	metrics
	upgrade
}

# Boots 1 and 2 end in a clean poweroff whose ExecStop must remove the
# armed file (the host's breaker/shutdown-boot*): the settle timer, which
# removes it too after 10 minutes, is held off, for under emulation a
# boot can outlast it.
hold_settle() {
	systemctl stop pidns-guard-settle.timer
	note "pidns-guard-settle.timer stopped for this boot: only the poweroff's ExecStop may remove $BREAKER/armed"
}

boot1() {
	hold_settle
	booted boot1/systemd "$KERNEL" ""
	module_active "$KERNEL" module
	upgraded_from_split
	breaker_armed breaker/armed
	docker_held_and_upgrade
	echo 2 >$state/phase
}


# ---------------------------------------------------------------- crash-loop breaker
BREAKER=/var/lib/pidns-guard
PROM_FILE=/var/lib/prometheus/node-exporter/pidns_guard.prom
this_boot() { cat /proc/sys/kernel/random/boot_id; }
uptime_s() { cut -d. -f1 /proc/uptime; }
flat() { tr '\n' ' ' <"$1" 2>/dev/null; }

breaker_armed() {	# name: pidns-guard boot armed the breaker for this boot
	local a b
	a=$(flat $BREAKER/armed) b=$(this_boot)
	ok "$1" "$BREAKER/armed: ${a:-absent} (this boot $b on $(uname -r), up $(uptime_s) s); lockout: $( [ -e $BREAKER/lockout ] && echo present || echo none)" \
		"$(grep -q "^boot=$b kernel=$(uname -r) " <<<"$a" && [ ! -e $BREAKER/lockout ]; echo $?)"
}

# The sandboxed pidns-guard-metrics.service, run by its timer: succeeded,
# said nothing, wrote the file node_exporter reads.
metrics_service() {	# name what
	local r st trig out f
	r=$(systemctl show -P Result pidns-guard-metrics.service)
	st=$(systemctl show -P ExecMainStatus pidns-guard-metrics.service)
	trig=$(systemctl show -P LastTriggerUSecMonotonic pidns-guard-metrics.timer)
	out=$(journalctl -q -b _SYSTEMD_UNIT=pidns-guard-metrics.service -o cat --no-pager 2>/dev/null)
	f=$(stat -c '%a %U %y' $PROM_FILE 2>&1)
	show "$PROM_FILE" cat $PROM_FILE
	ok "$1" "$2: the timer last triggered at ${trig:-?} (monotonic), pidns-guard-metrics.service Result $r, exit ${st:-?}, ProtectSystem=$(systemctl show -P ProtectSystem pidns-guard-metrics.service), its output: ${out:-none}; $PROM_FILE: $f, $(grep -c '^pidns_guard' $PROM_FILE 2>/dev/null) samples, $(grep '^pidns_guard_state{.*} 1$' $PROM_FILE 2>/dev/null)" \
		"$( [ "$r" = success ] && [ "$st" = 0 ] && [ "${trig:-0}" != 0 ] && [ -z "$out" ] &&
		    grep -q "^pidns_guard_state{state=\"$3\"} 1$" $PROM_FILE; echo $?)"
}

# The timer's service has run once and the file is there.
timer_wrote() {
	[ -s $PROM_FILE ] && [ "$(systemctl show -P ExecMainExitTimestampMonotonic pidns-guard-metrics.service)" != 0 ]
}

metrics_timer_on() {
	local a
	show "systemctl enable --now pidns-guard-metrics.timer" systemctl enable --now pidns-guard-metrics.timer
	a="$(systemctl is-enabled pidns-guard-metrics.timer) $(systemctl is-active pidns-guard-metrics.timer) $(systemctl is-active pidns-guard-metrics-file.service)"
	ok metrics-timer/enabled "pidns-guard-metrics.timer is-enabled, is-active; pidns-guard-metrics-file.service is-active: $a" \
		"$( [ "$a" = "enabled active active" ]; echo $?)"
	# OnBootSec=1min is past: the timer elapses at once, then every minute
	wait_until 90 timer_wrote || true
	metrics_service metrics-timer/writes "under systemd $(systemctl --version | head -n 1 | cut -d' ' -f2)" loaded
}

boot2_breaker() {
	breaker_armed breaker/clean-reboot
}

# The crash phase, run by pidns-guard-e2e-crash.service (its flag file
# set by boot 2): the module loaded and the breaker armed for this boot,
# then the kernel crashes (sysrq c: panic; the host's QEMU runs with
# panic=-1 and -no-reboot, so the panic ends the boot).
crash() {
	local a b
	a=$(flat $BREAKER/armed) b=$(this_boot)
	ok crash/armed "pidns-guard.service $(systemctl is-active pidns-guard.service), $(lsmod | awk '$1 == "pidns_guard"' | tr -s ' '); $BREAKER/armed: ${a:-absent} (this boot $b, up $(uptime_s) s)" \
		"$(grep -q "^boot=$b kernel=$UPGRADE " <<<"$a" && [ -d /sys/module/pidns_guard ] &&
		   [ "$(systemctl is-active pidns-guard.service)" = active ]; echo $?)"
	echo "$b" >$state/crash-boot
	rm -f $state/crash
	echo lockout >$state/phase
	sync
	note "---- crashing the kernel in 5 s (echo c > /proc/sysrq-trigger), up $(uptime_s) s"
	printf 'E2E-CRASH %s\n' "$b" >/dev/ttyS1
	sleep 5
	sync
	echo c >/proc/sysrq-trigger
	sleep 60
}

# ---------------------------------------------------------------- Prometheus
api() { curl -sf -m 10 "http://127.0.0.1:9090$1"; }
RULES=/usr/share/pidns-guard/prometheus/pidns-guard.rules.yml

# Sets tg to Prometheus' targets ("URL HEALTH" lines); succeeds once one
# is up.
prom_scraping() {
	tg=$(api /api/v1/targets | jq -r '.data.activeTargets[] | "\(.scrapeUrl) \(.health)"' 2>/dev/null)
	grep -q ' up$' <<<"$tg"
}

# Debian's prometheus (its unit, /etc/prometheus/prometheus.yml: ours),
# started only in the phases that need it; ready, scraping node_exporter,
# the package's rules file loaded as installed.
prom_start() {	# prefix
	local t0 tg cfg rules dv
	t0=$(date +%s)
	systemctl start prometheus.service
	wait_until 180 prom_scraping || true
	cfg=$(api /api/v1/status/config | jq -r .data.yaml 2>/dev/null | grep -E 'scrape_interval|evaluation_interval|rules.yml' | sort -u | tr -s ' \n' '  ')
	ok "$1/prometheus" "$(prometheus --version 2>&1 | head -n 1): scraping after $(($(date +%s) - t0)) s: ${tg:-no target}; $(prometheus-node-exporter --version 2>&1 | head -n 1); config: $cfg" \
		"$(grep -q '^http://localhost:9100/metrics up$' <<<"$tg"; echo $?)"
	rules=$(api /api/v1/rules | jq -r '.data.groups[] | "\(.file) \(.name): \([.rules[].name] | join(" "))"' 2>/dev/null)
	# the files as shipped (the image edits the conffile, as an operator may)
	dv=$(dpkg --verify pidns-guard 2>&1 | grep -v ' c /etc/default/pidns-guard$')
	ok "$1/prom-rules" "/api/v1/rules: ${rules:-none}; dpkg --verify pidns-guard: ${dv:-nothing changed but the edited conffile}" \
		"$(grep -qxF "$RULES pidns_guard: PidnsGuardContainerStuck PidnsGuardStockTeardownStuck PidnsGuardAbsent PidnsGuardNextBootUnguarded PidnsGuardMetricsStale" <<<"$rules" &&
		   [ -z "$dv" ]; echo $?)"
}

prom_stop() {
	show "active alerts before stopping Prometheus" sh -c "curl -sf -m 10 http://127.0.0.1:9090/api/v1/alerts | jq -c '.data.alerts[] | {name: .labels.alertname, state, labels}'"
	systemctl stop prometheus.service
}

# The first alert NAME with label KEY=VALUE in /api/v1/alerts, as JSON.
alert_of() {	# name key value
	api /api/v1/alerts | jq -c --arg n "$1" --arg k "$2" --arg v "$3" \
		'[.data.alerts[] | select(.labels.alertname == $n and .labels[$k] == $v)][0] // empty' 2>/dev/null
}

# Waits until that alert is in a state matching STATES (regex); A_JSON,
# A_SECS (seconds waited).
wait_alert() {	# name key value states seconds
	local t0 j
	t0=$(date +%s) A_JSON=
	while :; do
		j=$(alert_of "$1" "$2" "$3")
		A_SECS=$(($(date +%s) - t0))
		if [ -n "$j" ] && grep -Eq "\"state\":\"($4)\"" <<<"$j"; then A_JSON=$j; return 0; fi
		[ "$A_SECS" -ge "$5" ] && { A_JSON=$j; return 1; }
		sleep 5
	done
}

# Waits until that alert has left /api/v1/alerts (resolved).
wait_alert_gone() {	# name key value seconds
	local t0
	t0=$(date +%s)
	while :; do
		A_SECS=$(($(date +%s) - t0))
		[ -z "$(alert_of "$1" "$2" "$3")" ] && return 0
		[ "$A_SECS" -ge "$4" ] && return 1
		sleep 5
	done
}

# The file the timer writes holds LINE (a fixed string), waited for.
wait_prom_line() {	# fixed-string seconds
	wait_until "$2" grep -qF -- "$1" $PROM_FILE 2>/dev/null
}

# ---------------------------------------------------------------- lockout boot
nohdr_install() {
	local rc=0 g
	show "apt-get install --no-install-recommends linux-image-$NOHDR (its headers not installed)" \
		env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		/var/cache/pidns-guard-e2e/nohdr/linux-image-"$NOHDR"_*.deb || rc=$?
	ok nextboot/apt-install "apt-get install linux-image-$NOHDR exit $rc: /boot/vmlinuz-$NOHDR $( [ -f /boot/vmlinuz-"$NOHDR" ] && echo present || echo absent), headers $(ls -d /usr/src/linux-headers-"$NOHDR" 2>/dev/null || echo none), dkms: $(dkms status -k "$NOHDR" 2>&1 | tr '\n' ' ')" \
		"$( [ $rc = 0 ] && [ -f /boot/vmlinuz-"$NOHDR" ] && [ ! -e /usr/src/linux-headers-"$NOHDR" ]; echo $?)"
	# the timer's next run (every minute) writes it
	g="pidns_guard_installed_kernel_guarded{kernel=\"$NOHDR\",built=\"no\",signed=\"no\"} 0"
	wait_prom_line "$g" 90
	ok nextboot/metrics "$PROM_FILE (by the timer): $(grep '^pidns_guard_installed_kernel_guarded' $PROM_FILE | tr '\n' ' '); pidns-guard status: $(pidns-guard status 2>&1 | grep '^next boot' | tr '\n' ' ')" \
		"$(grep -qxF "$g" $PROM_FILE &&
		   grep -q "^pidns_guard_installed_kernel_guarded{kernel=\"$UPGRADE\",built=\"yes\",signed=\"yes\"} 1$" $PROM_FILE; echo $?)"
}

lockout() {
	local cb lk j u out rc m
	booted lockout/systemd "$UPGRADE" "degraded pidns-guard.service " "after the crash"
	cb=$(cat $state/crash-boot 2>/dev/null) lk=$(flat $BREAKER/lockout)
	ok lockout/not-loaded "/sys/module/pidns_guard $( [ -d /sys/module/pidns_guard ] && echo present || echo absent); $BREAKER/lockout: ${lk:-absent} (the crashed boot: ${cb:-?}); armed: $(flat $BREAKER/armed)" \
		"$( [ ! -d /sys/module/pidns_guard ] && [ -n "$cb" ] && grep -q "^boot=$cb kernel=$UPGRADE " <<<"$lk" && [ ! -e $BREAKER/armed ]; echo $?)"
	j=$(journalctl -b -u pidns-guard.service -o cat --no-pager | grep -E '^pidns_guard( [0-9]|:)' | tail -n 1)
	ok lockout/journal "journal of pidns-guard.service: $j" \
		"$(grep -qF "pidns_guard: not loaded at boot (lockout): crash-loop breaker: boot $cb ($UPGRADE) ended abnormally within 10 minutes of loading pidns_guard, so it is not loaded at boot; to fix: " <<<"$j" &&
		   grep -qF "re-arm with 'pidns-guard rearm'" <<<"$j"; echo $?)"
	u=$(systemctl is-failed pidns-guard.service)
	ok lockout/unit-failed "systemctl is-failed pidns-guard: $u" "$( [ "$u" = failed ]; echo $?)"
	rc=0
	out=$(pidns-guard status 2>&1) || rc=$?
	show "pidns-guard status (exit $rc)" printf '%s\n' "$out"
	ok lockout/status "pidns-guard status exit $rc: $out" \
		"$( [ $rc = 3 ] && grep -qF "not loaded on $UPGRADE (lockout): crash-loop breaker: boot $cb " <<<"$out" &&
		    grep -qF "re-arm with 'pidns-guard rearm'" <<<"$out"; echo $?)"
	m=$(pidns-guard metrics 2>&1 | awk '/^pidns_guard_state\{/ && $2 == 1' | tr '\n' ' ')
	wait_prom_line 'pidns_guard_state{state="lockout"} 1' 90
	ok lockout/metrics "pidns-guard metrics: state ${m:-none at 1}; $PROM_FILE (the timer's): $(grep '^pidns_guard_state{.*} 1$' $PROM_FILE)" \
		"$( [ "$m" = 'pidns_guard_state{state="lockout"} 1 ' ] && grep -qxF 'pidns_guard_state{state="lockout"} 1' $PROM_FILE; echo $?)"
	nohdr_install
	prom_start lockout
	wait_alert PidnsGuardAbsent state lockout 'pending|firing' 120
	ok prom/absent-alert "PidnsGuardAbsent after ${A_SECS} s: ${A_JSON:-not in /api/v1/alerts}" $?
	wait_alert PidnsGuardNextBootUnguarded kernel "$NOHDR" 'pending|firing' 120
	ok prom/nextboot-alert "PidnsGuardNextBootUnguarded after ${A_SECS} s (its for: is 30m: pending is as far as this boot goes): ${A_JSON:-not in /api/v1/alerts}" $?
	prom_stop
	rc=0
	out=$(pidns-guard rearm 2>&1) || rc=$?
	ok lockout/rearm "pidns-guard rearm exit $rc: $out; $BREAKER/lockout $( [ -e $BREAKER/lockout ] && echo present || echo absent)" \
		"$( [ $rc = 0 ] && [ ! -e $BREAKER/lockout ]; echo $?)"
	echo rearmed >$state/phase
}

# ---------------------------------------------------------------- rearmed boot
# A container held stuck (its child a zombie of a tracer that never
# waits, as ptrace/*) until Prometheus fires PidnsGuardContainerStuck
# (stuck > 300 s for 1m) for it, then released: the alert resolves.
alert_stuck() {
	local init child tpid id t0 ser pend fire gone
	docker image inspect e2e-busybox >/dev/null 2>&1 ||
		docker import /var/cache/pidns-guard-e2e/busybox.tar e2e-busybox >/dev/null
	ptraced_container e2e-alert stuck/container
	t0=$(date +%s)
	stop_blocked e2e-alert
	ok stuck/held "$STOP_DETAIL" $?
	# pidns-guard-metrics.timer's next runs put it in the file (30 s and older)
	wait_prom_line 'container="e2e-alert"' 150
	ser=$(grep -F 'container="e2e-alert"' $PROM_FILE)
	ok stuck/series "$(($(date +%s) - t0)) s after docker stop: $ser" \
		"$(grep -q "^pidns_guard_stuck_teardown_age_seconds{.*engine=\"docker\",container=\"e2e-alert\",container_id=\"$id\"} " <<<"$ser"; echo $?)"
	wait_alert PidnsGuardContainerStuck container e2e-alert 'pending|firing' 480
	pend="pending at $(($(date +%s) - t0)) s"
	wait_alert PidnsGuardContainerStuck container e2e-alert firing 240
	fire=$?
	ok stuck/alert-fires "PidnsGuardContainerStuck from /api/v1/alerts: $pend, firing at $(($(date +%s) - t0)) s after docker stop: ${A_JSON:-none}" \
		"$( [ $fire = 0 ] && grep -q '"engine":"docker"' <<<"$A_JSON"; echo $?)"
	show "pidns-guard stuck (held for the alert)" pidns-guard stuck
	kill -KILL $tpid
	wait $tpid 2>/dev/null
	t0=$(date +%s)
	stop_finished e2e-alert
	gone=1
	wait_alert_gone PidnsGuardContainerStuck container e2e-alert 180 && gone=0
	ok stuck/alert-resolves "after kill -KILL $tpid (pgtracer): $STOP_DETAIL; the alert left /api/v1/alerts $(($(date +%s) - t0)) s after the release; the file: $(grep -cF 'container="e2e-alert"' $PROM_FILE) e2e-alert series" \
		"$( [ $gone = 0 ] && ! grep -qF 'container="e2e-alert"' $PROM_FILE; echo $?)"
}

# pidns-guard-settle.timer (OnBootSec=10min) runs pidns-guard-settle.service,
# which removes this boot's armed file: waited for, in this boot that
# lasts more than 10 minutes.
settle_wait() {
	local trig ran
	while [ "$(uptime_s)" -lt 780 ]; do
		ran=$(systemctl show -P ExecMainExitTimestampMonotonic pidns-guard-settle.service)
		[ "${ran:-0}" != 0 ] && break
		sleep 5
	done
	# the service's start and end in microseconds since boot (the timer's
	# LastTriggerUSecMonotonic is printed as a time span, "10min 307ms")
	trig=$(systemctl show -P ExecMainStartTimestampMonotonic pidns-guard-settle.service)
	ran=$(systemctl show -P ExecMainExitTimestampMonotonic pidns-guard-settle.service)
	case $trig$ran in *[!0-9]*) note "settle times not numbers: start '$trig', end '$ran'"; trig=0 ran=0 ;; esac
	ok breaker/settle "pidns-guard-settle.timer $(systemctl is-enabled pidns-guard-settle.timer), its service started at $((${trig:-0} / 1000000)) s after boot (OnBootSec=10min); pidns-guard-settle.service $(systemctl show -P Result pidns-guard-settle.service), done at $((${ran:-0} / 1000000)) s; $BREAKER/armed $( [ -e $BREAKER/armed ] && echo present || echo absent) (up $(uptime_s) s)" \
		"$( [ "${trig:-0}" -ge 600000000 ] && [ "${ran:-0}" -ge 600000000 ] && [ ! -e $BREAKER/armed ] &&
		    [ "$(systemctl show -P Result pidns-guard-settle.service)" = success ]; echo $?)"
}

# The metrics file lives as long as the timer: disable --now removes it,
# enable --now writes it again.
metrics_file_life() {
	local before a t0
	before=$( [ -s $PROM_FILE ] && echo present || echo absent)
	show "systemctl disable --now pidns-guard-metrics.timer" systemctl disable --now pidns-guard-metrics.timer
	a="$(systemctl is-enabled pidns-guard-metrics.timer) $(systemctl is-active pidns-guard-metrics.timer) $(systemctl is-active pidns-guard-metrics-file.service)"
	ok metrics-file/disable "before: $PROM_FILE $before; after systemctl disable --now pidns-guard-metrics.timer: $( [ -e $PROM_FILE ] && echo present || echo absent) (timer is-enabled, is-active, pidns-guard-metrics-file.service is-active: $a)" \
		"$( [ "$before" = present ] && [ ! -e $PROM_FILE ] && [ "$a" = "disabled inactive inactive" ]; echo $?)"
	show "systemctl enable --now pidns-guard-metrics.timer" systemctl enable --now pidns-guard-metrics.timer
	t0=$(date +%s)
	wait_until 60 test -s $PROM_FILE || true
	ok metrics-file/enable "systemctl enable --now pidns-guard-metrics.timer: $PROM_FILE $( [ -s $PROM_FILE ] && echo "written again after $(($(date +%s) - t0)) s" || echo absent)" \
		"$( [ -s $PROM_FILE ]; echo $?)"
}

rearmed() {
	booted rearm/systemd "$UPGRADE" "running " "after 'pidns-guard rearm'"
	module_active "$UPGRADE" rearm/module
	breaker_armed rearm/armed
	# the timer's first run in this boot (OnBootSec=1min)
	while [ "$(systemctl show -P LastTriggerUSecMonotonic pidns-guard-metrics.timer)" = 0 ] && [ "$(uptime_s)" -lt 150 ]; do sleep 2; done
	while [ "$(systemctl show -P ExecMainExitTimestampMonotonic pidns-guard-metrics.service)" = 0 ] && [ "$(uptime_s)" -lt 180 ]; do sleep 2; done
	metrics_service metrics-timer/boot "at boot (OnBootSec=1min)" loaded
	prom_start rearm
	alert_stuck
	prom_stop
	settle_wait
	metrics_file_life
	purge
	echo 3 >$state/phase
}

# ---------------------------------------------------------------- boot 2
purge() {
	local rc=0 left before
	before=$( [ -e $PROM_FILE ] && echo present || echo absent)
	show "apt-get purge pidns-guard-dkms pidns-guard" env DEBIAN_FRONTEND=noninteractive \
		apt-get purge -y pidns-guard-dkms pidns-guard || rc=$?
	ok purge/apt "apt-get purge -y pidns-guard-dkms pidns-guard exit $rc" \
		"$( [ $rc = 0 ] && ! dpkg-query -W pidns-guard-dkms >/dev/null 2>&1 && ! dpkg-query -W pidns-guard >/dev/null 2>&1; echo $?)"
	left=$(find /lib/modules/ /usr/lib/modules/ -name 'pidns_guard.ko*' 2>/dev/null)
	ok purge/no-module "no pidns_guard.ko* under /lib/modules${left:+: left $left}" "$( [ -z "$left" ]; echo $?)"
	left=$(ls -d /var/lib/dkms/pidns_guard /usr/src/pidns_guard-* 2>/dev/null)
	ok purge/no-dkms "no /var/lib/dkms/pidns_guard, no /usr/src/pidns_guard-*${left:+: left $left}" "$( [ -z "$left" ]; echo $?)"
	left=$(find /lib/systemd/system /usr/lib/systemd/system /etc/systemd/system \
		/var/lib/systemd/deb-systemd-helper-enabled -name 'pidns-guard*' ! -name 'pidns-guard-e2e*' 2>/dev/null)
	ok purge/no-units "no pidns-guard units, .wants links or deb-systemd-helper state${left:+: left $left}" "$( [ -z "$left" ]; echo $?)"
	left=$(ls -d /etc/default/pidns-guard /usr/sbin/pidns-guard /usr/share/man/man8/pidns-guard.8.gz 2>/dev/null)
	ok purge/no-files "no /etc/default/pidns-guard, command or man page${left:+: left $left}" "$( [ -z "$left" ]; echo $?)"
	# README.md "Removing it": a loaded module stays loaded until the next boot.
	ok purge/stays-loaded "module still loaded after purge, as README documents (until the next boot)" \
		"$( [ -d /sys/module/pidns_guard ]; echo $?)"
	ok purge/no-metrics-file "$PROM_FILE $before before the purge (the timer enabled), $( [ -e $PROM_FILE ] && echo present || echo absent) after; $BREAKER $( [ -e $BREAKER ] && echo present || echo absent)" \
		"$( [ "$before" = present ] && [ ! -e $PROM_FILE ] && [ ! -e $BREAKER ]; echo $?)"
}

boot2() {
	hold_settle
	booted boot2/systemd "$UPGRADE" ""
	module_active "$UPGRADE" upgrade/module
	boot2_breaker
	metrics_timer_on
	# the next boot crashes (pidns-guard-e2e-crash.service's flag)
	touch $state/crash
	echo crash >$state/phase
}

# ---------------------------------------------------------------- boot 3
boot3() {
	local u
	systemctl is-system-running --wait >/dev/null 2>&1
	u=$(systemctl show -P LoadState pidns-guard.service)
	ok boot3/not-loaded "after purge and reboot: /sys/module/pidns_guard absent, pidns-guard.service $u" \
		"$( [ ! -d /sys/module/pidns_guard ] && [ "$u" = not-found ]; echo $?)"
	echo finished >$state/phase
}

# ---------------------------------------------------------------- Secure Boot
ENROLL="mokutil --import /var/lib/dkms/mok.pub"

# PREFIX: the system is up; with the guard refused (degraded, only
# pidns-guard.service failed) or active (running).
sb_systemd() {	# prefix refused|active ABI
	local want="running "
	[ "$2" = refused ] && want="degraded pidns-guard.service "
	booted "$1/systemd" "$3" "$want" "through shim and grub"
}

sb_state() {	# prefix lockdown-level
	local sb lock
	sb=$(mokutil --sb-state 2>&1 | head -n 1)
	lock=$(cat /sys/kernel/security/lockdown 2>&1)
	show "mokutil --sb-state; lockdown" printf '%s\n' "$sb" "$lock" "$(cat /proc/cmdline)"
	ok "$1/secureboot" "mokutil --sb-state: $sb; /sys/kernel/security/lockdown: $lock" \
		"$(grep -q '^SecureBoot enabled' <<<"$sb" && grep -q "\[$2\]" <<<"$lock"; echo $?)"
}

# The refusal named where the operator looks: status, the unit's journal
# line, a failed unit, the metrics, the kernel's own line.
sb_refused() {	# prefix state remedy-fragment kernel-line
	local out rc=0 j u m k
	out=$(pidns-guard status 2>&1) || rc=$?
	show "pidns-guard status (exit $rc)" printf '%s\n' "$out"
	ok "$1/status" "pidns-guard status exit $rc: $out" \
		"$( [ $rc = 3 ] && grep -qF "not loaded on $(uname -r) ($2): " <<<"$out" && grep -qF -- "$3" <<<"$out" &&
		    grep -qF -- "$ENROLL" <<<"$out" && grep -q '^lockdown: integrity' <<<"$out"; echo $?)"
	j=$(journalctl -b -u pidns-guard.service -o cat --no-pager | grep -E '^pidns_guard( [0-9]|:)' | tail -n 1)
	ok "$1/journal" "journal of pidns-guard.service: $j" \
		"$(grep -qF "pidns_guard: not loaded at boot ($2): " <<<"$j" && grep -qF -- "$3" <<<"$j" && grep -qF -- "$ENROLL" <<<"$j"; echo $?)"
	u=$(systemctl is-failed pidns-guard.service)
	ok "$1/unit-failed" "systemctl is-failed pidns-guard: $u" "$( [ "$u" = failed ]; echo $?)"
	m=$(pidns-guard metrics 2>&1 | awk '/^pidns_guard_state\{/ && $2 == 1' | tr '\n' ' ')
	ok "$1/metrics" "pidns-guard metrics: state ${m:-none at 1}" \
		"$( [ "$m" = "pidns_guard_state{state=\"$2\"} 1 " ]; echo $?)"
	k=$(dmesg | grep -F -- "$4" | tail -n 1)
	ok "$1/kernel-log" "the kernel's line: ${k:-none with \"$4\"}" "$( [ -n "$k" ]; echo $?)"
}

sb_rejected() {
	local signer subj t
	sb_systemd sb-rejected refused "$KERNEL"
	sb_state sb-rejected integrity
	# DKMS signed the module at the package's install (openssl there):
	# with its own key, made by that install.
	signer=$(modinfo -F signer pidns_guard 2>&1)
	# "subject=CN = X" (openssl 3.0, bookworm) or "subject=CN=X" (3.5, trixie)
	subj=$(openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -subject 2>&1)
	subj=${subj// = /=}
	t=$(mokutil --test-key /var/lib/dkms/mok.pub 2>&1)
	show "DKMS's key" ls -l /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	ok sb-rejected/dkms-signed "$(modinfo -n pidns_guard): signer '$signer'; /var/lib/dkms/mok.pub: $subj; mokutil --test-key: $t" \
		"$( [ -n "$signer" ] && [ -s /var/lib/dkms/mok.key ] && grep -qF "CN=$signer" <<<"$subj" &&
		    grep -q 'is not enrolled' <<<"$t"; echo $?)"
	sb_refused sb-rejected key-rejected "$ENROLL" "Loading of module with unavailable key is rejected"
	echo sb-enrolled >$state/phase
}

sb_enrolled() {
	local t out
	sb_systemd sb-enrolled active "$KERNEL"
	sb_state sb-enrolled integrity
	t=$(mokutil --test-key /var/lib/dkms/mok.pub 2>&1)
	ok sb-enrolled/moklist "mokutil --test-key /var/lib/dkms/mok.pub: $t; keys: $(grep -c 'DKMS module signing key' /proc/keys) DKMS key(s) in /proc/keys" \
		"$(grep -q 'is already enrolled' <<<"$t"; echo $?)"
	module_active "$KERNEL" module
	out=$(pidns-guard status 2>&1)
	ok sb-enrolled/status-lockdown "pidns-guard status: $(grep '^lockdown:' <<<"$out")" \
		"$(grep -q '^lockdown: integrity (Secure Boot)' <<<"$out"; echo $?)"
	docker_held_and_upgrade
	# the new kernel's module: signed by DKMS with the same, enrolled key
	local k0 k1 s1
	k0=$(modinfo -F sig_key -k "$KERNEL" pidns_guard 2>/dev/null)
	k1=$(modinfo -F sig_key -k "$UPGRADE" pidns_guard 2>/dev/null)
	s1=$(modinfo -F signer -k "$UPGRADE" pidns_guard 2>/dev/null)
	ok sb-enrolled/upgrade-signed "$(modinfo -n -k "$UPGRADE" pidns_guard 2>&1): signer '$s1', key ${k1:-none} (the $KERNEL module's: ${k0:-none})" \
		"$( [ -n "$k1" ] && [ "$k1" = "$k0" ] && [ -n "$s1" ]; echo $?)"
	echo sb-confidentiality >$state/phase
}

# The module's appended signature (scripts/sign-file): PKCS#7 of sig_len
# bytes, struct module_signature (12 bytes, sig_len a big-endian u32 at
# offset 8), the 28-byte trailer "~Module signature appended~\n".  Cut
# off; a .ko.xz decompressed first and compressed again as kbuild does.
strip_signature() {	# module file
	local ko=$1 raw=/tmp/pg-strip.ko size len
	case $ko in
	*.xz) xz -dc "$ko" >$raw ;;
	*.zst) zstd -qdc "$ko" >$raw ;;
	*) cp "$ko" $raw ;;
	esac || return 1
	[ "$(tail -c 28 $raw | head -c 27)" = "~Module signature appended~" ] || return 1
	size=$(stat -c %s $raw)
	len=$(tail -c 40 $raw | head -c 12 | od -An -tu1 -j8 -N4 | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
	[ "${len:-0}" -gt 0 ] && [ "$len" -lt "$size" ] || return 1
	truncate -s $((size - 40 - len)) $raw
	case $ko in
	*.xz) xz --check=crc32 --lzma2=dict=1MiB -c $raw >"$ko.new" ;;
	*.zst) zstd -q -c $raw >"$ko.new" ;;
	*) cp $raw "$ko.new" ;;
	esac && mv -f "$ko.new" "$ko"
}

sb_confidentiality() {
	local out m n ko signer
	sb_systemd sb-confidentiality active "$UPGRADE"
	sb_state sb-confidentiality confidentiality
	module_active "$UPGRADE" sb-confidentiality/module
	n=$(dmesg | grep -F 'pidns_guard: the kernel is locked down (confidentiality): tracefs is closed' | tail -n 1)
	ok sb-confidentiality/module-says "the module's load line: ${n:-none}" "$( [ -n "$n" ]; echo $?)"
	out=$(pidns-guard status 2>&1)
	ok sb-confidentiality/status-lockdown "pidns-guard status: $(grep '^lockdown:' <<<"$out")" \
		"$(grep -q '^lockdown: confidentiality: tracefs is closed' <<<"$out"; echo $?)"
	m=$(pidns-guard metrics 2>&1 | awk '/^pidns_guard_state\{/ && $2 == 1 || /^pidns_guard_loaded /' | tr '\n' ' ')
	ok sb-confidentiality/metrics "pidns-guard metrics: $m" \
		"$( [ "$m" = 'pidns_guard_state{state="loaded"} 1 pidns_guard_loaded 1 ' ]; echo $?)"
	ko=$(modinfo -n pidns_guard)
	strip_signature "$ko"
	signer=$(modinfo -F signer pidns_guard 2>&1)
	show "the module after stripping its signature" modinfo pidns_guard
	ok sb-confidentiality/strip "$ko: the appended signature cut off, modinfo signer now '${signer}'" \
		"$( [ -z "$signer" ] && modinfo -F vermagic pidns_guard | grep -q "^$(uname -r) "; echo $?)"
	echo sb-unsigned >$state/phase
}

sb_unsigned() {
	sb_systemd sb-unsigned refused "$UPGRADE"
	sb_state sb-unsigned integrity
	sb_refused sb-unsigned unsigned "install openssl, rebuild it with 'dkms autoinstall -k $(uname -r) --force' so that DKMS signs it" \
		"Loading of unsigned module is rejected"
	echo finished >$state/phase
}

if [ "${1:-}" = crash ]; then	# pidns-guard-e2e-crash.service
	note "---- pidns-guard-e2e crash unit on $(uname -r)"
	crash
	exit 1
fi
note "---- pidns-guard-e2e boot $phase on $(uname -r)"
case $phase in
1) boot1 ;;
2) boot2 ;;
crash) note "pidns-guard-e2e-crash.service ends this boot"; exit 0 ;;
lockout) lockout ;;
rearmed) rearmed ;;
3) boot3 ;;
sb-rejected) sb_rejected ;;
sb-enrolled) sb_enrolled ;;
sb-confidentiality) sb_confidentiality ;;
sb-unsigned) sb_unsigned ;;
engines) . /usr/local/lib/pidns-guard-e2e/engines.sh; engines; echo cgroupv1 >$state/phase ;;
fleet1) . /usr/local/lib/pidns-guard-e2e/fleet.sh; fleet1 ;;
fleet2) . /usr/local/lib/pidns-guard-e2e/fleet.sh; fleet2 ;;
fleet3) . /usr/local/lib/pidns-guard-e2e/fleet.sh; fleet3 ;;
cgroupv1) . /usr/local/lib/pidns-guard-e2e/engines.sh; engines_v1 ;;
*) note "nothing to do in phase $phase" ;;
esac
finish
